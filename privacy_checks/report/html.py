"""``index.html``: one self-contained page a reviewer decides from, opened from a CI artifact.

Top to bottom, in the order a review asks its questions: the verdict in one
line; what changed in the setup since the baselines were recorded; each
failure as the terminal told it (:mod:`~privacy_checks.report.review`); the
baseline against now, drawn (``#baseline-vs-now``,
:func:`~privacy_checks.report.figures.baseline_vs_now`); each model's most
vulnerable slice, chosen by the lower end of its AUC's interval, with its ROC
curve; which members leak (:mod:`~privacy_checks.report.leaks`); then every
check, one row each, filterable and sortable (:mod:`~privacy_checks.report.table`);
the DP guarantees and each DP model's white-box canary bound; the other figures; and what the numbers were measured with.

Images are embedded as data URIs, the script and styles are inline and the
page fetches nothing, so it opens from disk or from an artifact store alike;
without JavaScript every row is shown. The same run renders the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from privacy_checks.judge.tolerances import POWER
from privacy_checks.judge.verdicts import Status, WhiteBoxBound, counts as verdict_counts
from privacy_checks.report import figures, leaks, review, table
from privacy_checks.report.measured import MOST_VULNERABLE_RULE, Measured, most_vulnerable
from privacy_checks.spec.files import write_atomic

#: Failures shown in full at the top of the page; the rest are a filter away.
MAX_FAILURES = review.MAX_TOLD


def _leaks(measured: Measured) -> dict:
    """The "which examples leak" section: its mode, the lists, and thumbnails where allowed."""
    if measured.examples == "none":
        return {"mode": "none", "models": [], "images": {}, "class_names": ()}
    found = leaks.leaks(measured.evaluations, measured.profile.attacks, [m.name for m in measured.profile.models])
    images: dict[int, str] = {}
    class_names: tuple[str, ...] = ()
    mode = measured.examples
    if mode == "images":
        if measured.members is None or not leaks.is_image_shaped(measured.members.x):
            mode = "indices"  # nothing to draw: not loaded, or not images
        else:
            images = leaks.thumbnails(measured.members.x, sorted({m.index for f in found for m in f.members}))
            class_names = measured.members.class_names
    return {"mode": mode, "asked": measured.examples, "models": found, "images": images, "class_names": class_names}


def render(measured: Measured, plots: Mapping[str, Path]) -> str:
    """The page's HTML."""
    import jinja2
    import matplotlib

    matplotlib.use("Agg")
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("privacy_checks.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    evaluations, comparisons = measured.evaluations, measured.comparisons
    counts = {status.value: n for status, n in verdict_counts(comparisons.values()).items()}
    other_figures = [(title, figures.data_uri(path.read_bytes())) for title, path in plots.items() if path.exists()]
    for title, make in (
        ("Every attack by epoch, the reference-model attacks included", figures.attacks_figure),
        ("AUC by class at the last epoch", figures.class_figure),
        ("Accuracy by epoch", figures.accuracy_figure),
    ):
        uri = make(evaluations)
        if uri is not None:
            other_figures.append((title, uri))
    models = [m.name for m in measured.profile.models]
    rows = table.check_rows(comparisons, models, measured.profile.attacks)
    failures = review.failures(measured)
    return environment.get_template("report.html.j2").render(
        power=POWER,
        profile=measured.profile,
        verdict=review.verdict(measured),
        setup_changes=review.setup_changes(measured),
        failures=failures[:MAX_FAILURES],
        more_failures=len(failures) - min(len(failures), MAX_FAILURES),
        unmeasured=review.unmeasured(measured),
        counts=counts,
        baseline_vs_now=figures.baseline_vs_now(measured),
        panel_metrics=[label for _, label in figures.panel_metrics(measured)],
        most_vulnerable={m: r for m, (r, _) in sorted(most_vulnerable(evaluations).items())},
        most_vulnerable_rule=MOST_VULNERABLE_RULE,
        roc=figures.roc_figure(evaluations),
        leaks=_leaks(measured),
        metrics=table.table_metrics(comparisons),
        metric_label=table.metric_label,
        rows=rows,
        verdict_rank={status.value: rank for rank, status in enumerate(Status)},
        filters={
            "model": table.in_order((r.model for r in rows), models),
            "attack": table.in_order((r.attack for r in rows), measured.profile.attacks),
            "slice": sorted({r.slice for r in rows}, key=table.slice_order),
            "verdict": [v for v in counts if counts[v]],
        },
        figures=other_figures,
        versions=measured.versions,
        data_source=measured.data_source,
        baselines=dict(sorted(measured.baselines.items())),
        guarantees=sorted(
            measured.guarantees.values(),
            key=lambda c: (c.passed, c.model, c.epoch, c.attack, c.check),
        ),
        white_box=white_box_rows(measured),
    )


def white_box_rows(measured: Measured) -> list[tuple[str, int, WhiteBoxBound, float | None]]:
    """Per DP model whose conformance check ran: (model, epoch, its white-box canary bound, the
    largest black-box bound measured at that epoch or None), for the DP section's table."""
    rows = []
    for check in sorted(measured.guarantees.values(), key=lambda c: (c.model, c.epoch)):
        if check.white_box is None:
            continue
        black = [
            record.epsilon_lower_bound
            for evaluation in measured.evaluations
            for record in evaluation.records
            if record.model == check.model and record.epoch == check.epoch and record.epsilon_lower_bound is not None
        ]
        rows.append((check.model, check.epoch, check.white_box, max(black, default=None)))
    return rows


def write_html(directory: Path, measured: Measured, plots: Mapping[str, Path]) -> Path:
    """Writes ``index.html`` atomically; returns its path."""
    path = Path(directory) / "index.html"
    write_atomic(path, render(measured, plots))
    return path
