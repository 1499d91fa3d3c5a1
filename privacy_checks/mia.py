"""TF Privacy's membership-inference vocabulary, as this project's own types.

TF Privacy 0.8.12 cannot be installed on Python 3.12+, NumPy 2 or
scikit-learn 1.7+, yet its attacks and their words (``AttackType``,
``SlicingSpec``, ``RocCurve``, ``AttackResults``) are what the codelab, the
baselines and users speak. This module redefines that vocabulary with NumPy
only, and :mod:`privacy_checks.mia_attacks` the attacks, so that the current
lane measures the same things; on the codelab lane ``tests/test_mia.py``
checks them against TF Privacy number for number.

The types are frozen dataclasses (results are data passed between stages and
must not change under a reader's feet). Those holding arrays compare by
identity (``eq=False``): element-wise ``==`` on arrays has no single truth value.

Scope is the codelab's: single-label classification, with logits or
probabilities of shape ``(n, classes)`` and integer labels, sliced on the
entire dataset and by class. Unlike TF Privacy there are no sample weights,
multi-label data, percentile or custom slices, nor epsilon lower bounds (the
project computes its own in :mod:`privacy_checks.accounting`).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, NamedTuple, Optional, Sequence, Union

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from collections.abc import Iterable

#: TPR and FPR closer to 0 than this count as 0 in the PPV (TF Privacy's value).
_NEAR_ZERO = 1e-3
#: Probability floors of TF Privacy's loss and entropy: log(0) must not be -inf.
_LOSS_FLOOR = 1e-8
_ENTROPY_FLOOR = 1e-30
#: Rows of "logits" summing to 1 within this are taken as probabilities by the entropy.
_PROBS_SUM_TOLERANCE = 1e-3

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


def _softmax(logits: np.ndarray) -> np.ndarray:
    return special.softmax(logits, axis=-1)


@dataclasses.dataclass(frozen=True, eq=False)
class AttackInputData:
    """A model's outputs on its members (``train``) and non-members (``test``), with labels.

    Give either logits or probabilities, shape ``(n, classes)``. The loss and
    entropy the threshold attacks use are derived as TF Privacy derives them,
    so that the same outputs give the same numbers.
    """

    labels_train: np.ndarray
    labels_test: np.ndarray
    logits_train: Optional[np.ndarray] = None
    logits_test: Optional[np.ndarray] = None
    probs_train: Optional[np.ndarray] = None
    probs_test: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        has_logits = (self.logits_train is not None, self.logits_test is not None)
        has_probs = (self.probs_train is not None, self.probs_test is not None)
        if has_logits not in ((True, True), (False, False)) or has_probs not in ((True, True), (False, False)):
            raise ValueError("give outputs for both members and non-members")
        if has_logits[0] == has_probs[0]:
            raise ValueError("give either logits or probabilities, not both or neither")
        for side, outputs, labels in (
            ("train", self.outputs_train, self.labels_train),
            ("test", self.outputs_test, self.labels_test),
        ):
            if not isinstance(outputs, np.ndarray) or outputs.ndim != 2 or outputs.shape[1] < 2:
                raise ValueError(f"{side} outputs must be a numpy array of shape (n, classes >= 2)")
            if not isinstance(labels, np.ndarray) or labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"labels_{side} must be a one-dimensional integer numpy array")
            if len(labels) != len(outputs):
                raise ValueError(f"labels_{side} and the {side} outputs differ in length")
            if labels.size and (labels.min() < 0 or labels.max() >= outputs.shape[1]):
                raise ValueError(f"labels_{side} must lie in [0, classes - 1]")
        if self.outputs_train.shape[1] != self.outputs_test.shape[1]:
            raise ValueError("members and non-members have different numbers of classes")

    @property
    def outputs_train(self) -> np.ndarray:
        """The members' logits, or probabilities if no logits were given."""
        return self.logits_train if self.logits_train is not None else self.probs_train

    @property
    def outputs_test(self) -> np.ndarray:
        return self.logits_test if self.logits_test is not None else self.probs_test

    @property
    def num_classes(self) -> int:
        """One more than the largest label seen (TF Privacy's count: classes are 0, 1, ...)."""
        return int(max(np.max(self.labels_train), np.max(self.labels_test))) + 1

    @property
    def size(self) -> DataSize:
        return DataSize(len(self.labels_train), len(self.labels_test))

    def _probs(self, side: str) -> np.ndarray:
        logits = getattr(self, f"logits_{side}")
        return _softmax(logits) if logits is not None else getattr(self, f"probs_{side}")

    def _loss(self, side: str) -> np.ndarray:
        """Cross-entropy: -log of the true class's probability, floored at 1e-8."""
        labels = getattr(self, f"labels_{side}")
        true_class = self._probs(side)[np.arange(labels.size), labels]
        return -np.log(np.maximum(true_class, _LOSS_FLOOR))

    def _entropy(self, side: str) -> np.ndarray:
        """Song & Mittal's modified entropy (arXiv:2003.10595, eq. 8): low for confident, correct outputs.

        -(1 - p_y) log p_y - sum_{c != y} p_c log(1 - p_c), logs floored at 1e-30.
        Logits whose rows already sum to 1 are taken as probabilities, as
        TF Privacy takes them. Given probabilities, they are used as they are:
        TF Privacy 0.8.12 derives the entropy from logits only and fails on
        probability-only inputs; these are the numbers it gives for the same
        probabilities passed as logits.
        """
        labels = getattr(self, f"labels_{side}")
        logits = getattr(self, f"logits_{side}")
        if logits is None:
            probs = getattr(self, f"probs_{side}")
        elif (np.absolute(np.sum(logits, axis=1) - 1) <= _PROBS_SUM_TOLERANCE).all():
            probs = logits
        else:
            probs = _softmax(logits)
        is_label = np.arange(probs.shape[1])[None, :] == labels[:, None]
        weight = np.where(is_label, 1 - probs, probs)
        surprisal = np.where(
            is_label,
            -np.log(np.maximum(probs, _ENTROPY_FLOOR)),
            -np.log(np.maximum(1 - probs, _ENTROPY_FLOOR)),
        )
        return np.sum(np.multiply(weight, surprisal), axis=1)

    def get_loss_train(self) -> np.ndarray:
        return self._loss("train")

    def get_loss_test(self) -> np.ndarray:
        return self._loss("test")

    def get_entropy_train(self) -> np.ndarray:
        return self._entropy("train")

    def get_entropy_test(self) -> np.ndarray:
        return self._entropy("test")

    def slice(self, spec: SingleSliceSpec) -> "AttackInputData":
        """The members and non-members of one slice (the data itself for the entire dataset)."""
        if spec.entire_dataset:
            return self
        in_train, in_test = self.labels_train == spec.value, self.labels_test == spec.value

        def pick(array: Optional[np.ndarray], chosen: np.ndarray) -> Optional[np.ndarray]:
            return None if array is None else array[chosen]

        return AttackInputData(
            labels_train=self.labels_train[in_train],
            labels_test=self.labels_test[in_test],
            logits_train=pick(self.logits_train, in_train),
            logits_test=pick(self.logits_test, in_test),
            probs_train=pick(self.probs_train, in_train),
            probs_test=pick(self.probs_test, in_test),
        )


def run_attacks(
    attack_input: AttackInputData,
    slicing_spec: Optional[SlicingSpec] = None,
    attack_types: Sequence[AttackType] = (AttackType.THRESHOLD_ATTACK,),
    privacy_report_metadata: Optional[PrivacyReportMetadata] = None,
    **options,
) -> AttackResults:
    """Runs every attack on every slice; see :func:`privacy_checks.mia_attacks.run_attacks`.

    Here so that the vocabulary and the entry point are one import; the
    attacks (and scikit-learn) load only when called.
    """
    from privacy_checks import mia_attacks

    return mia_attacks.run_attacks(attack_input, slicing_spec, attack_types, privacy_report_metadata, **options)
