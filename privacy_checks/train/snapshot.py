"""What a training leaves for the attacks: a :class:`Snapshot` of the model's outputs at each report
epoch, and the :class:`TrainingRun` that holds them. Plain arrays: no TensorFlow object crosses here."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A model's outputs at one report epoch: what ``AttackInputData`` needs."""

    model: str
    epoch: int
    logits_members: np.ndarray
    logits_non_members: np.ndarray
    labels_members: np.ndarray
    labels_non_members: np.ndarray
    train_accuracy: float
    test_accuracy: float
    train_loss: float
    test_loss: float


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """One trained model's snapshots, in report-epoch order, and its cost."""

    model: str
    snapshots: tuple[Snapshot, ...]
    seconds: float
    #: Keras's own per-epoch logs (``loss``, ``accuracy``: running averages over
    #: the epoch's batches), the numbers the codelab prints.
    history: tuple[dict[str, float], ...] = ()

    def at(self, epoch: int) -> Snapshot:
        for snapshot in self.snapshots:
            if snapshot.epoch == epoch:
                return snapshot
        raise KeyError(f"{self.model} has no snapshot at epoch {epoch}")
