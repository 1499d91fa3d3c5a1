"""Measures how often the default profile cries wolf: twenty harmless seed changes, nothing else changed.

    python docs/false_alarms.py [--seeds 2001 ... 2020] [--cache DIR] [--baselines baselines]

Runs the ``digits`` profile with each seed against the committed baselines
(every baseline check and every DP guarantee check) and prints, as Markdown,
per seed: the baseline metrics that failed and the DP checks that failed.
Every failure here is a false alarm. Trainings and attack results are cached
under ``--cache`` (default: pytest's cache of this repository), so a second
run only re-judges. ``tests/test_false_alarms.py`` asserts the same study.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from privacy_checks.judge.power import false_alarm_study
from privacy_checks.run.settings import Settings
from privacy_checks.spec.registry import DIGITS

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(2001, 2021)))
    parser.add_argument("--cache", type=Path, default=ROOT / ".pytest_cache" / "d" / "privacy_checks")
    parser.add_argument("--baselines", type=Path, default=ROOT / "baselines")
    parser.add_argument("--report", type=Path, default=Path("false-alarms-report"))
    args = parser.parse_args()
    settings = Settings(DIGITS, args.baselines, args.report, cache_dir=args.cache)
    outcomes = false_alarm_study(settings, args.seeds)
    print("| seed | baseline checks failed | DP checks failed |")
    print("| --- | --- | --- |")
    for outcome in outcomes:
        failed = "; ".join(outcome.regressed) or "none"
        broken = "; ".join(outcome.broken) or "none"
        print(
            f"| {outcome.seed} | {len(outcome.regressed)} of {outcome.checks} metric checks: {failed} "
            f"| {len(outcome.broken)} of {outcome.guarantees}: {broken} |"
        )
    runs = sum(1 for outcome in outcomes if outcome.regressed)
    alarms = sum(1 for outcome in outcomes if outcome.broken)
    print(f"\nruns with a failing baseline check: {runs} of {len(outcomes)}; with a DP alarm: {alarms}")


if __name__ == "__main__":
    main()
