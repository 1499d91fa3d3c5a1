"""Models from builders: the codelab CNN built in, a user's builder by path or callable, and what is refused."""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
import pytest
from lanes import codelab_only

from privacy_checks.data import load
from privacy_checks.spec.dotted import UserCodeError
from privacy_checks.spec.model_spec import DPSGD, ModelSpec
from privacy_checks.spec.registry import DP_2_LAYERS, SMOKE
from privacy_checks.train import lane
from privacy_checks.train import fit, models

pytestmark = pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")


def mlp(input_shape, num_classes, hidden=16, softmax=False, normalise=False, compiled=False):
    """A small user model on any input shape (functional API)."""
    import tensorflow as tf

    inputs = tf.keras.Input(input_shape)
    x = tf.keras.layers.Flatten()(inputs)
    x = tf.keras.layers.Dense(hidden, activation="relu")(x)
    if normalise:
        x = tf.keras.layers.BatchNormalization()(x)
    outputs = tf.keras.layers.Dense(num_classes, activation="softmax" if softmax else None)(x)
    model = tf.keras.Model(inputs, outputs)
    if compiled:
        model.compile(optimizer=tf.keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    return model


def profile_with(**model_fields):
    spec = ModelSpec("mine", "Mine", builder=mlp, **model_fields)
    return dataclasses.replace(SMOKE, models=(spec,)), spec


@pytest.fixture(scope="module")
def smoke_data():
    return load.load(SMOKE)


@codelab_only
def test_dp_model_trains_with_tf_privacys_optimizer_one_microbatch_per_example():
    model = models.small_cnn((8, 8, 1), 10, 2, padding="same", dp=DP_2_LAYERS.dp, batch_size=50)
    optimizer = model.optimizer
    assert type(optimizer).__module__.startswith("tensorflow_privacy")
    assert (optimizer._l2_norm_clip, optimizer._noise_multiplier, optimizer._num_microbatches) == (1.0, 5.0, 50)
    assert model.loss.reduction == "none"  # per-example losses, or clipping is per batch


def test_the_built_in_builder_is_the_codelab_cnn():
    import tensorflow as tf

    spec = SMOKE.models[0]
    tf.keras.utils.set_random_seed(1)
    built = models.build(SMOKE, spec)
    tf.keras.utils.set_random_seed(1)
    codelab = models.small_cnn((8, 8, 1), 10, spec.num_conv, padding=SMOKE.padding)
    assert [layer.__class__.__name__ for layer in built.layers] == [
        layer.__class__.__name__ for layer in codelab.layers
    ]
    for a, b in zip(built.get_weights(), codelab.get_weights()):
        assert np.array_equal(a, b)
    assert built.loss.get_config()["from_logits"] and built.optimizer.learning_rate == SMOKE.learning_rate


def test_an_uncompiled_builder_gets_the_profiles_optimizer_and_its_params():
    profile, spec = profile_with(params={"hidden": 7}, outputs="probabilities")
    model = models.build(profile, dataclasses.replace(spec, params={"hidden": 7, "softmax": True}))
    assert model.layers[2].units == 7
    assert type(model.optimizer).__name__ == "Adam"
    assert model.loss.get_config()["from_logits"] is False  # declared probabilities


def test_a_compiled_model_keeps_its_authors_optimizer():
    profile, spec = profile_with(params={"compiled": True})
    assert type(models.build(profile, spec).optimizer).__name__ == "SGD"


def test_a_builder_path_is_imported_from_the_project(tmp_path, monkeypatch):
    (tmp_path / "team_models.py").write_text(
        textwrap.dedent(
            """
            import tensorflow as tf

            def build(input_shape, num_classes, width):
                return tf.keras.Sequential(
                    [tf.keras.Input(input_shape), tf.keras.layers.Flatten(), tf.keras.layers.Dense(num_classes)]
                )

            NOT_CALLABLE = 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    profile, spec = profile_with()
    spec = dataclasses.replace(spec, builder="team_models:build", params={"width": 3})
    assert models.build(profile, spec).output_shape == (None, 10)

    def message(builder: str) -> str:
        with pytest.raises(UserCodeError) as caught:
            models.build(profile, dataclasses.replace(spec, builder=builder))
        return str(caught.value)

    assert "profile 'smoke', model 'mine' (builder)" in message("team_models:NOT_CALLABLE")
    assert "is not callable (it is of type int)" in message("team_models:NOT_CALLABLE")
    assert "has no 'missing'" in message("team_models:missing")
    assert "pythonpath" in message("no_such_package.models:build")
    spec = dataclasses.replace(spec, params=None)
    raised = message("team_models:build")  # width is missing from params: the call fails
    assert "raised TypeError" in raised and "**params" in raised


@pytest.mark.parametrize(
    "returned, expected",
    [
        (lambda shape, classes: "a string", "returned a str, not a tf.keras.Model"),
        (lambda shape, classes: mlp(shape, classes + 1), "num_classes = 10"),
    ],
)
def test_a_builder_must_return_a_model_with_one_output_per_class(returned, expected):
    profile, spec = profile_with()
    with pytest.raises(UserCodeError, match=expected):
        models.build(profile, dataclasses.replace(spec, builder=returned))


def test_dp_refuses_a_compiled_model_and_batch_normalisation():
    dp = DPSGD(l2_norm_clip=1.0, noise_multiplier=1.0, learning_rate=1e-2)
    profile, spec = profile_with(dp=dp, params={"compiled": True})
    with pytest.raises(UserCodeError, match="return it uncompiled"):
        models.build(profile, spec)
    profile, spec = profile_with(dp=dp, params={"normalise": True})
    with pytest.raises(UserCodeError, match="batch normalisation .* DP guarantee would not hold"):
        models.build(profile, spec)
    profile, spec = profile_with(dp=dp)
    model = models.build(profile, spec)
    if lane.lane() == lane.CODELAB:
        assert type(model.optimizer).__module__.startswith("tensorflow_privacy")
    else:  # the project's own DP-SGD, at the model's DP learning rate
        assert model.dp_sgd.dp == dp and float(model.optimizer.learning_rate.numpy()) == pytest.approx(dp.learning_rate)


def test_declared_outputs_are_checked_before_training(smoke_data):
    profile, spec = profile_with(params={"softmax": True})
    model = models.build(profile, spec)
    with pytest.raises(UserCodeError, match='outputs = "probabilities"'):
        models.check_outputs(profile, spec, model, smoke_data.x_members)
    profile, spec = profile_with(outputs="probabilities")
    with pytest.raises(UserCodeError, match="rows do not sum to 1"):
        models.check_outputs(profile, spec, models.build(profile, spec), smoke_data.x_members)


def test_log_probabilities_are_logits_of_the_same_probabilities():
    from scipy import special

    p = np.array([[0.7, 0.2, 0.1, 0.0]], dtype=np.float32)
    logits = models.log_probabilities(p)
    assert np.isfinite(logits).all()
    assert np.allclose(special.softmax(logits.astype(np.float64), axis=1), p, atol=1e-7)


def test_a_probabilities_model_trains_and_its_snapshots_hold_log_probabilities(smoke_data):
    profile, spec = profile_with(params={"softmax": True}, outputs="probabilities")
    profile = dataclasses.replace(profile, epochs=2, report_epochs=(2,))
    run = fit.train(profile, spec, smoke_data)
    snapshot = run.at(2)
    probabilities = np.exp(snapshot.logits_members.astype(np.float64))
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)  # logs of a softmax, not raw logits
    assert 0.1 < snapshot.train_accuracy <= 1


def test_preflight_reports_a_broken_model_before_training(smoke_data):
    good = ModelSpec("good", "Good", builder=mlp)
    bad = ModelSpec("bad", "Bad", builder=mlp, params={"softmax": True})
    profile = dataclasses.replace(SMOKE, models=(good, bad))
    with pytest.raises(UserCodeError, match="model 'bad' \\(outputs\\)"):
        for spec in profile.models:
            fit.preflight(profile, spec, smoke_data)
