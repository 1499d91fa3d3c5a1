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
from typing import Mapping

from privacy_checks import messages
from privacy_checks.files import display_path
from privacy_checks.session import PrivacyRun
from privacy_checks.measured import most_vulnerable
from privacy_checks.profiles import ENTIRE_DATASET
from privacy_checks.tolerances import POWER
from privacy_checks.verdicts import CaseKey, Comparison, Status, counts as verdict_counts

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

    counts = verdict_counts(run.comparisons.values())
    stale, not_run = run.unused_entries()
    write(
        f"{counts[Status.PASSED]} passed, {counts[Status.REGRESSED]} regressed, "
        f"{counts[Status.IMPROVED]} improved, {counts[Status.MISSING]} new (no baseline), "
        f"{len(stale)} unused baseline entries"
        + (f", {len(not_run)} not checked this session" if not_run else "")
    )
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
        write(
            f"most vulnerable slice of {model}: epoch {record.epoch}, {record.attack}, "
            f"{record.slice}: AUC {record.auc:.3f}, attacker advantage "
            f"{record.attacker_advantage:.3f}"
        )
    for line in detectable_lines(run.comparisons):
        write(line)
    for line in dp_lines(run):
        write(line)
    for change in run.changes:
        verb = "wrote" if change.written else "unchanged"
        write(
            f"baseline {verb}: {display_path(change.path)} "
            f"({change.added} added, {change.changed} changed, {change.removed} removed)"
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
                f"{attack} +{value:.4f}" + (" or more" if at_least else "")
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


def dp_lines(run: PrivacyRun) -> list[str]:
    """Per DP model: its epsilon at the last epoch measured, the largest measured bound, verdicts."""
    lines = []
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
        if bounds:
            last = max(record.epoch for record in bounds)
            line += f": epsilon {run.accountant_epsilon(spec.name, last):.2f} at epoch {last} (delta {spec.dp.delta:g})"
            best = max(bounds, key=lambda record: record.epsilon_lower_bound)
            line += (
                f"; largest measured lower bound {best.epsilon_lower_bound:.2f} "
                f"({best.attack}, epoch {best.epoch})"
            )
        failed = sum(1 for c in checks if not c.passed)
        line += f"; {len(checks) - failed} guarantee checks passed, {failed} failed"
        lines.append(line)
    return lines
