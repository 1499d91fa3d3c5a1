"""A measured case against its baseline: one :class:`~privacy_checks.judge.verdicts.MetricCheck` per metric,
one-sided (only a rise beyond the tolerance regresses), each with what a pass rules out."""

from __future__ import annotations

from typing import Mapping

from privacy_checks.judge.tolerances import detectable_rise, detectable_rise_basis
from privacy_checks.judge.verdicts import Comparison, MetricCheck, MetricTolerance
from privacy_checks.spec.cases import CaseKey


def compare(
    key: CaseKey,
    obtained: Mapping[str, float],
    expected: Mapping[str, float] | None,
    tolerances: Mapping[str, "MetricTolerance"],
    intervals: Mapping[str, tuple[float, float]] | None = None,
) -> Comparison:
    """Compares each metric one-sidedly: only a rise beyond its tolerance regresses.

    A metric the baseline lacks (e.g. a newly added FPR) is missing, like a
    missing entry. Each check carries its detectable rise (what a pass rules
    out at 80 % power), derived from its tolerance.
    """
    intervals = intervals or {}
    return Comparison(
        key,
        tuple(
            MetricCheck(
                metric=name,
                obtained=float(obtained[name]),
                baseline=None if expected is None or name not in expected else float(expected[name]),
                tolerance=tolerances[name].value,
                tolerance_source=tolerances[name].source,
                interval=intervals.get(name),
                detectable_rise=detectable_rise(tolerances[name]),
                detectable_rise_basis=detectable_rise_basis(tolerances[name]),
            )
            for name in obtained
        ),
    )
