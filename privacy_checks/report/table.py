"""The checks table: one row per check (model, epoch, attack, slice), its metrics side by side.

One row per metric made the default profile's page 2,376 rows long, and a
reviewer read the same check four times to judge it. Here each row is one
check, its metrics in cells of their own (obtained, baseline + tolerance, the
metric's verdict), grouped by model and attack and failures first; the page
filters it by model, attack, slice and verdict and sorts it by any column
(plain inline JavaScript, :mod:`privacy_checks.report.html`). Each row keeps an
anchor (``#2_layers-epoch150-rmia-class_3``) and each metric cell the anchor
of the old per-metric rows (``...-auc``), so links into earlier reports still land.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Sequence

from privacy_checks.judge.verdicts import Comparison, MetricCheck, Status
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import metric_fpr

_ORDER = {status: rank for rank, status in enumerate(Status)}  # worst first


def metric_label(metric: str) -> str:
    """A column's short name: ``AUC``, ``advantage``, ``TPR@0.1%``."""
    fpr = metric_fpr(metric)
    if fpr is not None:
        return f"TPR@{fpr * 100:g}%"
    return {"auc": "AUC", "attacker_advantage": "advantage"}.get(metric, metric)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One metric of one check, as the table shows it."""

    metric: str
    obtained: float
    baseline: float | None
    tolerance: float
    tolerance_source: str
    interval: tuple[float, float] | None
    verdict: str
    detectable_rise: float | None
    detectable_at_least: bool

    @property
    def title(self) -> str:
        """What the cell does not show, for its tooltip: interval, difference, tolerance's source, detectable rise."""
        parts = []
        if self.interval is not None:
            parts.append(f"95% CI {self.interval[0]:.4f}-{self.interval[1]:.4f}")
        if self.baseline is not None:
            parts.append(f"{self.obtained - self.baseline:+.4f} vs baseline")
        parts.append(f"tolerance {self.tolerance_source}")
        if self.detectable_rise is not None:
            parts.append(f"detectable rise +{self.detectable_rise:.4f}" + (" or more" if self.detectable_at_least else ""))
        return f"{self.metric}: " + "; ".join(parts)


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """One check: where it is, its verdict, and each metric's cell in the table's metric order."""

    anchor: str
    model: str
    epoch: int
    attack: str
    slice: str
    verdict: str
    cells: tuple[Cell | None, ...]


def _cell(check: MetricCheck) -> Cell:
    return Cell(
        metric=check.metric,
        obtained=check.obtained,
        baseline=check.baseline,
        tolerance=check.tolerance,
        tolerance_source=check.tolerance_source,
        interval=check.interval,
        verdict=check.status.value,
        detectable_rise=check.detectable_rise,
        detectable_at_least=check.detectable_is_lower_bound,
    )


def anchor(key: CaseKey) -> str:
    """A check's anchor on the page: ``2_layers-epoch150-rmia-class_3``."""
    return f"{key.model}-epoch{key.epoch}-{key.attack}-{key.slice}"


def table_metrics(comparisons: Mapping[CaseKey, Comparison]) -> list[str]:
    """The metric columns, in the order the checks list them."""
    return list(dict.fromkeys(check.metric for c in comparisons.values() for check in c.checks))


def in_order(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """The distinct ``names``, those in ``preferred`` first and in its order, then the others by name."""
    return sorted(set(names), key=lambda name: (
        (preferred.index(name), "") if name in preferred else (len(preferred), name)
    ))


def slice_order(name: str) -> tuple[int, int | str]:
    """``entire_dataset`` first, then the classes by number (``class_10`` after ``class_9``)."""
    tail = name.rpartition("_")[2]
    return (1, int(tail)) if name.startswith("class_") and tail.isdigit() else (0, name)


def check_rows(
    comparisons: Mapping[CaseKey, Comparison],
    models: Sequence[str] = (),
    attacks: Sequence[str] = (),
) -> list[CheckRow]:
    """Every check as a row: failures first (regressed, then new), then by model and attack in
    the profile's order (``models``, ``attacks``; others after, by name), epoch and slice."""
    metrics = table_metrics(comparisons)
    model_order = in_order((k.model for k in comparisons), models)
    attack_order = in_order((k.attack for k in comparisons), attacks)
    found = []
    for key, comparison in comparisons.items():
        by_metric = {check.metric: _cell(check) for check in comparison.checks}
        found.append(CheckRow(
            anchor=anchor(key), model=key.model, epoch=key.epoch, attack=key.attack, slice=key.slice,
            verdict=comparison.status.value, cells=tuple(by_metric.get(m) for m in metrics),
        ))
    return sorted(found, key=lambda r: (
        _ORDER[Status(r.verdict)], model_order.index(r.model), attack_order.index(r.attack), r.epoch,
        slice_order(r.slice),
    ))
