"""DP-SGD's per-example gradients example by example: TF Privacy's bits, or TF Privacy's path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks.data import load
from privacy_checks.spec.model_spec import DPSGD
from privacy_checks.spec.registry import DIGITS
from privacy_checks.train import fit, models, per_example

from lanes import codelab_only  # noqa: E402

# TF Privacy's path on the codelab lane: the current lane's DP-SGD is tests/test_dp_sgd.py's.
pytestmark = [pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning"), codelab_only]

DP = DPSGD(l2_norm_clip=1.0, noise_multiplier=5.0, learning_rate=1e-2)


def _dp_model(*extra_layers, regularised: bool = False):
    import tensorflow as tf

    layers = [
        tf.keras.layers.Input(shape=(8, 8, 1)),
        tf.keras.layers.Conv2D(4, 3, activation="relu", padding="same"),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Flatten(),
        *extra_layers,
        tf.keras.layers.Dense(10, kernel_regularizer="l2" if regularised else None),
    ]
    model = tf.keras.Sequential(layers)
    models.compile_model(model, "logits", 1e-2, DP, batch_size=50)
    return model


def test_the_codelab_dp_model_computes_each_gradient_from_its_example():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    assert per_example.applies(_dp_model())
    assert "_train_step" in repr(_dp_model().train_step)


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda tf: _dp_model(tf.keras.layers.Dropout(0.5)), "dropout draws randomness per batch"),
        (lambda tf: _dp_model(type("MyDense", (tf.keras.layers.Dense,), {})(8)), "a subclass may change call"),
        (lambda tf: _dp_model(regularised=True), "an added loss"),
    ],
)
def test_anything_else_keeps_tf_privacys_jacobian(make, why):
    import tensorflow as tf

    model = make(tf)
    assert not per_example.applies(model), why
    assert "_train_step" not in repr(model.train_step)


def test_a_functional_model_of_those_layers_applies_too():
    import tensorflow as tf

    inputs = tf.keras.layers.Input(shape=(4,))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(tf.keras.layers.Dense(8, activation="relu")(inputs)))
    models.compile_model(model, "logits", 1e-2, DP, batch_size=50)
    assert per_example.applies(model)


def test_a_model_without_dp_is_left_alone():
    import tensorflow as tf

    model = models.codelab_cnn((8, 8, 1), 10, 1, padding="same")
    models.compile_model(model, "logits", 1e-3)
    assert not per_example.applies(model)


def _every_known_layer():
    """A DP model made of every layer type :func:`per_example.per_example_layers` knows."""
    import tensorflow as tf

    layers = tf.keras.layers
    inputs = layers.Input(shape=(8, 8, 1))
    x = layers.Conv2D(6, 3, padding="same")(inputs)
    x = layers.ReLU()(x)
    x = layers.AveragePooling2D()(x)
    x = layers.Conv2D(6, 3, padding="same", activation="tanh")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Activation("relu")(layers.Dense(16)(x))
    model = tf.keras.Model(inputs, layers.Dense(10)(x))
    models.compile_model(model, "logits", 1e-2, DP, batch_size=50)
    return model


@pytest.mark.parametrize("which", ["digits dp_2_layers", "every known layer"])
def test_per_example_rows_are_the_jacobians_bit_for_bit(which):
    """The tape's ``jacobian`` against a real tape's, on four batches of digits."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(3)
    profile = DIGITS
    data = load.load(profile)
    model = models.build(profile, profile.model("dp_2_layers")) if which.startswith("digits") else _every_known_layer()
    assert per_example.applies(model)
    if which == "every known layer":
        assert {type(layer) for layer in model.layers} == set(per_example.per_example_layers())
    variables = model.trainable_variables

    @tf.function
    def both(x, y):
        with tf.GradientTape() as tape:
            losses = model.loss(y, model(x, training=True))
        real = tape.jacobian(losses, variables)
        with tf.GradientTape() as tape:
            losses = model.loss(y, model(x, training=True))
        ours = per_example._PerExampleTape(tape, model, x, y).jacobian(losses, variables)
        return real, ours

    for start in range(0, 200, 50):
        real, ours = both(data.x_members[start:start + 50], data.y_members[start:start + 50])
        for a, b in zip(real, ours):
            assert a.shape == b.shape
            assert np.array_equal(a.numpy(), b.numpy())


def test_a_dp_training_gives_tf_privacys_numbers(monkeypatch):
    """Ten epochs of the digits DP model, noise included: every logit and logged metric is the same."""
    profile = dataclasses.replace(DIGITS, epochs=10, report_epochs=(5, 10))
    data = load.load(profile)
    spec = profile.model("dp_2_layers")
    sped_up = []
    real = per_example.speed_up
    monkeypatch.setattr(per_example, "speed_up", lambda model: sped_up.append(real(model)))
    ours = fit.train(profile, spec, data)
    assert sped_up == [True]
    monkeypatch.setattr(per_example, "speed_up", lambda model: False)
    theirs = fit.train(profile, spec, data)
    assert ours.history == theirs.history
    for a, b in zip(ours.snapshots, theirs.snapshots):
        assert np.array_equal(a.logits_members, b.logits_members)
        assert np.array_equal(a.logits_non_members, b.logits_non_members)
