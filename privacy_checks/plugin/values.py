"""Each option's value parser: a string from the command line or the ini file, validated and converted.

An ``argparse.ArgumentTypeError`` says what is wanted; :mod:`privacy_checks.plugin.options`
turns it into a usage error that names the option or ini key it came from.
"""

from __future__ import annotations

import argparse

from privacy_checks.report.leaks import EXAMPLE_MODES
from privacy_checks.spec.sources import check_dataset
from privacy_checks.spec.vocabulary import METRICS

TOLERANCE_KEYS = (*METRICS, "tpr")


def parse_tolerance(value: str) -> dict[str, float]:
    """``"auc=0.03, attacker_advantage=0.05, tpr=0.02"`` -> ``{"auc": 0.03, ...}``; any may be left out.

    ``tpr`` applies to the TPR at every FPR the profile checks.
    """
    result: dict[str, float] = {}
    for part in value.replace(",", " ").split():
        name, sep, number = part.partition("=")
        if not sep or name not in TOLERANCE_KEYS:
            raise argparse.ArgumentTypeError(
                f"{value!r}: expected METRIC=NUMBER pairs with METRIC in {', '.join(TOLERANCE_KEYS)}"
            )
        try:
            result[name] = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r}: {number!r} is not a number") from None
        if not 0 <= result[name] <= 1:
            raise argparse.ArgumentTypeError(f"{value!r}: a tolerance lies between 0 and 1")
    return result


def parse_seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer seed") from None
    if not 0 <= seed < 2**31:
        raise argparse.ArgumentTypeError(f"{value!r}: a seed lies in 0..2147483647")
    return seed


def _count(value: str, least: int, what: str) -> int:
    """A whole number of at least ``least``; otherwise an error that says ``what`` is wanted."""
    try:
        number = int(value)
    except ValueError:
        number = least - 1
    if number < least:
        raise argparse.ArgumentTypeError(f"{value!r}: {what}")
    return number


def parse_calibrate(value: str) -> int:
    if value.strip() == "0":
        return 0  # record without calibrating
    return _count(value, 2, "calibration needs a number of seeds, at least 2 (5 or more is better), or 0 to record without")


def parse_workers(value: str) -> int:
    return _count(value, 0, "a number of worker processes, 0 or more")


EXECUTORS = ("local", "ray")


def parse_executor(value: str) -> str:
    if value not in EXECUTORS:
        raise argparse.ArgumentTypeError(
            f"{value!r}: local (train here, attack in worker processes) or ray (every training "
            "and attack run as a Ray task)"
        )
    return value


def parse_gpus(value: str) -> float:
    try:
        gpus = float(value)
    except ValueError:
        gpus = -1.0
    if not 0 <= gpus < 1000:
        raise argparse.ArgumentTypeError(f"{value!r}: GPUs per training, 0 or more (0.5 shares one between two)")
    return gpus


def parse_dataset(value: str) -> str:
    try:
        return check_dataset(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_examples(value: str) -> str:
    """``--privacy-report-examples``: what the report shows of the members that leak."""
    if value not in EXAMPLE_MODES:
        raise argparse.ArgumentTypeError(
            f"{value!r}: images (thumbnails of the members that leak), indices (their positions "
            "among the members only) or none (no such section)"
        )
    return value
