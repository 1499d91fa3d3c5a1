"""TF Privacy's membership-inference words as this project's own frozen types: attack types,
privacy metrics, slices, ROC curves and results (:mod:`privacy_checks.attack.mia` holds them
all, with the attacks' inputs and entry point)."""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, NamedTuple, Optional, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable


#: TPR and FPR closer to 0 than this count as 0 in the PPV (TF Privacy's value).
_NEAR_ZERO = 1e-3


ENTIRE_DATASET_SLICE_STR = "Entire dataset"


class AttackType(enum.Enum):
    """Which attack: two thresholds on a per-example statistic, four trained classifiers."""

    LOGISTIC_REGRESSION = "lr"
    MULTI_LAYERED_PERCEPTRON = "mlp"
    RANDOM_FOREST = "rf"
    K_NEAREST_NEIGHBORS = "knn"
    THRESHOLD_ATTACK = "threshold"
    THRESHOLD_ENTROPY_ATTACK = "threshold-entropy"

    @property
    def is_trained_attack(self) -> bool:
        """Whether the attacker is a classifier fit on the outputs (and so draws randomness)."""
        return self not in (AttackType.THRESHOLD_ATTACK, AttackType.THRESHOLD_ENTROPY_ATTACK)

    def __str__(self) -> str:
        # The privacy report's legends say "THRESHOLD_ATTACK", as TF Privacy's do.
        return self.name


class PrivacyMetric(enum.Enum):
    """Metrics the privacy report plots; the values are the plots' column titles."""

    AUC = "AUC"
    ATTACKER_ADVANTAGE = "Attacker advantage"
    PPV = "Positive predictive value"

    def __str__(self) -> str:
        return self.value


class SlicingFeature(enum.Enum):
    """What a slice selects on; only classes here (TF Privacy also has percentiles, ...)."""

    CLASS = "class"


@dataclasses.dataclass(frozen=True)
class SingleSliceSpec:
    """One slice: the entire dataset (no feature) or the examples of one class."""

    feature: Optional[SlicingFeature] = None
    value: Optional[int] = None

    @property
    def entire_dataset(self) -> bool:
        return self.feature is None

    def __str__(self) -> str:
        if self.entire_dataset:
            return ENTIRE_DATASET_SLICE_STR
        return f"{self.feature.name}={self.value}"


@dataclasses.dataclass(frozen=True)
class SlicingSpec:
    """Which slices to attack: the entire dataset and/or classes.

    ``by_class`` is ``True`` (every class ``0 .. num_classes - 1``), one class
    number, or a sequence of them, as in TF Privacy.
    """

    entire_dataset: bool = True
    by_class: Union[bool, int, Sequence[int]] = False

    def single_slice_specs(self, num_classes: Optional[int] = None) -> list[SingleSliceSpec]:
        """The slices in TF Privacy's order: entire dataset first, then classes ascending."""
        specs = [SingleSliceSpec()] if self.entire_dataset else []
        if isinstance(self.by_class, bool):
            if self.by_class:
                if not num_classes:
                    raise ValueError("slicing by class needs the number of classes")
                classes: Iterable[int] = range(num_classes)
            else:
                classes = ()
        elif isinstance(self.by_class, (int, np.integer)):
            classes = (int(self.by_class),)
        else:
            classes = self.by_class
        specs += [SingleSliceSpec(SlicingFeature.CLASS, c) for c in classes]
        return specs


class DataSize(NamedTuple):
    """How many members (``ntrain``) and non-members (``ntest``) an attack saw."""

    ntrain: int
    ntest: int


@dataclasses.dataclass(frozen=True, eq=False)
class RocCurve:
    """An attack's ROC curve; ``test_train_ratio`` (non-members / members) weighs the PPV."""

    tpr: np.ndarray
    fpr: np.ndarray
    thresholds: np.ndarray
    test_train_ratio: float

    def get_auc(self) -> float:
        """Area under the curve, by scikit-learn's trapezoids (the same call as TF Privacy)."""
        from sklearn import metrics

        return metrics.auc(self.fpr, self.tpr)

    def get_attacker_advantage(self) -> float:
        """max |TPR - FPR| over thresholds (Yeom et al.'s advantage at the best threshold).

        The absolute value counts an attacker that is reliably wrong as
        leaking too, as TF Privacy does.
        """
        return np.max(np.abs(self.tpr - self.fpr))

    def get_ppv(self) -> float:
        """Best precision TP / (TP + FP) over thresholds, for these set sizes.

        Where TPR and FPR are both about 0 the ratio is 0/0; its limit for
        TPR = FPR, 1 / (1 + test_train_ratio), is used instead (TF Privacy's rule).
        """
        tpr, fpr = np.asarray(self.tpr), np.asarray(self.fpr)
        predicted = tpr + fpr * self.test_train_ratio
        precision = np.divide(tpr, predicted, out=np.zeros_like(predicted), where=predicted != 0)
        both_zero = np.isclose(tpr, 0.0, atol=_NEAR_ZERO) & np.isclose(fpr, 0.0, atol=_NEAR_ZERO)
        return np.max(np.where(both_zero, 1.0 / (1.0 + self.test_train_ratio), precision))


@dataclasses.dataclass(frozen=True, eq=False)
class SingleAttackResult:
    """One attack on one slice: its ROC curve and every example's membership score.

    Scores are higher for "more likely a member" (the negated loss or
    entropy, or the attacker's member probability); they are comparable
    within one result only.
    """

    slice_spec: SingleSliceSpec
    data_size: DataSize
    attack_type: AttackType
    roc_curve: RocCurve
    membership_scores_train: np.ndarray
    membership_scores_test: np.ndarray

    def get_auc(self) -> float:
        return self.roc_curve.get_auc()

    def get_attacker_advantage(self) -> float:
        return self.roc_curve.get_attacker_advantage()

    def get_ppv(self) -> float:
        return self.roc_curve.get_ppv()


@dataclasses.dataclass(frozen=True)
class PrivacyReportMetadata:
    """What the privacy report plots against: the model's accuracy and loss, epoch, label."""

    accuracy_train: Optional[float] = None
    accuracy_test: Optional[float] = None
    loss_train: Optional[float] = None
    loss_test: Optional[float] = None
    model_variant_label: str = "Default model variant"
    epoch_num: Optional[int] = None


@dataclasses.dataclass(frozen=True, eq=False)
class AttackResults:
    """All attacks on all slices of one model at one epoch."""

    single_attack_results: tuple[SingleAttackResult, ...]
    privacy_report_metadata: Optional[PrivacyReportMetadata] = None


@dataclasses.dataclass(frozen=True, eq=False)
class AttackResultsCollection:
    """Several models and epochs, for the privacy report's plots."""

    attack_results_list: tuple[AttackResults, ...]
