"""What the attacks attack: a model's outputs on its members and non-members, with labels
(:class:`AttackInputData`), and the loss and entropy TF Privacy derives from them."""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
from scipy import special

from privacy_checks.attack.mia_vocabulary import DataSize, SingleSliceSpec


#: Probability floors of TF Privacy's loss and entropy: log(0) must not be -inf.
_LOSS_FLOOR = 1e-8
_ENTROPY_FLOOR = 1e-30
#: Rows of "logits" summing to 1 within this are taken as probabilities by the entropy.
_PROBS_SUM_TOLERANCE = 1e-3


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
