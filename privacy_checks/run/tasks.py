"""The trainings an executor runs: plain inputs in, a plain :class:`TrainingRun` out.

A task gets the profile with builders given by name (:meth:`Profile.plain`),
a model's name and the data set (or the handle :meth:`Executor.share` made
of it, which Ray turns back into the arrays in its worker), and returns the
training's snapshots: no live TensorFlow object crosses a process. It seeds
and sets TensorFlow's thread pools itself (:func:`privacy_checks.train.fit.train`),
so a worker gives the numbers this process would. The attack tasks are
:func:`privacy_checks.attack.codelab.evaluate` and
:func:`~privacy_checks.attack.reference_evaluation.evaluate_references`.
"""

from __future__ import annotations

import numpy as np

from privacy_checks.data.dataset import Dataset
from privacy_checks.spec.profile import Profile
from privacy_checks.train import references
from privacy_checks.train.fit import train
from privacy_checks.train.snapshot import TrainingRun


def train_model(profile: Profile, model: str, dataset: Dataset) -> TrainingRun:
    """The model under test (or a calibration seed's: the profile carries the seed)."""
    return train(profile, profile.model(model), dataset)


def train_reference(profile: Profile, model: str, dataset: Dataset, trains_on: np.ndarray, k: int) -> TrainingRun:
    """Reference model ``k`` of ``model``: on the examples ``trains_on`` marks, under its own seed."""
    return train(
        references.reference_profile(profile, k), profile.model(model),
        references.reference_dataset(dataset, trains_on),
    )
