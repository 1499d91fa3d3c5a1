"""The end-of-run summary: what the terminal prints after the tests, as plain lines.

Kept apart from the pytest glue, like syrupy's ``SnapshotReport.lines`` and
pytest-benchmark's ``BenchmarkSession.display``: the verdict counts, what
improved, stale baseline entries and files, the most vulnerable slice of each
model, what a pass rules out (the detectable AUC rise), the DP models' epsilon
and guarantee verdicts, what was written and reused, and what deserves a
second look (versions, machine types, setups, report errors).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Mapping

from privacy_checks.attack import accounting
from privacy_checks.attack.records import AttackRecord
from privacy_checks.judge import messages
from privacy_checks.judge.session import PrivacyRun
from privacy_checks.judge.tolerances import POWER
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck, Status, counts as verdict_counts
from privacy_checks.report.measured import most_vulnerable
from privacy_checks.run.settings import CheckFailed
from privacy_checks.spec.cases import BASELINE, CaseKey
from privacy_checks.spec.files import display_path
from privacy_checks.spec.vocabulary import ENTIRE_DATASET

#: Items listed per kind before "... N more".
MAX_LISTED = 10


@dataclasses.dataclass(frozen=True)
class Line:
    """One line of the summary and its terminal markup (``yellow=True``, ``red=True``)."""

    text: str
    markup: Mapping[str, bool] = dataclasses.field(default_factory=dict)


def lines(run: PrivacyRun) -> list[Line]:
    """Every line of the summary of ``run``, in the order they are printed."""
    found: list[Line] = []

    def write(text: str, **markup: bool) -> None:
        found.append(Line(text, markup))

    stale, not_run = run.unused_entries()
    for line, markup in outcome_lines(run):
        write(line, **markup)
    write(
        f"{len(stale)} unused baseline entries" + (f", {len(not_run)} not checked this session" if not_run else "")
    )
    for root, count in unmeasured_errors(run).items():
        write(f"could not be measured ({count} checks): {root}", red=True)
    improved = [c for c in run.comparisons.values() if c.status is Status.IMPROVED]
    if improved:
        write("improved beyond tolerance (consider tightening the baseline):")
        for comparison in improved[:MAX_LISTED]:
            deltas = ", ".join(
                f"{check.metric} {check.difference:+.4f}"
                for check in comparison.checks
                if check.status is Status.IMPROVED
            )
            write(f"  {comparison.key}: {deltas}")
        if len(improved) > MAX_LISTED:
            write(f"  ... {len(improved) - MAX_LISTED} more in results.json")
    if stale:
        write(
            "unused baseline entries, which the profile no longer produces "
            f"(removed by {messages.UPDATE_FLAG}):"
        )
        for key in stale[:MAX_LISTED]:
            write(f"  {key}")
        if len(stale) > MAX_LISTED:
            write(f"  ... {len(stale) - MAX_LISTED} more")
    for path in run.orphan_baseline_files():
        write(
            f"unused baseline file {display_path(path)}: profile {run.profile.name} "
            f"has no model {path.stem!r} (delete it if the model is gone)",
            yellow=True,
        )
    for model, (record, _) in most_vulnerable(run.evaluations()).items():
        write(most_vulnerable_line(model, record))
    for line in detectable_lines(run.comparisons):
        write(line)
    found.extend(dp_lines(run))
    for change in run.changes:
        verb = "wrote" if change.written else "unchanged"
        write(
            f"baseline {verb}: {display_path(change.path)} "
            f"({change.added} added, {change.changed} changed, {change.removed} removed; {change.calibration})",
            **({"yellow": True} if change.calibration_dropped else {}),
        )
    hits = ", ".join(f"{count} {what}" for what, count in run.cache_hits.items() if count)
    if hits:
        write(f"reused from the privacy cache: {hits} (--privacy-no-cache to redo them)")
    if run.cache_error:
        write(run.cache_error, yellow=True)
    for line in run.version_warnings():
        write(line, yellow=True)
    for line in run.book.machine_notes():
        write(line, yellow=True)
    for model, changes in sorted(run.setup_changes.items()):
        write(
            messages.other_setup(display_path(run.baseline_path(model)), changes),
            yellow=True,
        )
    if run.report_error:
        write(run.report_error, red=True)
    elif run.report_files:
        names = ", ".join(path.name for path in run.report_files)
        write(f"privacy report: {display_path(run.settings.report_dir)}/ ({names})")
    return found


def most_vulnerable_line(model: str, record: AttackRecord) -> str:
    """``most vulnerable slice of M (...): epoch E, ATTACK, SLICE: AUC a (95 % CI lo-hi), ...``.

    The slice is chosen by the lower end of its AUC's interval (:func:`measured.most_vulnerable`),
    so the line shows the interval that chose it.
    """
    low, high = record.intervals.get("auc", (record.auc, record.auc))
    return (
        f"most vulnerable slice of {model} (highest lower end of the AUC's 95 % CI): epoch {record.epoch}, "
        f"{record.attack}, {record.slice}: AUC {record.auc:.3f} (95 % CI {low:.3f}-{high:.3f}), "
        f"attacker advantage {record.attacker_advantage:.3f}"
    )


def outcome_lines(run: PrivacyRun) -> list[tuple[str, dict[str, bool]]]:
    """Every check's outcome, counted so that the failures add up to pytest's own count.

    Baseline checks: passed, regressed, improved, new (no baseline), could not be
    measured, skipped (the attack ran on no example of the slice). Guarantee checks
    of DP models: passed, failed, could not be measured. In an update every measured
    check passes (it is recorded); the counts against the old baselines follow.
    """
    counts = verdict_counts(run.comparisons.values())
    unmeasured = Counter(check == BASELINE for _, check in run.unmeasured)
    baseline_unmeasured, guarantee_unmeasured = unmeasured[True], unmeasured[False]
    measured = sum(counts.values())
    total = measured + baseline_unmeasured + len(run.skipped)
    failed = baseline_unmeasured + (0 if run.settings.update_baselines else counts[Status.REGRESSED] + counts[Status.MISSING])
    versus = (
        f"{counts[Status.PASSED]} passed, {counts[Status.REGRESSED]} regressed, {counts[Status.IMPROVED]} improved, "
        f"{counts[Status.MISSING]} new (no baseline)"
    )
    head = (
        f"{total} baseline checks: {measured} recorded (against the old baselines: {versus})"
        if run.settings.update_baselines else f"{total} baseline checks: {versus}"
    )
    found = [(
        head + f", {baseline_unmeasured} could not be measured"
        + (f", {len(run.skipped)} skipped (the attack ran on no example of the slice)" if run.skipped else ""),
        {"red": True} if failed else {},
    )]
    if run.guarantees or guarantee_unmeasured:
        broken = sum(1 for check in run.guarantees.values() if not check.passed)
        found.append((
            f"{len(run.guarantees) + guarantee_unmeasured} DP guarantee checks: "
            f"{len(run.guarantees) - broken} passed, {broken} failed, {guarantee_unmeasured} could not be measured",
            {"red": True} if broken or guarantee_unmeasured else {},
        ))
    return found


def unmeasured_errors(run: PrivacyRun) -> dict[str, int]:
    """Each error that left checks without a verdict, whole, and how many checks it cost."""
    return dict(Counter(run.unmeasured.values()).most_common())


def detectable_lines(comparisons: Mapping[CaseKey, Comparison], metric: str = "auc") -> list[str]:
    """What a pass rules out: per model and attack, the largest detectable rise of ``metric``
    on the entire dataset over the report epochs checked against a baseline.

    The detectable rise is the smallest true rise a check catches at 80 % power
    (tolerances.detectable_rise); where any of the epochs has no noise estimate it
    is only a lower bound, shown "or more".
    """
    worst: dict[str, dict[str, tuple[float, bool]]] = {}
    for key, comparison in comparisons.items():
        if key.slice != ENTIRE_DATASET:
            continue
        for check in comparison.checks:
            if check.metric != metric or check.baseline is None or check.detectable_rise is None:
                continue
            value, at_least = worst.setdefault(key.model, {}).get(key.attack, (0.0, False))
            worst[key.model][key.attack] = (
                max(value, check.detectable_rise),
                at_least or check.detectable_is_lower_bound,
            )
    if not worst:
        return []
    name = "AUC" if metric == "auc" else metric
    found = [
        f"detectable {name} rise on the entire dataset, worst report epoch "
        f"(a pass rules out larger rises at {POWER * 100:g} % power):"
    ]
    for model, attacks in list(worst.items())[:MAX_LISTED]:
        found.append(
            f"  {model}: "
            + ", ".join(
                f"{attack} none (a rise of 1 would pass: too few calibration seeds)" if value >= 1
                else f"{attack} +{value:.4f}" + (" or more" if at_least else "")
                for attack, (value, at_least) in attacks.items()
            )
        )
    if len(worst) > MAX_LISTED:
        found.append(f"  ... {len(worst) - MAX_LISTED} more models in results.json")
    if any(at_least for attacks in worst.values() for _, at_least in attacks.values()):
        found.append(
            '  ("or more": explicit or uncalibrated tolerance, noise unknown; '
            "--privacy-calibrate=N measures it)"
        )
    return found


def dp_lines(run: PrivacyRun) -> list[Line]:
    """Per DP model: its epsilon at the last epoch measured (with its baseline's and the budget),
    the largest measured bound, the verdicts, and a note where epsilon is too large to mean much."""
    found = []
    for spec in run.profile.dp_models:
        checks = [c for c in run.guarantees.values() if c.model == spec.name]
        bounds = [
            record
            for evaluation in run.evaluations()
            for record in evaluation.records
            if record.model == spec.name and record.epsilon_lower_bound is not None
        ]
        if not checks and not bounds:
            continue
        line = f"{spec.name} (DP-SGD, noise {spec.dp.noise_multiplier:g}, clip {spec.dp.l2_norm_clip:g})"
        epsilon = None
        last = max([c.epoch for c in checks] + [r.epoch for r in bounds])
        try:
            epsilon = run.accountant_epsilon(spec.name, last)
        except CheckFailed:  # no data: the checks say why
            pass
        if epsilon is not None:
            line += f": epsilon {epsilon:.2f} at epoch {last} (delta {spec.dp.delta:g}"
            recorded = getattr(run.loaded_baselines().get(spec.name), "epsilon", {}).get(last)
            line += (f"; baseline {recorded:.2f}" if recorded is not None else "") + (
                f"; budget {spec.dp.max_epsilon:g}" if spec.dp.max_epsilon is not None else ""
            ) + ")"
        if bounds:
            best = max(bounds, key=lambda record: record.epsilon_lower_bound)
            line += (
                f"; largest measured lower bound {best.epsilon_lower_bound:.2f} "
                f"({best.attack}, epoch {best.epoch})"
            )
        failed = sum(1 for c in checks if not c.passed)
        line += f"; {len(checks) - failed} guarantee checks passed, {failed} failed"
        found.append(Line(line))
        found.extend(white_box_line(spec.name, check, bounds) for check in checks if check.white_box is not None)
        if epsilon is not None and epsilon > accounting.MEANINGFUL_EPSILON:
            found.append(Line(
                f"  {spec.name}: epsilon {epsilon:.1f} is above {accounting.MEANINGFUL_EPSILON:g}, where "
                "\"How to DP-fy ML\" (Ponomareva et al. 2023) places guarantees too weak to mean much: "
                "what protects the members is what the attacks measure, not the epsilon. Add noise or "
                "train fewer steps for a meaningful one (and set dp.max_epsilon to hold it)",
                {"yellow": True},
            ))
    return found


def white_box_line(model: str, check: GuaranteeCheck, bounds: list[AttackRecord]) -> Line:
    """The white-box canary bound of ``check`` (a ``dp_conformance`` verdict) beside the accountant's
    epsilon of the same steps and the largest black-box bound measured at that epoch: the two
    lower bounds side by side show how much of the claim each can refute. Red where it refutes it."""
    white = check.white_box
    at_epoch = [r.epsilon_lower_bound for r in bounds if r.epoch == check.epoch]
    black = f"black-box bound {max(at_epoch):.2f} at that epoch" if at_epoch else "black-box bound not measured"
    return Line(
        f"  {model}: white-box canary bound eps >= {white.epsilon:.2f} ({white.method}, {white.canaries:,} "
        f"canaries, {white.confidence} confidence) against the accountant's {white.accountant_epsilon:.2f} "
        f"at epoch {check.epoch}; {black}",
        {"red": True} if white.refutes_claim else {},
    )
