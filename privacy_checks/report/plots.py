"""The codelab's two privacy-report figures of a session's evaluations (TF Privacy's, drawn by
:mod:`privacy_checks.report.mia_plots`): vulnerability by epoch, and
privacy against *test* accuracy (the codelab feeds validation accuracy into the plot's
``accuracy_train`` field; here the metadata keep the true train accuracy and the plot gets a
relabelled copy)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable, Sequence

from privacy_checks.attack.mia import AttackResultsCollection, PrivacyMetric
from privacy_checks.attack.records import Evaluation


def _collection(evaluations: Iterable[Evaluation], x_is_test_accuracy: bool) -> AttackResultsCollection:
    collection = []
    for evaluation in evaluations:
        results = evaluation.results
        if results is None:  # reference-model attacks only: TF Privacy's plots know no such attack
            continue
        if x_is_test_accuracy:
            metadata = dataclasses.replace(
                results.privacy_report_metadata,
                accuracy_train=evaluation.snapshot.test_accuracy,
            )
            results = dataclasses.replace(results, privacy_report_metadata=metadata)
        collection.append(results)
    return AttackResultsCollection(tuple(collection))


def write_plots(directory: Path, evaluations: Sequence[Evaluation]) -> list[Path]:
    """TF Privacy's two privacy report figures, both models in one collection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from privacy_checks.report import mia_plots as privacy_report

    metrics = (PrivacyMetric.AUC, PrivacyMetric.ATTACKER_ADVANTAGE)
    written = []
    figure = privacy_report.plot_by_epochs(_collection(evaluations, False), metrics)
    written.append(_save(figure, directory / "epochs.png"))
    figure = privacy_report.plot_privacy_vs_accuracy(_collection(evaluations, True), metrics)
    for axis in figure.axes:
        axis.set_xlabel("Test accuracy")
    written.append(_save(figure, directory / "privacy_vs_accuracy.png"))
    plt.close("all")
    return written


def _save(figure, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    tmp.replace(path)
    return path
