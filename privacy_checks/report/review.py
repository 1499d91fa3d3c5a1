"""What a reviewer decides from, in the order they read it: the verdict in one line, what
changed in the setup since the baselines were recorded, and each failure as the terminal
told it. The page (:mod:`~privacy_checks.report.html`) and the CI summary
(:mod:`~privacy_checks.report.markdown`) both open with these, worded the same.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from privacy_checks.judge import messages
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck, MetricCheck, Status, counts
from privacy_checks.report.measured import Measured
from privacy_checks.report.table import anchor
from privacy_checks.spec.cases import ACCOUNTANT, BASELINE, CaseKey
from privacy_checks.spec.vocabulary import ENTIRE_DATASET

#: Failures told in full at the top before "... N more".
MAX_TOLD = 20


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The run's verdict: ``failed``, and the line that says it (``FAILED: 3 checks regressed``)."""

    failed: bool
    line: str
    total: int


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def verdict(measured: Measured) -> Verdict:
    """``FAILED: 3 checks regressed, 1 could not be measured`` or ``PASSED: 630 checks``.

    Every check counts once, as the terminal summary counts them (baseline checks,
    DP guarantee checks, those that could not be measured, skipped slices).
    """
    by_status = counts(measured.comparisons.values())
    unmeasured = len(measured.unmeasured)
    broken = sum(1 for check in measured.guarantees.values() if not check.passed)
    total = sum(by_status.values()) + len(measured.guarantees) + unmeasured + measured.skipped
    regressed, new = by_status[Status.REGRESSED], by_status[Status.MISSING]
    if measured.update_baselines:
        regressed = new = 0  # recorded: they pass
    problems = [
        part for count, part in (
            (regressed, _plural(regressed, "check") + " regressed"),
            (new, _plural(new, "check") + " without a baseline"),
            (broken, _plural(broken, "DP guarantee") + " broken"),
            (unmeasured, f"{unmeasured} could not be measured"),
        ) if count
    ]
    if problems:
        return Verdict(True, f"FAILED: {', '.join(problems)} (of {_plural(total, 'check')})", total)
    notes = []
    if measured.update_baselines:
        notes.append("measured and recorded as the new baselines")
    if by_status[Status.IMPROVED] and not measured.update_baselines:
        notes.append(f"{by_status[Status.IMPROVED]} improved beyond tolerance")
    if measured.skipped:
        notes.append(f"{measured.skipped} skipped (the attack ran on no example of the slice)")
    return Verdict(False, f"PASSED: {_plural(total, 'check')}" + (f" ({'; '.join(notes)})" if notes else ""), total)


def setup_changes(measured: Measured) -> dict[str, list[str]]:
    """Per model, what changed in its setup since its baseline was recorded (``members 200 -> 100``)."""
    return {model: list(changes) for model, changes in sorted(measured.setup_changes.items()) if changes}


@dataclasses.dataclass(frozen=True)
class Failure:
    """One failing check: where, what failed in one line, and the terminal's message (table and command)."""

    anchor: str
    title: str
    #: What failed, in one line: ``auc 0.9272 > 0.5836 + 0.2269 (calibrated); ...``.
    summary: str
    text: str
    #: The failing baseline check, or None for a guarantee check.
    comparison: Comparison | None = None


def _rise(comparison: Comparison) -> float:
    """How far the worst metric rose above its baseline, in tolerances (``inf`` for a zero tolerance)."""
    return max(
        (
            (c.obtained - c.baseline) / c.tolerance if c.tolerance > 0 else float("inf")
            for c in comparison.checks
            if c.status is Status.REGRESSED
        ),
        default=0.0,
    )


def _summary(comparison: Comparison) -> str:
    if comparison.status is Status.MISSING:
        return "no baseline"
    return "; ".join(
        f"{c.metric} {c.obtained:.4f} > {c.baseline:.4f} + {c.tolerance:.4f} ({c.tolerance_source})"
        for c in comparison.checks
        if c.status is Status.REGRESSED
    )


def failures(measured: Measured) -> list[Failure]:
    """Every failing baseline and guarantee check, surest first: regressions of the entire dataset
    (a class slice has a few dozen members, its numbers are the noisiest), broken DP guarantees,
    regressions of class slices, checks without a baseline. Regressions by how far they rose above
    their baselines, in tolerances."""
    if measured.update_baselines:
        failing: list[Comparison] = []
    else:
        failing = [c for c in measured.comparisons.values() if c.status in (Status.REGRESSED, Status.MISSING)]
    ranked: list[tuple[tuple, Failure]] = []
    for c in failing:
        group = 3 if c.status is Status.MISSING else 0 if c.key.slice == ENTIRE_DATASET else 2
        text = messages.regression(c, _path(measured, c.key.model), measured.profile.name)
        ranked.append(((group, -_rise(c), _where(c.key)), Failure(anchor(c.key), title(c.key), _summary(c), text, c)))
    for check in (c for c in measured.guarantees.values() if not c.passed):
        where = (
            f"{check.model}, epoch {check.epoch}, the accountant's epsilon" if check.check == ACCOUNTANT
            else f"{title(check.key)}, {check.check}"
        )
        summary = "no baseline" if check.missing else f"{check.obtained:.4f} > {check.limit:.4f} ({check.detail})"
        failure = Failure(anchor(check.key), where, summary, guarantee_text(measured, check))
        ranked.append(((1, 0.0, _where(check.key) + (check.check,)), failure))
    return [failure for _, failure in sorted(ranked, key=lambda pair: pair[0])]


def _where(key: CaseKey) -> tuple:
    return (key.model, key.epoch, key.attack, key.slice)


def _path(measured: Measured, model: str) -> str:
    return measured.baseline_paths.get(model, f"baselines/{measured.profile.name}/{model}.json")


def guarantee_text(measured: Measured, check: GuaranteeCheck) -> str:
    """The terminal's message of a failed DP guarantee check."""
    if check.check == ACCOUNTANT:
        return messages.accountant_failed(check, _path(measured, check.model), measured.profile.name)
    return messages.guarantee_failed(check)


def title(key: CaseKey) -> str:
    """``2_layers, epoch 150, rmia, class_3``."""
    return f"{key.model}, epoch {key.epoch}, {key.attack}, {key.slice}"


def unmeasured(measured: Measured) -> list[tuple[str, int, int]]:
    """Each error that left checks without a verdict, whole: (error, baseline checks, guarantee checks)."""
    baseline, other = Counter(), Counter()
    for (_, check), error in measured.unmeasured.items():
        (baseline if check == BASELINE else other)[error] += 1
    errors = Counter(measured.unmeasured.values())
    return [(error, baseline[error], other[error]) for error, _ in errors.most_common()]


@dataclasses.dataclass(frozen=True)
class Now:
    """One attack on a model's entire dataset at its last epoch: each metric's check."""

    model: str
    epoch: int
    attack: str
    checks: dict[str, MetricCheck]
    verdict: str


def entire_dataset_now(measured: Measured) -> list[Now]:
    """Per model and attack (the profile's order), the entire dataset's checks at the last epoch checked."""
    last: dict[tuple[str, str], Comparison] = {}
    for key, comparison in measured.comparisons.items():
        if key.slice != ENTIRE_DATASET:
            continue
        kept = last.get((key.model, key.attack))
        if kept is None or key.epoch > kept.key.epoch:
            last[(key.model, key.attack)] = comparison
    models = [m.name for m in measured.profile.models]
    attacks = list(measured.profile.attacks)

    def rank(names: list[str], name: str) -> tuple[int, str]:
        return (names.index(name) if name in names else len(names), name)

    return [
        Now(model, c.key.epoch, attack, {check.metric: check for check in c.checks}, c.status.value)
        for (model, attack), c in sorted(last.items(), key=lambda i: (rank(models, i[0][0]), rank(attacks, i[0][1])))
    ]
