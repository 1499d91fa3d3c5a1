"""The shared vocabulary of verdicts: which check, what was measured, and how it was judged.

Plain frozen values that every other part passes around (the measuring
session, the baseline files, the report, the terminal summary, the pytest
plugin), so that none of them needs another's module for its types:

* :class:`CaseKey` names one (model, report epoch, attack, slice); its text
  form ``2_layers/epoch10/threshold/class_3`` is what results and messages show.
* :class:`MetricTolerance`, :class:`MetricCheck` and :class:`Comparison` are
  a baseline check; :func:`compare` makes one. The check is one-sided: more
  leakage than baseline + tolerance is a regression; much less is an
  improvement (reported, not failed) whose baseline is worth tightening.
  Each check also carries its *detectable rise*, what a pass rules out: the
  smallest true rise caught with 80 % power (tolerances.detectable_rise).
* :class:`GuaranteeCheck` is one of a DP model's guarantee checks.
* :class:`Case` is one parametrized pytest item: a case key and what it checks;
  :func:`cases` lists a profile's.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Iterable, Mapping

from privacy_checks.profiles import ENTIRE_DATASET, Profile


#: What a check compares: the baseline, one of a DP model's two guarantees, or a DP
#: model's accountant epsilon against its baseline's and its budget.
BASELINE, EPSILON, VS_NON_PRIVATE = "baseline", "epsilon_bound", "auc_vs_non_private"
ACCOUNTANT = "accountant_epsilon"
#: The guarantee checks that are statistical tests and share the run's error budget
#: (the accountant's epsilon is computed, not measured: it errs never).
STATISTICAL_GUARANTEES = (EPSILON, VS_NON_PRIVATE)
#: The ``attack`` of an accountant check's key: no attack, the accountant.
ACCOUNTANT_KEY = "accountant"

#: How a check's detectable rise was derived: from the calibrated noise
#: (``tolerance + z_0.8 * sqrt(2) * sigma``), or, with no noise estimate, the
#: tolerance itself, a lower bound (the true detectable rise is at least this).
FROM_NOISE, LOWER_BOUND = "calibrated_noise", "lower_bound"


def entry_key(epoch: int, attack: str, slice_name: str) -> str:
    """An entry's key inside one model's baseline file (the model is the file)."""
    return f"epoch{epoch}/{attack}/{slice_name}"


@dataclasses.dataclass(frozen=True, order=True)
class CaseKey:
    """One (model, report epoch, attack, slice): what a baseline entry and a result describe."""

    model: str
    epoch: int
    attack: str
    slice: str

    def __str__(self) -> str:
        return f"{self.model}/epoch{self.epoch}/{self.attack}/{self.slice}"

    @property
    def entry_key(self) -> str:
        """The key of its entry inside the model's baseline file: ``epoch10/threshold/class_3``."""
        return entry_key(self.epoch, self.attack, self.slice)

    @classmethod
    def parse(cls, text: str) -> "CaseKey":
        """The inverse of ``str()``; a ``ValueError`` for anything else."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[1].startswith("epoch") or not parts[1][5:].isdigit():
            raise ValueError(f"{text!r} is not model/epochN/attack/slice")
        return cls(parts[0], int(parts[1][5:]), parts[2], parts[3])


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
    from privacy_checks.tolerances import detectable_rise, detectable_rise_basis  # it imports this module

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


@dataclasses.dataclass(frozen=True)
class Case:
    """One parametrized check: a (model, report epoch, attack, slice) and what is checked.

    Every model's cases compare AUC and attacker advantage with the baseline.
    A DP model also gets, per report epoch and attack on the entire dataset,
    ``epsilon_bound`` (the measured epsilon lower bound must not exceed the
    accountant's epsilon) and ``auc_vs_non_private`` (its AUC must not exceed
    the non-private model's), which need no baseline; and per report epoch
    ``accountant_epsilon``: the accountant's epsilon must not rise above its
    baseline's, nor above the model's ``dp.max_epsilon``.
    """

    model: str
    epoch: int
    attack: str
    slice: str
    check: str = BASELINE

    @property
    def key(self) -> CaseKey:
        """The (model, epoch, attack, slice) it measures; a guarantee check shares it
        with the baseline check of the same slice and differs in ``check``."""
        return CaseKey(self.model, self.epoch, self.attack, self.slice)

    @property
    def id(self) -> str:
        if self.check == ACCOUNTANT:
            return f"{self.model}-epoch{self.epoch}-{ACCOUNTANT}"
        suffix = self.slice if self.check == BASELINE else self.check
        return f"{self.model}-epoch{self.epoch}-{self.attack}-{suffix}"

    @property
    def entry_key(self) -> str:
        return self.key.entry_key


def cases(profile: Profile) -> list[Case]:
    """Every check a profile defines, in the order they run (model-major: train once)."""
    found = []
    for model in profile.models:
        found += [
            Case(model.name, epoch, attack, slice_name)
            for epoch in profile.report_epochs
            for attack in profile.attacks
            for slice_name in profile.slices
        ]
        if model.dp is not None:
            checks = (EPSILON,) + ((VS_NON_PRIVATE,) if model.compare_to else ())
            found += [
                Case(model.name, epoch, attack, ENTIRE_DATASET, check)
                for epoch in profile.report_epochs
                for attack in profile.attacks
                for check in checks
            ]
            found += [
                Case(model.name, epoch, ACCOUNTANT_KEY, ENTIRE_DATASET, ACCOUNTANT) for epoch in profile.report_epochs
            ]
    return found


def baseline_keys(profile: Profile) -> set[CaseKey]:
    """The baseline entries a profile can produce."""
    return {case.key for case in cases(profile) if case.check == BASELINE}
