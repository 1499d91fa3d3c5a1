"""Measures how well calibrated checks catch injected privacy regressions, and how often they cry wolf.

    python docs/detection_power.py [--calibration-seeds 5] [--seeds 2001 2002 2003] [--work DIR]

1. Records calibrated baselines for :func:`privacy_checks.power.digits_study`
   (digits, 2-layer model, reports at epochs 50, 100, 200) over N seeds.
2. Runs each injected regression of :data:`privacy_checks.power.REGRESSIONS`,
   the changes of :data:`~privacy_checks.power.OTHER_CHANGES`, and a harmless
   change (only the seed differs), once per seed.
3. Prints, as Markdown: the calibrated spread and the tolerance in force per
   metric, and per run which checks failed.

Results are cached under ``--work``, so a second run only re-prints.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from privacy_checks import tolerances
from privacy_checks.verdicts import Status
from privacy_checks.power import OTHER_CHANGES, REGRESSIONS, digits_study, run_all
from privacy_checks.session import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibration-seeds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2001, 2002, 2003])
    parser.add_argument("--work", type=Path, default=Path("detection-power"))
    args = parser.parse_args()
    study = digits_study()

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
    print("| change | seed | verdict | failed checks | failed metrics (count) | threshold AUC, entire dataset, epoch 200: obtained vs baseline |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (name, seed), run in outcomes.items():
        failed = [c for c in run.comparisons.values() if c.status is Status.REGRESSED]
        metrics = Counter(check.metric for c in failed for check in c.checks if check.status is Status.REGRESSED)
        last = run.comparisons.get("2_layers/epoch200/threshold/entire_dataset")
        auc = next(check for check in last.checks if check.metric == "auc") if last else None
        verdict = "fails (caught)" if failed else "passes"
        detail = f"{auc.obtained:.4f} vs {auc.baseline:.4f} (+{auc.tolerance:.4f})" if auc else "-"
        print(
            f"| {name} | {seed} | {verdict} | {len(failed)} of {len(run.comparisons)} | "
            f"{', '.join(f'{m} {n}' for m, n in metrics.most_common()) or '-'} | {detail} |"
        )


if __name__ == "__main__":
    main()
