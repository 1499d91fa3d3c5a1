"""The page's figures, drawn with matplotlib and embedded as PNG data URIs.

First of them, *baseline against now*: per model, one panel per attack and
metric (AUC; TPR at the profile's lowest FPR) on the entire dataset, by
report epoch: the band from the baseline to baseline + tolerance (the
calibrated tolerance where the check used one, as the check's
:class:`~privacy_checks.judge.verdicts.MetricCheck` holds it), this run with
its 95 % interval, and each regression ringed in red. A reviewer sees at a
glance whether a failure is one epoch's noise or a curve that left its band.
Then the ROC curves of each model's most vulnerable slice on log-log axes (the
low false-positive region attacks are judged by, Carlini et al. 2022), every
attack by epoch, AUC by class, and accuracy by epoch.

The PNGs carry no software or date metadata: the same run draws the same bytes.
"""

from __future__ import annotations

import base64
import io
from typing import Mapping, Sequence

import numpy as np

from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.judge.verdicts import Comparison, MetricCheck, Status
from privacy_checks.report.measured import Measured, most_vulnerable
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import ENTIRE_DATASET, metric_fpr, tpr_metric


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(figure)
    return data_uri(buffer.getvalue())


def data_uri(png: bytes) -> str:
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
        low, high = record.intervals.get("auc", (record.auc, record.auc))
        axis.plot(
            fpr, tpr,
            label=f"{model}, epoch {record.epoch}, {record.attack}, {record.slice} "
            f"(AUC {record.auc:.3f}, 95% CI {low:.3f}-{high:.3f})",
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


def panel_metrics(measured: Measured) -> list[tuple[str, str]]:
    """The rows of the baseline-against-now panels: AUC, and TPR at the profile's lowest FPR."""
    rows = [("auc", "AUC")]
    if measured.profile.fprs:
        fpr = min(measured.profile.fprs)
        rows.append((tpr_metric(fpr), f"TPR at {fpr * 100:g}% FPR"))
    return rows


def baseline_vs_now(measured: Measured) -> list[tuple[str, str]]:
    """Per model, (caption, PNG data URI) of its entire-dataset metrics by epoch against the baselines:
    one column per attack, one row per metric of :func:`panel_metrics`."""
    import matplotlib.pyplot as plt

    series: dict[str, dict[str, list[AttackRecord]]] = {}
    for evaluation in measured.evaluations:
        for record in evaluation.records:
            if record.slice == ENTIRE_DATASET:
                series.setdefault(record.model, {}).setdefault(record.attack, []).append(record)
    order = [m.name for m in measured.profile.models]
    found = []
    for model in sorted(series, key=lambda m: (order.index(m) if m in order else len(order), m)):
        attacks = [a for a in measured.profile.attacks if a in series[model]]
        attacks += sorted(set(series[model]) - set(attacks))
        panels = panel_metrics(measured)
        figure, axes = plt.subplots(
            len(panels), len(attacks), figsize=(3.1 * len(attacks) + 0.6, 2.3 * len(panels) + 0.7),
            squeeze=False, sharex=True, sharey="row",
        )
        regressions = 0
        for column, attack in enumerate(attacks):
            records = sorted(series[model][attack], key=lambda r: r.epoch)
            failed = sum(
                _panel(axes[row][column], records, metric, measured.comparisons) for row, (metric, _) in enumerate(panels)
            )
            regressions += failed
            axes[0][column].set_title(attack + (f": {failed} regressed" if failed else ""), fontsize=10,
                                      color="#d1242f" if failed else "black")
            axes[-1][column].set_xlabel("epoch")
        for row, (_, label) in enumerate(panels):
            axes[row][0].set_ylabel(label)
        handles = {}
        for axis in axes.flat:
            for handle, text in zip(*axis.get_legend_handles_labels()):
                handles.setdefault(text, handle)
        figure.legend(handles.values(), handles.keys(), loc="lower center", fontsize=7, ncol=len(handles), frameon=False)
        spec = measured.profile.model(model) if model in order else None
        name = f"{model} ({spec.label})" if spec is not None and spec.label != model else model
        figure.suptitle(f"{name}: entire dataset, baseline against now", x=0.01, ha="left", fontsize=10)
        figure.tight_layout(rect=(0, 0.06, 1, 0.95))
        caption = f"{name}: " + (f"{regressions} regressed point(s), ringed in red" if regressions else "within the baselines' bands")
        found.append((caption, _png(figure)))
    return found


def _panel(axis, records: Sequence[AttackRecord], metric: str, comparisons: Mapping[CaseKey, Comparison]) -> int:
    """One attack's metric by epoch: the baseline band, this run with its interval, regressions ringed.
    Returns how many points regressed."""
    from matplotlib.ticker import MaxNLocator

    points = [(r, r.metric(metric)) for r in records if metric in r.tpr_at_fpr or metric == "auc"]
    if not points:  # a profile without this metric
        return 0
    checks: list[MetricCheck | None] = []
    for record, _ in points:
        comparison = comparisons.get(record.key)
        checks.append(next((c for c in comparison.checks if c.metric == metric), None) if comparison else None)
    based = [(r.epoch, c.baseline, c.tolerance) for (r, _), c in zip(points, checks) if c is not None and c.baseline is not None]
    if based:
        epochs, base, tolerance = (np.array(v, dtype=float) for v in zip(*based))
        axis.fill_between(epochs, base, base + tolerance, color="#9aa5b1", alpha=0.45, linewidth=0,
                          label="baseline to baseline + tolerance")
        axis.plot(epochs, base, color="#52606d", linestyle="--", linewidth=1, marker="_", label="baseline")
        if len(epochs) == 1:  # a band needs two epochs: draw the one as a bar
            axis.errorbar(epochs, base + tolerance / 2, yerr=tolerance / 2, fmt="none", color="#9aa5b1", linewidth=6)
    epochs = np.array([r.epoch for r, _ in points], dtype=float)
    values = np.array([v for _, v in points])
    intervals = [
        (c.interval if c is not None and c.interval is not None else r.intervals.get(metric, (v, v)))
        for (r, v), c in zip(points, checks)
    ]
    low = values - np.array([lo for lo, _ in intervals])
    high = np.array([hi for _, hi in intervals]) - values
    axis.errorbar(epochs, values, yerr=np.clip([low, high], 0, None), fmt="o-", color="#1f6feb", markersize=3,
                  linewidth=1.2, elinewidth=0.8, capsize=2, label="this run (95% CI)")
    failed = [(e, v) for e, v, c in zip(epochs, values, checks) if c is not None and c.status is Status.REGRESSED]
    if failed:
        axis.scatter(*zip(*failed), s=80, facecolors="none", edgecolors="#d1242f", linewidths=1.8, zorder=5,
                     label="regressed")
    axis.grid(True, linewidth=0.3, alpha=0.5)
    axis.tick_params(labelsize=7)
    axis.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    return len(failed)
