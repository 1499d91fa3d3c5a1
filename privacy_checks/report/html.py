"""``index.html``: one self-contained page a reviewer opens from a CI artifact.

What regressed, where and by how much comes first (verdict counts, then every
check with failures on top), then why: TF Privacy's two report plots, the ROC
curve of each model's most vulnerable slice on log-log axes (the low
false-positive region the membership inference literature judges attacks by,
Carlini et al. 2022), AUC by class at the last epoch, accuracy by epoch, and
what the numbers were measured with. Every check shows its detectable rise:
the smallest rise above the baseline it catches at 80 % power, what a pass
rules out. Images are embedded as data URIs and the
page fetches nothing, so it opens from disk or from an artifact store alike.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from privacy_checks.attack.records import Evaluation
from privacy_checks.judge.tolerances import POWER
from privacy_checks.judge.verdicts import Comparison, Status, counts as verdict_counts
from privacy_checks.report.measured import Measured, most_vulnerable
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.files import write_atomic
from privacy_checks.spec.vocabulary import ENTIRE_DATASET, metric_fpr


_ORDER = {status: rank for rank, status in enumerate(Status)}  # worst first


@dataclasses.dataclass(frozen=True)
class Row:
    """One metric of one check, as a table row."""

    anchor: str
    model: str
    epoch: int
    attack: str
    slice: str
    metric: str
    obtained: float
    baseline: float | None
    difference: float | None
    tolerance: float
    tolerance_source: str
    interval: tuple[float, float] | None
    verdict: str
    #: What a pass rules out at 80 % power; ``detectable_at_least``: only a lower bound.
    detectable_rise: float | None = None
    detectable_at_least: bool = False


def rows(comparisons: Mapping[CaseKey, Comparison]) -> list[Row]:
    """Every checked metric, regressions first, then missing, improved, passed."""
    table = []
    for key, comparison in comparisons.items():
        for check in comparison.checks:
            table.append(
                Row(
                    anchor=f"{key.model}-epoch{key.epoch}-{key.attack}-{key.slice}",
                    model=key.model,
                    epoch=key.epoch,
                    attack=key.attack,
                    slice=key.slice,
                    metric=check.metric,
                    obtained=check.obtained,
                    baseline=check.baseline,
                    difference=check.difference,
                    tolerance=check.tolerance,
                    tolerance_source=check.tolerance_source,
                    interval=check.interval,
                    verdict=check.status.value,
                    detectable_rise=check.detectable_rise,
                    detectable_at_least=check.detectable_is_lower_bound,
                )
            )
    return sorted(
        table, key=lambda r: (_ORDER[Status(r.verdict)], r.model, r.epoch, r.attack, r.slice, r.metric)
    )


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(figure)
    return _data_uri(buffer.getvalue())


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def roc_figure(evaluations: Sequence[Evaluation]) -> str | None:
    """Log-log ROC curves of each model's most vulnerable (epoch, attack, slice)."""
    import matplotlib.pyplot as plt

    best = most_vulnerable(evaluations)
    if not best:
        return None
    figure, axis = plt.subplots(figsize=(6, 5))
    floor = 1e-4
    for model, (record, curve) in sorted(best.items()):
        fpr = np.clip(curve.fpr, floor, 1)
        tpr = np.clip(curve.tpr, floor, 1)
        axis.plot(
            fpr, tpr, label=f"{model}, epoch {record.epoch}, {record.attack}, {record.slice} (AUC {record.auc:.3f})"
        )
    axis.plot([floor, 1], [floor, 1], "k--", linewidth=0.8, label="chance")
    axis.set(xscale="log", yscale="log", xlabel="false positive rate", ylabel="true positive rate",
             title="Most vulnerable slice per model")
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return _png(figure)


def attacks_figure(evaluations: Sequence[Evaluation]) -> str | None:
    """AUC and TPR at the lowest FPR of every attack on the entire dataset, by epoch.

    TF Privacy's own plots know only its attacks; this one shows the
    reference-model attacks beside them.
    """
    import matplotlib.pyplot as plt

    series: dict[tuple[str, str], list] = {}
    for evaluation in sorted(evaluations, key=lambda e: e.snapshot.epoch):
        for record in evaluation.records:
            if record.slice == ENTIRE_DATASET:
                series.setdefault((record.model, record.attack), []).append(record)
    if not series:
        return None
    tpr_name = min(next(iter(series.values()))[0].tpr_at_fpr, key=metric_fpr, default=None)
    panels = [("auc", "AUC")] + ([(tpr_name, f"TPR at {metric_fpr(tpr_name):g} FPR")] if tpr_name else [])
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for axis, (metric, label) in zip(axes[0], panels):
        for (model, attack), records in sorted(series.items()):
            axis.plot([r.epoch for r in records], [r.metric(metric) for r in records], marker="o",
                      label=f"{model}, {attack}")
        axis.set(xlabel="epoch", ylabel=label, title=f"{label}, entire dataset")
    axes[0][0].axhline(0.5, color="k", linewidth=0.8)
    axes[0][-1].legend(fontsize=7)
    figure.tight_layout()
    return _png(figure)


def class_figure(evaluations: Sequence[Evaluation]) -> str | None:
    """AUC of each class slice at each model's last report epoch, per attack."""
    import matplotlib.pyplot as plt

    last: dict[str, Evaluation] = {}
    for evaluation in evaluations:
        model = evaluation.snapshot.model
        if model not in last or evaluation.snapshot.epoch > last[model].snapshot.epoch:
            last[model] = evaluation
    bars = {
        (model, record.attack, record.slice): record
        for model, evaluation in last.items()
        for record in evaluation.records
        if record.slice != ENTIRE_DATASET
    }
    if not bars:
        return None
    classes = sorted({r.slice for r in bars.values()}, key=lambda s: int(s.split("_")[-1]))
    series = sorted({(model, attack) for model, attack, _ in bars})
    figure, axis = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(series)
    for i, (model, attack) in enumerate(series):
        values = [
            bars[(model, attack, c)].auc if (model, attack, c) in bars else np.nan
            for c in classes
        ]
        epoch = last[model].snapshot.epoch
        axis.bar(np.arange(len(classes)) + i * width, values, width, label=f"{model} (epoch {epoch}), {attack}")
    axis.axhline(0.5, color="k", linewidth=0.8)
    axis.set_xticks(np.arange(len(classes)) + 0.4 - width / 2, [c.removeprefix("class_") for c in classes])
    axis.set(xlabel="class", ylabel="AUC", title="Vulnerability by class at the last epoch",
             ylim=(0.4, max(0.6, float(np.nanmax([r.auc for r in bars.values()])) + 0.05)))
    axis.legend(fontsize=7)
    figure.tight_layout()
    return _png(figure)


def accuracy_figure(evaluations: Sequence[Evaluation]) -> str | None:
    """Train and test accuracy at each report epoch, per model."""
    import matplotlib.pyplot as plt

    by_model: dict[str, list] = {}
    for evaluation in evaluations:
        by_model.setdefault(evaluation.snapshot.model, []).append(evaluation.snapshot)
    if not by_model:
        return None
    figure, axis = plt.subplots(figsize=(6, 4))
    for model, snapshots in sorted(by_model.items()):
        snapshots.sort(key=lambda s: s.epoch)
        epochs = [s.epoch for s in snapshots]
        line = axis.plot(epochs, [s.train_accuracy for s in snapshots], marker="o", label=f"{model} train")
        axis.plot(epochs, [s.test_accuracy for s in snapshots], marker="o", linestyle="--",
                  color=line[0].get_color(), label=f"{model} test")
    axis.set(xlabel="epoch", ylabel="accuracy", title="Accuracy by epoch")
    axis.legend(fontsize=7)
    figure.tight_layout()
    return _png(figure)


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
    figures = [
        (title, _data_uri(path.read_bytes()))
        for title, path in plots.items()
        if path.exists()
    ]
    for title, make in (
        ("Every attack by epoch, the reference-model attacks included", attacks_figure),
        ("ROC curves of the most vulnerable slices (log-log)", roc_figure),
        ("AUC by class at the last epoch", class_figure),
        ("Accuracy by epoch", accuracy_figure),
    ):
        uri = make(evaluations)
        if uri is not None:
            figures.append((title, uri))
    return environment.get_template("report.html.j2").render(
        power=POWER,
        profile=measured.profile,
        counts=counts,
        rows=rows(comparisons),
        figures=figures,
        versions=measured.versions,
        data_source=measured.data_source,
        baselines=dict(sorted(measured.baselines.items())),
        most_vulnerable={m: r for m, (r, _) in sorted(most_vulnerable(evaluations).items())},
        guarantees=sorted(
            measured.guarantees.values(),
            key=lambda c: (c.passed, c.model, c.epoch, c.attack, c.check),
        ),
    )


def write_html(directory: Path, measured: Measured, plots: Mapping[str, Path]) -> Path:
    """Writes ``index.html`` atomically; returns its path."""
    path = Path(directory) / "index.html"
    write_atomic(path, render(measured, plots))
    return path

