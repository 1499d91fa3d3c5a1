"""Data and training: a stratified member split, and deterministic snapshots."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from lanes import keras_2_only

from privacy_checks.data import load
from privacy_checks.spec.registry import DIGITS, DP_2_LAYERS, SMOKE
from privacy_checks.train import fit


def test_digits_members_are_a_stratified_seeded_subset():
    data = load.load(DIGITS)
    assert len(data.y_members) == 200
    assert len(data.y_members) + len(data.y_non_members) == 1797
    assert set(np.bincount(data.y_members, minlength=10)) <= {19, 20, 21}  # stratified
    assert data.x_members.shape[1:] == (8, 8, 1) and 0 <= data.x_members.min() <= data.x_members.max() <= 1
    again = load.load(DIGITS)
    assert np.array_equal(data.x_members, again.x_members)


def test_accuracy_and_loss_from_logits():
    logits = np.array([[10.0, 0.0], [0.0, 0.0]])
    accuracy, loss = fit.accuracy_and_loss(logits, np.array([0, 1]))
    assert accuracy == 0.5  # ties go to class 0
    assert loss == pytest.approx((np.log1p(np.exp(-10.0)) + np.log(2)) / 2)


@pytest.fixture(scope="module")
def smoke_runs():
    data = load.load(SMOKE)
    spec = SMOKE.models[0]
    return [fit.train(SMOKE, spec, data) for _ in range(2)]


def test_training_is_deterministic(smoke_runs):
    first, second = smoke_runs
    assert [s.epoch for s in first.snapshots] == list(SMOKE.report_epochs)
    for a, b in zip(first.snapshots, second.snapshots):
        assert np.array_equal(a.logits_members, b.logits_members)
        assert np.array_equal(a.logits_non_members, b.logits_non_members)


def test_snapshot_metrics_match_its_logits(smoke_runs):
    snapshot = smoke_runs[0].at(3)
    accuracy, loss = fit.accuracy_and_loss(snapshot.logits_members, snapshot.labels_members)
    assert (snapshot.train_accuracy, snapshot.train_loss) == (accuracy, loss)
    assert snapshot.train_accuracy > 0.2  # it learned something in 3 epochs


def test_diverged_training_is_reported_not_attacked(nan_model):
    with pytest.raises(fit.TrainingDiverged, match="diverged at epoch 1"):
        fit.train(SMOKE, SMOKE.models[0], load.load(SMOKE))


@keras_2_only
def test_training_without_tf_data_autotune_gives_the_same_weights(smoke_runs, monkeypatch):
    """The autotuner only costs a wait at the end of ``fit``; without it every logit is the same."""
    import contextlib

    monkeypatch.setattr(fit, "without_tf_data_autotune", contextlib.nullcontext)
    autotuned = fit.train(SMOKE, SMOKE.models[0], load.load(SMOKE))
    for a, b in zip(smoke_runs[0].snapshots, autotuned.snapshots):
        assert np.array_equal(a.logits_members, b.logits_members)
        assert np.array_equal(a.logits_non_members, b.logits_non_members)


@keras_2_only
def test_several_steps_per_call_give_the_same_logits(monkeypatch):
    """Ten steps an epoch, four per call (the last call of each epoch takes two): as one per call;
    an epoch shorter than two calls keeps one step per call (tracing the loop would cost more)."""
    import dataclasses

    profile = dataclasses.replace(SMOKE, batch_size=10)
    data = load.load(profile)
    runs, calls = [], []
    real = fit._fewer_calls
    monkeypatch.setattr(fit, "_fewer_calls", lambda model, steps: real(model, steps) or calls.append(
        int(model._steps_per_execution.numpy())))
    for steps in (1, 4, 6):
        monkeypatch.setattr(fit, "STEPS_PER_EXECUTION", steps)
        runs.append(fit.train(profile, profile.models[0], data))
    assert calls == [1, 4, 1]
    assert runs[0].history == runs[1].history
    for a, b in zip(runs[0].snapshots, runs[1].snapshots):  # 1 and 4 per call
        assert np.array_equal(a.logits_members, b.logits_members)
        assert np.array_equal(a.logits_non_members, b.logits_non_members)


@keras_2_only
def test_arrays_go_through_tf_data_without_autotune_only_inside_the_block():
    from keras.src.engine import data_adapter

    x, y = np.zeros((10, 2), np.float32), np.zeros(10)

    def autotuned() -> bool | None:
        return data_adapter.TensorLikeDataAdapter(x, y, batch_size=5).get_dataset().options().autotune.enabled

    with fit.without_tf_data_autotune():
        assert autotuned() is False
    assert autotuned() is not False


#: A DP model trained on whatever the data gives (members unset): 90 members, batch_size 50.
_DP = dataclasses.replace(DP_2_LAYERS, compare_to=None)
_DP_NINETY = (
    "profile 'dp-ninety', model 'dp_2_layers' (members, batch_size): the model trains with DP-SGD, one "
    "microbatch per example, so its members must fill whole batches, but the data gives 90 members and "
    "batch_size is 50 (a last batch of 40). To train on whole batches, set members = 50, or "
    "batch_size = 45, 30 or 18."
)


def _ninety_members() -> tuple:
    profile = dataclasses.replace(SMOKE, name="dp-ninety", members=None, models=(SMOKE.models[0], _DP))
    data = load.load(dataclasses.replace(SMOKE, members=90))
    return profile, data


@pytest.mark.parametrize("step", [fit.preflight, fit.train], ids=["preflight", "train"])
def test_a_dp_model_whose_members_do_not_fill_whole_batches_is_refused_with_the_fix(step):
    """Preflight refuses it before any model trains; training keeps the same guard, with the same words."""
    profile, data = _ninety_members()
    with pytest.raises(ValueError) as raised:
        step(profile, _DP, data)
    assert str(raised.value) == _DP_NINETY
    fit.preflight(profile, profile.models[0], data)  # the non-private model is fine
