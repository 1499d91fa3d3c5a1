"""Measures how well calibrated checks catch injected privacy regressions, and how often they cry wolf.

    python docs/detection_power.py [--calibration-seeds 5] [--seeds 2001 2002 2003] [--work DIR]
    python docs/detection_power.py --strong 16 --work detection-power-strong   # + LiRA and RMIA, K = 16

1. Records calibrated baselines for :func:`privacy_checks.judge.power.digits_study`
   (digits, 2-layer model, reports at epochs 50, 100, 200) over N seeds.
2. Runs each injected regression of :data:`privacy_checks.judge.power.REGRESSIONS`,
   the changes of :data:`~privacy_checks.judge.power.OTHER_CHANGES`, and a harmless
   change (only the seed differs), once per seed.
3. Prints, as Markdown: the calibrated spread and the tolerance in force per
   metric, and per run which checks failed.

Results are cached under ``--work``, so a second run only re-prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from privacy_checks.judge import tolerances
from privacy_checks.judge.power import OTHER_CHANGES, REGRESSIONS, digits_study, run_all
from privacy_checks.judge.verdicts import Status
from privacy_checks.run.settings import Settings
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import ENTIRE_DATASET, REFERENCE_ATTACKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibration-seeds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2001, 2002, 2003])
    parser.add_argument("--work", type=Path, default=Path("detection-power"))
    parser.add_argument(
        "--strong", type=int, metavar="K",
        help="add offline and online LiRA and RMIA with K reference models (even) to the study",
    )
    args = parser.parse_args()
    study = digits_study()
    if args.strong:
        study = dataclasses.replace(
            study,
            attacks=(*study.tf_privacy_attacks, *REFERENCE_ATTACKS),
            reference_models={attack: args.strong for attack in REFERENCE_ATTACKS},
        )

    def settings(profile, **extra) -> Settings:
        return Settings(
            profile=profile,
            baselines_dir=args.work / "baselines",
            report_dir=args.work / "report",
            cache_dir=args.work / "cache",
            **extra,
        )

    run_all(settings(study, update_baselines=True, calibrate=args.calibration_seeds))
    variants = {"another seed (harmless)": lambda p: p, **REGRESSIONS, **OTHER_CHANGES}
    outcomes = {
        (name, seed): run_all(settings(change(study).with_seed(seed)))
        for name, change in variants.items()
        for seed in args.seeds
    }

    print(f"### Calibrated spread and tolerance ({args.calibration_seeds} seeds)\n")
    print("| attack | slice | metric | seed sd (pooled) | tolerance: median [min, max] |")
    print("| --- | --- | --- | --- | --- |")
    spread, tolerance = defaultdict(list), defaultdict(list)
    harmless = [run for (name, _), run in outcomes.items() if name.startswith("another")]
    baseline = harmless[0].loaded_baselines()["2_layers"]
    for entry in baseline.entries.values():
        for metric, sd in entry.seed_sd.items():
            spread[(entry.attack, tolerances.slice_kind(entry.slice), metric)].append(sd)
    for run in harmless:
        for key, comparison in run.comparisons.items():
            attack, slice_name = key.attack, key.slice
            for check in comparison.checks:
                tolerance[(attack, tolerances.slice_kind(slice_name), check.metric)].append(check.tolerance)
    for group in sorted(spread):
        values = tolerance[group]
        print(
            f"| {group[0]} | {group[1]} | {group[2]} | {tolerances.pooled(spread[group]):.4f} | "
            f"{statistics.median(values):.4f} [{min(values):.4f}, {max(values):.4f}] |"
        )

    print("\n### Outcomes\n")
    print(
        "| change | seed | verdict | failed checks | failed metrics (count) | entire-dataset checks failed, "
        "by attack (of the report epochs) | AUC at epoch 200, entire dataset, by attack: obtained - baseline (tolerance) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    last_epoch = study.report_epochs[-1]
    for (name, seed), run in outcomes.items():
        failed = [c for c in run.comparisons.values() if c.status is Status.REGRESSED]
        metrics = Counter(check.metric for c in failed for check in c.checks if check.status is Status.REGRESSED)
        entire = Counter(c.key.attack for c in failed if c.key.slice == ENTIRE_DATASET)
        caught = ", ".join(f"{a} {entire[a]}/{len(study.report_epochs)}" for a in study.attacks if entire[a]) or "-"
        aucs = []
        for attack in study.attacks:
            last = run.comparisons.get(CaseKey("2_layers", last_epoch, attack, ENTIRE_DATASET))
            auc = next((check for check in last.checks if check.metric == "auc"), None) if last else None
            if auc is not None and auc.baseline is not None:
                aucs.append(f"{attack} {auc.obtained - auc.baseline:+.3f} ({auc.tolerance:.3f})")
        verdict = "fails (caught)" if failed else "passes"
        print(
            f"| {name} | {seed} | {verdict} | {len(failed)} of {len(run.comparisons)} | "
            f"{', '.join(f'{m} {n}' for m, n in metrics.most_common()) or '-'} | {caught} | {'; '.join(aucs) or '-'} |"
        )


if __name__ == "__main__":
    main()
