"""The shared vocabulary of verdicts: which check, what was measured, and how it was judged.

Plain frozen values that every other part passes around (the measuring
session, the baseline files, the report, the terminal summary, the pytest
plugin), so that none of them needs another's module for its types:

* :class:`MetricTolerance`, :class:`MetricCheck` and :class:`Comparison` are
  a baseline check; :func:`~privacy_checks.judge.compare.compare` makes one. The check is one-sided: more
  leakage than baseline + tolerance is a regression; much less is an
  improvement (reported, not failed) whose baseline is worth tightening.
  Each check also carries its *detectable rise*, what a pass rules out: the
  smallest true rise caught with 80 % power (tolerances.detectable_rise).
* :class:`GuaranteeCheck` is one of a DP model's guarantee checks.

Which check a verdict is about is named in :mod:`privacy_checks.spec.cases`.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Iterable

from privacy_checks.spec.cases import CaseKey


#: How a check's detectable rise was derived: from the calibrated noise
#: (``tolerance + z_0.8 * sqrt(2) * sigma``), or, with no noise estimate, the
#: tolerance itself, a lower bound (the true detectable rise is at least this).
FROM_NOISE, LOWER_BOUND = "calibrated_noise", "lower_bound"


@dataclasses.dataclass(frozen=True)
class MetricTolerance:
    """The tolerance of one metric check and where it came from."""

    value: float
    source: str  #: ``explicit``, ``calibrated``, ``profile`` or ``counts``
    #: The noise sd of one run's value it was derived from (calibrated, and counts raised
    #: from a calibrated tolerance); None when unknown.
    sigma: float | None = None


class Status(str, enum.Enum):
    """The verdict of one check, worst first."""

    REGRESSED = "regressed"
    MISSING = "missing"
    IMPROVED = "improved"
    PASSED = "passed"


@dataclasses.dataclass(frozen=True)
class MetricCheck:
    """One metric compared with its baseline."""

    metric: str
    obtained: float
    baseline: float | None
    tolerance: float
    #: Where the tolerance came from: ``explicit``, ``calibrated`` or ``profile``.
    tolerance_source: str = "profile"
    #: Bootstrap confidence interval of ``obtained`` (members and non-members resampled).
    interval: tuple[float, float] | None = None
    #: What a pass rules out: the smallest true rise above the baseline this check catches
    #: with 80 % power, ``tolerance + z_0.8 * sqrt(2) * sigma`` (tolerances.detectable_rise);
    #: None where not computed.
    detectable_rise: float | None = None
    #: :data:`FROM_NOISE` (from the tolerance's sigma), or :data:`LOWER_BOUND`: no noise is
    #: known, the value is the tolerance and the true detectable rise is at least that.
    detectable_rise_basis: str | None = None

    @property
    def detectable_is_lower_bound(self) -> bool:
        return self.detectable_rise_basis == LOWER_BOUND

    @property
    def difference(self) -> float | None:
        return None if self.baseline is None else self.obtained - self.baseline

    @property
    def status(self) -> Status:
        if self.baseline is None:
            return Status.MISSING
        if self.obtained > self.baseline + self.tolerance:
            return Status.REGRESSED
        if self.obtained < self.baseline - self.tolerance:
            return Status.IMPROVED
        return Status.PASSED


@dataclasses.dataclass(frozen=True)
class Comparison:
    """All metrics of one (model, epoch, attack, slice) against the baseline."""

    key: CaseKey
    checks: tuple[MetricCheck, ...]

    @property
    def status(self) -> Status:
        statuses = {check.status for check in self.checks}
        for status in Status:  # worst first
            if status in statuses:
                return status
        return Status.PASSED


def counts(comparisons: Iterable[Comparison]) -> dict[Status, int]:
    """How many comparisons have each verdict (every status present, worst first)."""
    found = {status: 0 for status in Status}
    for comparison in comparisons:
        found[comparison.status] += 1
    return found


def format_table(comparison: Comparison) -> str:
    """A small aligned table: metric, obtained, baseline, difference, tolerance, detectable, verdict.

    ``detectable`` is the smallest rise the check catches at 80 % power, what a pass
    rules out; "or more" where no noise is known and it is only the tolerance, a lower bound.
    """

    def number(value: float | None, signed: bool = False) -> str:
        if value is None:
            return "-"
        return f"{value:+.4f}" if signed else f"{value:.4f}"

    def interval(check: MetricCheck) -> str:
        if check.interval is None:
            return "-"
        return f"[{check.interval[0]:.4f}, {check.interval[1]:.4f}]"

    def detectable(check: MetricCheck) -> str:
        if check.detectable_rise is None:
            return "-"
        return f"+{check.detectable_rise:.4f}" + (" or more" if check.detectable_is_lower_bound else "")

    header = ("metric", "obtained", "95% CI", "baseline", "difference", "tolerance", "detectable", "verdict")
    rows = [header] + [
        (
            check.metric,
            number(check.obtained),
            interval(check),
            number(check.baseline),
            number(check.difference, signed=True),
            f"+{check.tolerance:.4f} ({check.tolerance_source})",
            detectable(check),
            check.status.value,
        )
        for check in comparison.checks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    )


@dataclasses.dataclass(frozen=True)
class WhiteBoxBound:
    """A DP model's white-box canary epsilon lower bound (:func:`privacy_checks.attack.white_box.canary_audit`),
    carried by its ``dp_conformance`` verdict so that the summary, results.json and the report show
    it beside the black-box bound. Why here: it is measured where the conformance check builds the
    model (no training, once per DP model), and a bound above ``accountant_epsilon`` proves the
    claim false, so it is part of that check's verdict."""

    #: The epsilon lower bound at ``delta``, valid at confidence 1 - ``alpha`` if the mechanism's
    #: trade-off curve is Gaussian (``method``: DP-SGD's composition is, by the CLT).
    epsilon: float
    method: str
    canaries: int
    #: The training's steps the canaries ran through (all of them: the last report epoch's).
    steps: int
    alpha: float
    #: The accountant's (RDP) epsilon of the same steps: the claim the bound is held against.
    accountant_epsilon: float
    #: Steinke et al.'s one-run bound from the same canaries (no independence assumed; weaker).
    one_run_epsilon: float

    @property
    def refutes_claim(self) -> bool:
        """A valid lower bound above the claim proves the claim false."""
        return self.epsilon > self.accountant_epsilon

    @property
    def confidence(self) -> str:
        """1 - alpha in percent, with as many decimals as alpha needs (``99.9986 %``)."""
        decimals = max(1, math.ceil(-math.log10(self.alpha)) - 1) if 0 < self.alpha < 1 else 1
        return f"{100 * (1 - self.alpha):.{decimals}f} %"


@dataclasses.dataclass(frozen=True)
class GuaranteeCheck:
    """The verdict of one DP guarantee check: ``obtained`` must not exceed ``limit``."""

    key: CaseKey  #: the DP model's entire-dataset slice at one epoch and attack
    check: str  #: ``epsilon_bound`` or ``auc_vs_non_private``
    obtained: float
    limit: float
    detail: str  #: what ``limit`` is, for the failure message and the report
    #: The error this check may have, and how many guarantee checks share the run's budget.
    alpha: float = 0.0
    family: int = 1
    #: The attack tells members from non-members no better than chance on both models:
    #: a comparison of noise, which passes whatever the two AUCs are.
    at_chance: bool = False
    #: An accountant check whose baseline records no epsilon: fails like a missing entry.
    missing: bool = False
    #: An accountant check's budget (``dp.max_epsilon``), when the profile sets one.
    budget: float | None = None
    #: A ``dp_conformance`` check's white-box canary bound (None for the other checks).
    white_box: WhiteBoxBound | None = None

    @property
    def passed(self) -> bool:
        return not self.missing and (self.at_chance or self.obtained <= self.limit)

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.obtained > self.budget

    @property
    def model(self) -> str:
        return self.key.model

    @property
    def epoch(self) -> int:
        return self.key.epoch

    @property
    def attack(self) -> str:
        return self.key.attack
