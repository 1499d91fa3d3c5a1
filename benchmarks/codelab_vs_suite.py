"""The codelab against the suite on the same data and recipe: wall times, their ratio, and agreement.

    python benchmarks/codelab_vs_suite.py [--profile digits --profile cifar10-quick]
        [--cifar10 ../shared/datasets/cifar10] [--runs 3]

For each profile and run, two processes, one after the other, each timed
from start to exit (imports, data, training, attacks, plots):

* ``codelab``: ``benchmarks/codelab.py``, the codelab's code as it writes it
  (its callback predicts at batch 50 and runs TF Privacy's attacks in
  the training process; ``validation_data`` on every epoch);
* ``suite``: ``pytest -m privacy`` on the profile, cold (``--privacy-no-cache``),
  limited with ``-k`` to the models the codelab trains (no DP-SGD model),
  with every extra metric (TPR at low FPR, bootstrap intervals, epsilon
  bounds, the HTML report).

The two train their models each their own way, so their metrics are
compared on one shared snapshot instead (the first model after 2 epochs:
the same logits and float64 probabilities, attacked with the same seed): the
suite, with its extras, must give the codelab's AUC and attacker advantage on
every slice. (The codelab's float32 softmax alone moves the trained attack's
AUC by up to 4e-3 on ``cifar10-quick``.)
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import codelab  # noqa: E402  (benchmarks/codelab.py, beside this file)


def timed(command: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done.returncode


def codelab_command(profile: str, dataset: str | None, out: Path) -> list[str]:
    command = [sys.executable, str(ROOT / "benchmarks" / "codelab.py"), "--profile", profile, "--out", str(out)]
    return command + (["--dataset", dataset] if dataset else [])


def suite_command(profile: str, dataset: str | None, out: Path) -> list[str]:
    from privacy_checks.spec.registry import get_profile

    dp_models = [spec.name for spec in get_profile(profile).models if spec.dp is not None]
    command = [
        sys.executable, "-m", "pytest", "-m", "privacy", "-q", "-p", "no:cacheprovider",
        "--privacy-no-cache", f"--privacy-profile={profile}", f"--privacy-report-dir={out}",
    ]
    if dp_models:
        command += ["-k", " and ".join(f"not {name}" for name in dp_models)]
    return command + ([f"--privacy-dataset={dataset}"] if dataset else [])


def agreement(profile_name: str, dataset: str | None) -> float:
    """Largest |suite - codelab| of AUC and advantage over all attacks and slices of one snapshot."""
    from scipy import special
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        PrivacyReportMetadata,
    )

    from privacy_checks.attack.codelab import evaluate, seeded_global_numpy
    from privacy_checks.attack.records import short_attack_name, slice_name
    from privacy_checks.data import load
    from privacy_checks.spec.registry import get_profile
    from privacy_checks.spec.vocabulary import derive_seed
    from privacy_checks.train import fit

    profile = get_profile(profile_name)
    if dataset:
        profile = dataclasses.replace(profile, dataset=dataset)
    data = load.load(profile)
    spec = profile.models[0]
    model = codelab.small_cnn(profile.input_shape, profile.num_classes, spec.num_conv, padding=profile.padding)
    model.fit(data.x_members, np.eye(profile.num_classes)[data.y_members], batch_size=profile.batch_size,
              epochs=2, verbose=0)
    snapshot = fit.take_snapshot(model, data, spec.name, 2)
    ours = evaluate(snapshot, profile)
    with seeded_global_numpy(derive_seed(profile.seed, "attack", spec.name, 2)):
        theirs = codelab.attack(
            special.softmax(snapshot.logits_members.astype(np.float64), axis=1),
            special.softmax(snapshot.logits_non_members.astype(np.float64), axis=1),
            data.y_members, data.y_non_members, PrivacyReportMetadata(epoch_num=2),
        )
    expected = {
        (short_attack_name(r.attack_type), slice_name(r.slice_spec)): (r.get_auc(), r.get_attacker_advantage())
        for r in theirs.single_attack_results
    }
    found = {(r.attack, r.slice): (r.auc, r.attacker_advantage) for r in ours.records}
    if found.keys() != expected.keys():
        raise SystemExit(f"{profile_name}: the suite attacked {sorted(found)}, the codelab {sorted(expected)}")
    return max(abs(a - b) for key in found for a, b in zip(found[key], expected[key]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", help="digits and cifar10-quick by default")
    parser.add_argument("--cifar10", type=Path, default=ROOT.parent / "shared" / "datasets" / "cifar10",
                        help="CIFAR-10 in ImageFolder layout, for cifar10-quick")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    profiles = args.profile or ["digits", "cifar10-quick"]
    print("| profile | run | codelab (s) | suite (s) | suite / codelab |")
    print("| --- | --- | --- | --- | --- |")
    summary = []
    for profile in profiles:
        dataset = f"imagefolder:{args.cifar10.resolve()}" if profile.startswith("cifar10") else None
        ratios = []
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as tmp:
                theirs, theirs_rc = timed(codelab_command(profile, dataset, Path(tmp, "codelab")))
                ours, ours_rc = timed(suite_command(profile, dataset, Path(tmp, "suite")))
            if theirs_rc:
                raise SystemExit(f"{profile}: benchmarks/codelab.py exited with {theirs_rc}")
            note = "" if ours_rc == 0 else f" (pytest exit {ours_rc}: checks failed, time still counts)"
            ratios.append(ours / theirs)
            print(f"| {profile} | {run} | {theirs:.1f} | {ours:.1f} | {ours / theirs:.2f}{note} |", flush=True)
        difference = agreement(profile, dataset)
        summary.append(
            f"{profile}: suite / codelab {statistics.mean(ratios):.2f} on average "
            f"({min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} runs); on a shared snapshot "
            f"AUC and attacker advantage agree within {difference:.1e}"
        )
        if difference > 1e-6:
            raise SystemExit(summary[-1] + ": they must agree")
    print()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
