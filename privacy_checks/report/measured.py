"""What one session measured and decided, as one value: everything a report shows."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Sequence

from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.judge.baselines import Baseline
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.profile import Profile


@dataclasses.dataclass(frozen=True)
class Measured:
    """What one session measured and decided: everything the report shows."""

    profile: Profile
    evaluations: Sequence[Evaluation]
    comparisons: Mapping[CaseKey, Comparison]
    versions: Mapping[str, str]
    data_source: str
    #: Keras's per-epoch logs, by model.
    histories: Mapping[str, Sequence[Mapping[str, float]]] = dataclasses.field(default_factory=dict)
    #: The baseline files read, by model (their metadata goes on the page).
    baselines: Mapping[str, Baseline] = dataclasses.field(default_factory=dict)
    #: DP guarantee verdicts, by (case key, check).
    guarantees: Mapping[tuple[CaseKey, str], GuaranteeCheck] = dataclasses.field(default_factory=dict)

    def ordered(self) -> "Measured":
        """The same, with evaluations in profile model order, then epoch."""
        names = [m.name for m in self.profile.models]
        return dataclasses.replace(
            self,
            evaluations=sorted(
                self.evaluations, key=lambda e: (names.index(e.snapshot.model), e.snapshot.epoch)
            ),
        )


def most_vulnerable(evaluations: Iterable[Evaluation]) -> dict[str, tuple[AttackRecord, Any]]:
    """Per model, the (epoch, attack, slice) with the highest AUC, and its ROC curve (TF Privacy's ``RocCurve``)."""
    best: dict[str, tuple[AttackRecord, Evaluation]] = {}
    for evaluation in evaluations:
        for record in evaluation.records:
            if record.model not in best or record.auc > best[record.model][0].auc:
                best[record.model] = (record, evaluation)
    return {model: (record, evaluation.curve(record)) for model, (record, evaluation) in best.items()}
