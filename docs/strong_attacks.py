"""The codelab's attacks beside LiRA and RMIA, per model at the last report epoch: the table of docs/strong_attacks.md.

    python docs/strong_attacks.py digits-strong
    python docs/strong_attacks.py cifar10-quick-strong --dataset imagefolder:../shared/datasets/cifar10
    python docs/strong_attacks.py digits-strong --references 2 4 8 16   # the same references, fewer used

Trains each model and its reference models once (cached under
``.pytest_cache/d/privacy_checks``, so a second run, or one with fewer
references, trains nothing), runs every attack of the profile on every
report epoch and prints, per model at the last report epoch, AUC and TPR at
0.1 % and 1 % FPR with their 95 % bootstrap intervals, which examples each
attack scored, K, and what training the references cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from privacy_checks.judge.session import PrivacyRun  # noqa: E402
from privacy_checks.run.settings import Settings  # noqa: E402
from privacy_checks.spec.cases import BASELINE, cases  # noqa: E402
from privacy_checks.spec.registry import get_profile  # noqa: E402
from privacy_checks.spec.vocabulary import ENTIRE_DATASET, REFERENCE_ATTACKS  # noqa: E402


def measure(profile, dataset: str | None, cache: Path, progress) -> PrivacyRun:
    if dataset:
        profile = dataclasses.replace(profile, dataset=dataset)
    settings = Settings(
        profile=profile, baselines_dir=ROOT / "baselines", report_dir=cache / "report", cache_dir=cache
    )
    run = PrivacyRun(settings, progress=progress)
    last = profile.report_epochs[-1]
    selected = [c for c in cases(profile) if c.check == BASELINE and c.slice == ENTIRE_DATASET and c.epoch == last]
    run.plan(selected)
    for case in selected:
        run.record(case)
    return run


def table(run: PrivacyRun, seconds: dict[str, float]) -> list[str]:
    profile = run.profile
    last = profile.report_epochs[-1]
    lines = [
        "| model | train / test acc | attack | K | scored (members / non-members) | AUC | TPR@0.1% | TPR@1% |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in profile.models:
        snapshot = run.training(spec.name).at(last)
        for attack in profile.attacks:
            record = run.runner.record(run_key(spec.name, last, attack))
            if record is None:
                continue

            def cell(name: str) -> str:
                lo, hi = record.intervals[name]
                return f"{record.metric(name):.3f} [{lo:.3f}, {hi:.3f}]"

            k = profile.reference_models.get(attack, 0)
            lines.append(
                f"| {spec.name} | {snapshot.train_accuracy:.3f} / {snapshot.test_accuracy:.3f} | {attack} | "
                f"{k or '-'} | {record.members} / {record.non_members} | {cell('auc')} | "
                f"{cell('tpr_at_fpr_0.001')} | {cell('tpr_at_fpr_0.01')} |"
            )
    lines.append("")
    lines += [f"- {model}: {text}" for model, text in seconds.items()]
    return lines


def run_key(model: str, epoch: int, attack: str):
    from privacy_checks.spec.cases import CaseKey

    return CaseKey(model, epoch, attack, ENTIRE_DATASET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="e.g. digits-strong, cifar10-quick-strong")
    parser.add_argument("--dataset", help="another data source, e.g. imagefolder:../shared/datasets/cifar10")
    parser.add_argument("--references", type=int, nargs="*", help="also with only the first K references")
    parser.add_argument("--cache", type=Path, default=ROOT / ".pytest_cache" / "d" / "privacy_checks")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    seconds: dict[str, str] = {}

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        model, _, rest = line.partition(": done at ")
        if rest:
            seconds[model] = rest

    for k in [profile.references, *(args.references or [])]:
        chosen = dataclasses.replace(
            profile, reference_models={a: k for a in profile.attacks if a in REFERENCE_ATTACKS}
        )
        start = time.perf_counter()
        run = measure(chosen, args.dataset, args.cache, progress)
        print(f"\n## {profile.name}, K = {k} ({time.perf_counter() - start:.0f} s here)\n")
        print("\n".join(table(run, seconds)))
        seconds.clear()


if __name__ == "__main__":
    main()
