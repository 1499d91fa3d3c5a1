"""What an attack run gives: an :class:`AttackRecord` per attack and slice, flat numbers, and an
:class:`Evaluation` per snapshot (its records, and the attacks' results in TF Privacy's vocabulary,
:mod:`privacy_checks.attack.mia`, for the plots)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Mapping

from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import ATTACKS, ENTIRE_DATASET, class_slice
from privacy_checks.train.snapshot import Snapshot

if TYPE_CHECKING:
    from privacy_checks.attack.mia import AttackResults


@dataclasses.dataclass(frozen=True)
class AttackRecord:
    """One attack on one slice of one model at one report epoch."""

    model: str
    epoch: int
    attack: str
    slice: str
    auc: float
    #: In the attack's own direction, max TPR - FPR (:func:`metrics.advantage`): what the gate judges.
    attacker_advantage: float
    ppv: float
    members: int
    non_members: int
    #: Epsilon lower bound at the profile's guarantee confidence and the model's
    #: delta (see :mod:`privacy_checks.attack.accounting`); computed on the entire
    #: dataset only, where a DP guarantee is checked.
    epsilon_lower_bound: float | None = None
    #: TPR at each of the profile's FPRs, by metric name (``tpr_at_fpr_0.001``).
    tpr_at_fpr: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: Bootstrap confidence interval of every metric (:mod:`privacy_checks.attack.metrics`).
    intervals: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    #: TF Privacy's attacker advantage, max |TPR - FPR|: the codelab's number (its plots show it).
    attacker_advantage_two_sided: float | None = None

    def __post_init__(self) -> None:
        # Records also come back from JSON (the cache), where tuples are lists.
        fixed = {name: (float(lo), float(hi)) for name, (lo, hi) in self.intervals.items()}
        object.__setattr__(self, "intervals", fixed)
        object.__setattr__(self, "tpr_at_fpr", {k: float(v) for k, v in self.tpr_at_fpr.items()})

    @property
    def key(self) -> CaseKey:
        """Which (model, epoch, attack, slice) it measured: ``2_layers/epoch10/threshold/class_3``."""
        return CaseKey(self.model, self.epoch, self.attack, self.slice)

    def metric(self, name: str) -> float:
        if name in self.tpr_at_fpr:
            return self.tpr_at_fpr[name]
        return float(getattr(self, name))


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """All attacks on one snapshot: flat records, and TF Privacy's results for plots.

    ``results`` holds TF Privacy's own attacks (None when the run asked only
    for reference-model attacks); the reference-model attacks' ROC curves,
    which TF Privacy's results cannot hold, are in ``curves``.
    """

    snapshot: Snapshot
    records: tuple[AttackRecord, ...]
    results: "AttackResults | None"
    #: ROC curves (TF Privacy's ``RocCurve``) of records ``results`` does not hold, by (attack, slice).
    curves: Mapping[tuple[str, str], Any] = dataclasses.field(default_factory=dict)
    #: The entire-dataset membership score of every member, in member order (higher: more
    #: surely a member; NaN where the attack scored no such member), by attack, for the
    #: attacks ``results`` does not hold: which examples leak is read from them (the report).
    member_scores: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def record(self, attack: str, slice_name: str) -> AttackRecord | None:
        for record in self.records:
            if record.attack == attack and record.slice == slice_name:
                return record
        return None

    def curve(self, record: AttackRecord):
        """The ROC curve of one of this evaluation's records."""
        if (record.attack, record.slice) in self.curves:
            return self.curves[(record.attack, record.slice)]
        for result in self.results.single_attack_results if self.results is not None else ():
            if short_attack_name(result.attack_type) == record.attack and slice_name(result.slice_spec) == record.slice:
                return result.roc_curve
        raise KeyError(f"no ROC curve of {record.key}")

    def scores_of_members(self, attack: str):
        """``attack``'s membership score of every member on the entire dataset, in member order
        (a NumPy array; higher: more surely a member), or None where it was not run.

        TF Privacy keeps its attacks' scores in ``results`` (``membership_scores_train``, in
        member order: its threshold attack's negated loss, its trained attackers' probability);
        the reference-model attacks keep theirs in ``member_scores``.
        """
        if attack in self.member_scores:
            return self.member_scores[attack]
        for result in self.results.single_attack_results if self.results is not None else ():
            if result.slice_spec.entire_dataset and short_attack_name(result.attack_type) == attack:
                return result.membership_scores_train
        return None

    def merged(self, other: "Evaluation") -> "Evaluation":
        """This evaluation with ``other``'s records, curves and scores (the same snapshot) added."""
        return dataclasses.replace(
            self,
            records=self.records + other.records,
            results=self.results if self.results is not None else other.results,
            curves={**self.curves, **other.curves},
            member_scores={**self.member_scores, **other.member_scores},
        )


def slice_name(slice_spec) -> str:
    """TF Privacy's ``SingleSliceSpec`` as this package names it: ``entire_dataset``, ``class_3``."""
    if slice_spec.entire_dataset:
        return ENTIRE_DATASET
    return class_slice(int(slice_spec.value))


def short_attack_name(attack_type) -> str:
    """TF Privacy's ``AttackType`` as this package names it: ``threshold``, ``logistic_regression``."""
    return {member: short for short, member in ATTACKS.items()}[attack_type.name]
