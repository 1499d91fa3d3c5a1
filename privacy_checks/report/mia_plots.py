"""TF Privacy's two privacy-report figures, drawn from this project's result types.

The codelab's report shows, for the entire-dataset slice, how vulnerable
each model is by epoch and against its accuracy: one panel per privacy
metric, one line per model and attack ("2 Layers - THRESHOLD_ATTACK"). Reviewers
know these figures; TF Privacy draws them through pandas from its own types,
and cannot be installed on the current lane. These functions draw the same
figures (layout, series, titles, labels, legend) with matplotlib alone, from
:class:`privacy_checks.attack.mia.AttackResults`.

Like TF Privacy's, they draw with ``matplotlib.pyplot``: choose the backend
before calling, and close the figures (``plt.close(figure)``) when done.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from privacy_checks.attack.mia import ENTIRE_DATASET_SLICE_STR, AttackResults, AttackResultsCollection, PrivacyMetric

#: The x axes' names, which are also their labels in the figures.
EPOCH = "Epoch"
TRAIN_ACCURACY = "Train accuracy"

Results = Union[AttackResultsCollection, Sequence[AttackResults]]


def plot_by_epochs(results_collection: Results, privacy_metrics: Sequence[PrivacyMetric]):
    """Vulnerability against the epoch: does leakage grow as the model trains?"""
    return _subplots(_rows(results_collection), EPOCH, "Vulnerability per Epoch", privacy_metrics)


def plot_privacy_vs_accuracy(results_collection: Results, privacy_metrics: Sequence[PrivacyMetric]):
    """Vulnerability against the metadata's ``accuracy_train``: what each point of utility costs.

    The x label says "Train accuracy", as TF Privacy's does; a caller that
    stores the test accuracy there (the codelab's report does) relabels the
    axes after.
    """
    return _subplots(_rows(results_collection), TRAIN_ACCURACY, "Privacy vs Utility Analysis", privacy_metrics)


def _rows(results_collection: Results) -> list[dict]:
    """One row per entire-dataset result: its legend label, x values and metrics, in input order."""
    results = (
        results_collection.attack_results_list
        if isinstance(results_collection, AttackResultsCollection)
        else results_collection
    )
    rows = []
    for attack_results in results:
        metadata = attack_results.privacy_report_metadata
        if metadata is None:
            raise ValueError("Privacy metadata is not defined.")
        if metadata.epoch_num is None:
            raise ValueError("epoch_num in metadata is not defined.")
        for result in attack_results.single_attack_results:
            if not result.slice_spec.entire_dataset:
                continue
            rows.append(
                {
                    "label": f"{metadata.model_variant_label} - {result.attack_type}",
                    EPOCH: metadata.epoch_num,
                    TRAIN_ACCURACY: metadata.accuracy_train,
                    PrivacyMetric.AUC: float(result.get_auc()),
                    PrivacyMetric.ATTACKER_ADVANTAGE: float(result.get_attacker_advantage()),
                    PrivacyMetric.PPV: float(result.get_ppv()),
                }
            )
    if not rows:
        raise ValueError("no entire-dataset results to plot")
    return rows


def _ascending(values: list) -> np.ndarray:
    """The order pandas' ``sort_values`` gives: NumPy's default argsort of the values, NaN last.

    The same unstable sort on the same dtype (epochs stay integers) puts
    ties, e.g. two epochs of equal accuracy, in the order TF Privacy draws them.
    """
    x = np.asarray([np.nan if value is None else value for value in values])
    missing = np.isnan(x) if x.dtype.kind == "f" else np.zeros(len(x), dtype=bool)
    known = np.flatnonzero(~missing)
    return np.concatenate((known[x[known].argsort(kind="quicksort")], np.flatnonzero(missing)))


def _subplots(rows: list[dict], x_axis: str, title: str, privacy_metrics: Sequence[PrivacyMetric]):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(privacy_metrics), figsize=(5 * len(privacy_metrics) + 3, 5))
    figure.suptitle(title)
    axes = np.atleast_1d(axes)
    labels = list(dict.fromkeys(row["label"] for row in rows))  # first-seen order
    for axis, metric in zip(axes, privacy_metrics):
        for label in labels:
            mine = [row for row in rows if row["label"] == label]
            order = _ascending([row[x_axis] for row in mine])
            axis.plot([mine[i][x_axis] for i in order], [mine[i][metric] for i in order])
        axis.set_xlabel(x_axis)
        axis.set_title(f"{metric} for {ENTIRE_DATASET_SLICE_STR}")
    # The legend beside the last panel, outside it, as TF Privacy places it.
    axes[-1].legend(labels, loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.tight_layout(rect=[0, 0, 1, 0.93])  # leaves room for the title
    return figure
