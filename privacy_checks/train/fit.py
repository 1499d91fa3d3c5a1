"""Train a model once and keep what the attacks need at each report epoch.

A Keras callback takes a :class:`Snapshot` at every report epoch: the logits
of all members and non-members (one large-batch prediction each), their labels,
and accuracy and loss on both sides computed from those same logits, so that
privacy evaluation adds two forward passes and nothing else.

Training is deterministic: the seed is derived from the profile's seed and the
model's name (so training one model alone, e.g. with ``-k``, gives the same
weights as a full run) and TensorFlow's op determinism is enabled.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

import numpy as np

from privacy_checks.data.dataset import Dataset
from privacy_checks.spec.model_spec import ModelSpec
from privacy_checks.spec.profile import Profile, dp_batch_problem
from privacy_checks.spec.vocabulary import derive_seed
from privacy_checks.train import lane, models, quiet
from privacy_checks.train.snapshot import Snapshot, TrainingRun


#: Prediction batch size: privacy evaluation must not cost more than training.
PREDICT_BATCH_SIZE = 2048

#: Training steps per call into TensorFlow's graph (Keras's ``steps_per_execution``).
STEPS_PER_EXECUTION = 32


class TrainingDiverged(RuntimeError):
    """Loss or logits became NaN/inf; attacking such outputs would be meaningless."""

    def __init__(self, model: str, epoch: int) -> None:
        super().__init__(
            f"training of {model} diverged at epoch {epoch}: logits are NaN or infinite; "
            "no attack was run on them"
        )
        self.model = model
        self.epoch = epoch


def accuracy_and_loss(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Top-1 accuracy and mean cross-entropy, computed from logits in float64."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    loss = log_norm - shifted[np.arange(len(labels)), labels]
    accuracy = (logits.argmax(axis=1) == labels).mean()
    return float(accuracy), float(loss.mean())


def take_snapshot(model, dataset: Dataset, name: str, epoch: int, outputs: str = "logits") -> Snapshot:
    """Predicts members and non-members once each, in large batches.

    A model that outputs probabilities is kept as their logarithms: valid
    logits of the same probabilities (softmax(log p) = p), so that attacks,
    accuracy and loss treat every model alike.
    """
    logits_in = model.predict(dataset.x_members, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    logits_out = model.predict(dataset.x_non_members, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    if outputs == "probabilities":
        logits_in, logits_out = models.log_probabilities(logits_in), models.log_probabilities(logits_out)
    if not (np.isfinite(logits_in).all() and np.isfinite(logits_out).all()):
        raise TrainingDiverged(name, epoch)
    train_accuracy, train_loss = accuracy_and_loss(logits_in, dataset.y_members)
    test_accuracy, test_loss = accuracy_and_loss(logits_out, dataset.y_non_members)
    return Snapshot(
        model=name,
        epoch=epoch,
        logits_members=logits_in,
        logits_non_members=logits_out,
        labels_members=dataset.y_members,
        labels_non_members=dataset.y_non_members,
        train_accuracy=train_accuracy,
        test_accuracy=test_accuracy,
        train_loss=train_loss,
        test_loss=test_loss,
    )


def _snapshot_callback(dataset: Dataset, spec: ModelSpec, report_epochs, on_snapshot, store):
    import tensorflow as tf

    class SnapshotCallback(tf.keras.callbacks.Callback):
        """Keeps a snapshot at each report epoch (the codelab's ``PrivacyMetrics``)."""

        def on_epoch_end(self, epoch, logs=None):
            epoch += 1  # Keras counts from 0, reports count from 1.
            loss = (logs or {}).get("loss")
            if loss is not None and not np.isfinite(loss):
                raise TrainingDiverged(spec.name, epoch)
            if epoch in report_epochs:
                snapshot = take_snapshot(self.model, dataset, spec.name, epoch, spec.output_kind)
                store.append(snapshot)
                if on_snapshot is not None:
                    on_snapshot(snapshot)

    return SnapshotCallback()


@contextlib.contextmanager
def without_tf_data_autotune() -> Iterator[None]:
    """Keras feeds arrays through tf.data without its autotuner, for the block.

    TensorFlow 2.15's autotuner runs a thread that sleeps between
    optimisations for a period that doubles up to 60 s, and destroying the
    iterator (when ``fit`` or ``predict`` returns) waits for that sleep to
    end: measured here, ``fit`` returned 0 to 19 s after its last epoch, at
    random (18 s on a 24 s DP training on ``digits``, 19 s on each 23 s
    ``cifar10-quick`` training half the time). Batches, their order and the
    shuffling are the same ops without it, so the numbers do not change
    (``tests/test_training.py``); the map's parallelism is then fixed at the
    number of cores, which arrays of images do not need more of.
    """
    import tensorflow as tf

    adapter, method = _array_adapter()
    if adapter is None:  # a Keras whose array adapter is unknown: its own tf.data settings
        yield
        return
    original = getattr(adapter, method)
    options = tf.data.Options()
    options.autotune.enabled = False

    def get_dataset(self):
        return original(self).with_options(options)

    setattr(adapter, method, get_dataset)
    try:
        yield
    finally:
        setattr(adapter, method, original)


def _array_adapter() -> tuple[type | None, str]:
    """The class that turns ``fit``'s arrays into a tf.data pipeline, and its method: Keras 2's
    ``TensorLikeDataAdapter.get_dataset`` or Keras 3's ``ArrayDataAdapter.get_tf_dataset``."""
    try:
        from keras.src.engine import data_adapter  # Keras 2 (the codelab lane)

        return data_adapter.TensorLikeDataAdapter, "get_dataset"
    except ImportError:
        pass
    try:
        from keras.src.trainers.data_adapters import array_data_adapter  # Keras 3

        return array_data_adapter.ArrayDataAdapter, "get_tf_dataset"
    except ImportError:
        return None, ""


def _fewer_calls(model, steps_per_epoch: int) -> None:
    """Up to :data:`STEPS_PER_EXECUTION` training steps per call into the graph instead of one,
    where an epoch has at least twice as many steps.

    The same ops run in the same order, so every logit is the same
    (``tests/test_training.py``; also checked byte for byte on the 2-layer
    ``cifar10-quick`` model and on all three ``digits`` models, the DP one
    included), with less Python between steps: on ``cifar10-quick`` (200
    steps an epoch) a 2-layer training took 17.0 s instead of 20.7 s. Tracing
    the loop costs about 0.5 s per training, which short epochs never win
    back (``digits``, 4 steps an epoch: no gain; the 2-step ``smoke``
    trainings of the plugin's tests: 1.3 s instead of 0.75 s), hence the
    threshold. Keras ends each call at the epoch's end, so the callbacks'
    epochs are as before. A model whose builder compiled it with its own
    ``steps_per_execution`` keeps it.
    """
    if steps_per_epoch < 2 * STEPS_PER_EXECUTION:
        return
    if hasattr(model, "_configure_steps_per_execution"):  # Keras 2
        if int(model._steps_per_execution.numpy()) == 1:
            model._configure_steps_per_execution(STEPS_PER_EXECUTION)
    elif getattr(model, "steps_per_execution", None) == 1 and not hasattr(model, "dp_sgd"):  # Keras 3
        model.steps_per_execution = STEPS_PER_EXECUTION


def configure_threads(profile: Profile) -> None:
    """Fixes TensorFlow's thread pools to the profile's counts before TensorFlow starts.

    TensorFlow accepts new counts only until its runtime starts; a process
    that already runs with other counts cannot switch, and numbers made
    there would silently belong to another thread count: that is an error.
    A runtime started with TensorFlow's automatic counts is accepted when
    they are the profile's (both follow the cores, so on the machine that
    recorded the baselines they agree).
    """
    import os

    import tensorflow as tf

    threading = tf.config.threading
    wanted = (profile.intra_op_threads, profile.inter_op_threads)
    current = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
    if current == wanted:
        return
    try:
        threading.set_intra_op_parallelism_threads(wanted[0])
        threading.set_inter_op_parallelism_threads(wanted[1])
    except RuntimeError:
        automatic = (os.cpu_count(), os.cpu_count())
        if current == (0, 0) and automatic == wanted:
            return
        raise RuntimeError(
            f"profile {profile.name!r} trains with {wanted[0]} intra-op and {wanted[1]} inter-op "
            f"TensorFlow threads, but TensorFlow already runs in this process with "
            f"{current[0] or 'automatic'} and {current[1] or 'automatic'}: run profiles with other "
            "thread counts in a pytest run of their own"
        ) from None


#: Builds a model instead of its builder (the ``pytest_privacy_build_model`` hook); None: the builder.
MakeModel = Callable[[Profile, ModelSpec], object]


def prepare(profile: Profile, spec: ModelSpec, dataset: Dataset, make: MakeModel | None = None):
    """``spec``'s model, built, checked against the profile and the data, and compiled."""
    model = models.build(profile, spec, None if make is None else make(profile, spec))
    models.check_outputs(profile, spec, model, dataset.x_members)
    return model


def preflight(profile: Profile, spec: ModelSpec, dataset: Dataset, make: MakeModel | None = None) -> None:
    """Builds and checks ``spec``'s model once, before any model trains.

    A builder that returns the wrong model, or probabilities declared as
    logits, is then reported before minutes of training, not after the
    models before it; so is a DP model whose members, known only now that
    the data is loaded, do not fill whole batches.
    """
    _check_dp_batches(profile, spec, dataset)
    import tensorflow as tf

    configure_threads(profile)
    with quiet.keras_seeding():
        tf.keras.utils.set_random_seed(derive_seed(profile.seed, "train", spec.name))
        prepare(profile, spec, dataset, make)
        tf.keras.backend.clear_session()


def train(
    profile: Profile,
    spec: ModelSpec,
    dataset: Dataset,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    make: MakeModel | None = None,
) -> TrainingRun:
    """Trains ``spec`` on the members for ``profile.epochs`` epochs, deterministically."""
    import tensorflow as tf

    configure_threads(profile)
    with quiet.keras_seeding():
        return _train(tf, profile, spec, dataset, on_snapshot, make)


def _check_dp_batches(profile: Profile, spec: ModelSpec, dataset: Dataset) -> None:
    """Raises ``ValueError`` when ``spec`` trains with DP-SGD on members that do not fill whole batches."""
    problem = dp_batch_problem(profile, spec, len(dataset.y_members))
    if problem is not None:
        raise ValueError(problem)


def _batches(tf, profile: Profile, spec: ModelSpec, dataset: Dataset):
    """The members as a tf.data pipeline, reshuffled every epoch with a seed of the training's:
    on Keras 3 ``fit`` spends 23 ms an epoch turning arrays into one (6.4 s of a 200-epoch digits
    training against 3.6 s from this), and ``digits`` epochs are four steps. Without the tf.data
    autotuner, whose sleeping thread holds up the end of a training (:func:`without_tf_data_autotune`)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    members = len(dataset.y_members)
    return (
        tf.data.Dataset.from_tensor_slices((dataset.x_members, dataset.y_members))
        .shuffle(members, seed=derive_seed(profile.seed, "shuffle", spec.name), reshuffle_each_iteration=True)
        .batch(profile.batch_size)
        .with_options(options)
    )


def _train(tf, profile, spec, dataset, on_snapshot, make) -> TrainingRun:
    members = len(dataset.y_members)
    _check_dp_batches(profile, spec, dataset)  # preflight checked it; a last line of defence
    tf.keras.utils.set_random_seed(derive_seed(profile.seed, "train", spec.name))
    tf.config.experimental.enable_op_determinism()
    model = prepare(profile, spec, dataset, make)
    _fewer_calls(model, -(-members // profile.batch_size))
    snapshots: list[Snapshot] = []
    callback = _snapshot_callback(dataset, spec, set(profile.report_epochs), on_snapshot, snapshots)
    start = time.perf_counter()
    if lane.keras_2():
        with without_tf_data_autotune():
            fitted = model.fit(
                dataset.x_members,
                dataset.y_members,
                batch_size=profile.batch_size,
                epochs=profile.epochs,
                shuffle=True,
                verbose=0,
                callbacks=[callback],
            )
    else:
        fitted = model.fit(
            _batches(tf, profile, spec, dataset), epochs=profile.epochs, shuffle=False, verbose=0, callbacks=[callback]
        )
    seconds = time.perf_counter() - start
    tf.keras.backend.clear_session()
    logs = fitted.history
    history = tuple(
        {"epoch": epoch + 1, **{name: float(values[epoch]) for name, values in sorted(logs.items())}}
        for epoch in range(len(logs.get("loss", ())))
    )
    return TrainingRun(spec.name, tuple(snapshots), seconds, history)
