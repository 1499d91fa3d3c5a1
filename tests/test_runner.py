"""Running the plan: each node once, failures remembered, a diverged training not attacked, empty slices
skipped, planned work started ahead and nothing unplanned run ahead."""

from __future__ import annotations

import dataclasses

import pytest

from privacy_checks.judge.session import PrivacyRun
from privacy_checks.run import executors, nodes, plan
from privacy_checks.run.plan import Training
from privacy_checks.run.runner import Runner
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.spec.cases import Case, cases
from privacy_checks.spec.registry import SMOKE
from privacy_checks.train import fit
from privacy_checks.train.snapshot import TrainingRun


def patch_train(monkeypatch, train) -> None:
    """The runner trains models and their reference models through :mod:`~privacy_checks.run.nodes`:
    ``train`` replaces that training."""
    monkeypatch.setattr(nodes, "train", train)


def test_failed_training_of_one_model_spares_the_other(tmp_path, monkeypatch):
    real_train = fit.train

    def train(profile, spec, dataset, on_snapshot=None, make=None):
        if spec.name == "2_layers":
            raise MemoryError("out of memory")
        return real_train(profile, spec, dataset, on_snapshot, make)

    patch_train(monkeypatch, train)
    privacy = PrivacyRun(Settings(SMOKE, tmp_path, tmp_path))
    with pytest.raises(CheckFailed, match="training 2_layers failed: out of memory"):
        privacy.training("2_layers")
    with pytest.raises(CheckFailed, match="training 2_layers failed"):
        privacy.training("2_layers")  # remembered, not retried for every check
    assert [s.epoch for s in privacy.training("3_layers").snapshots] == [1, 3]


def test_a_model_that_cannot_be_built_fails_its_checks_before_any_training(tmp_path, monkeypatch):
    """The broken model is found when the first model is about to train; the other still trains."""
    from privacy_checks.spec.model_spec import ModelSpec

    broken = ModelSpec("broken", "Broken", builder=lambda shape, classes: "not a model")
    profile = dataclasses.replace(SMOKE, models=(SMOKE.models[0], broken))
    trained = []
    real_train = fit.train
    patch_train(monkeypatch, lambda profile, spec, *args: trained.append(spec.name) or real_train(profile, spec, *args))
    lines = []
    privacy = PrivacyRun(Settings(profile, tmp_path, tmp_path), lines.append)
    assert privacy.training("2_layers").snapshots
    assert any(line.startswith("broken: not trained: profile 'smoke', model 'broken' (builder)") for line in lines)
    with pytest.raises(CheckFailed, match="returned a str, not a tf.keras.Model"):
        privacy.training("broken")
    assert trained == ["2_layers"]


def test_diverged_training_fails_its_checks_and_runs_no_attack(tmp_path, nan_model):
    privacy = PrivacyRun(Settings(SMOKE, tmp_path, tmp_path))
    case = cases(SMOKE)[0]
    with pytest.raises(CheckFailed, match="training of 2_layers diverged at epoch 1"):
        privacy.check(case)
    assert privacy.evaluations() == []


def test_slice_without_members_is_skipped_not_attacked(tmp_path):
    """TF Privacy runs no attack on a class with no members; the check says so and skips."""
    from test_attacks import PROFILE, leaky_snapshot

    snapshot = leaky_snapshot()
    keep = snapshot.labels_members != 2  # no member of class 2 at all
    snapshot = dataclasses.replace(
        snapshot, logits_members=snapshot.logits_members[keep], labels_members=snapshot.labels_members[keep]
    )
    privacy = PrivacyRun(Settings(PROFILE, tmp_path, tmp_path))
    privacy.runner._results[Training("2_layers", PROFILE.seed)] = TrainingRun("2_layers", (snapshot,), 0.0)
    case = Case("2_layers", 1, "threshold", "class_2")
    assert privacy.check(case) is None
    assert privacy.check(Case("2_layers", 1, "threshold", "class_1")) is not None


class _Recording:
    """An executor that overlaps but whose tasks finish only when their result is asked for."""

    overlaps = True

    def __init__(self) -> None:
        self.submitted: list[tuple[str, int]] = []
        self.inner = executors.InProcess()

    def submit(self, task, snapshot, profile):
        self.submitted.append((snapshot.model, snapshot.epoch))
        return self.inner.submit(task, snapshot, profile)

    def describe(self) -> str:
        return "recorded"


@pytest.mark.study  # end to end, about 8 s on the current lane: run by .ci/run (pytest -m study)
def test_planned_snapshots_are_attacked_as_they_come_and_next_models_train_while_waiting(tmp_path):
    lines: list[str] = []
    recording = _Recording()
    measure = Runner(Settings(SMOKE, tmp_path, tmp_path), {}, lines.append, recording)
    measure.plan(plan.build(SMOKE, [Case("2_layers", 3, "threshold", "entire_dataset"),
                                    Case("3_layers", 1, "threshold", "entire_dataset")]))
    measure.evaluation("2_layers", 3)
    # Submitted during training, only what the plan asks for; the other planned
    # model was trained (and its snapshot submitted) while the first attack waited.
    assert recording.submitted == [("2_layers", 3), ("3_layers", 1)]
    assert set(measure.histories()) == {"2_layers", "3_layers"}
    assert any(line.startswith("2_layers: done at") and "training" in line and "attacks" in line for line in lines)
    measure.evaluation("2_layers", 1)  # not planned: attacked when a check asks
    assert recording.submitted[-1] == ("2_layers", 1)


@pytest.mark.study  # end to end, about 16 s on the current lane: run by .ci/run (pytest -m study)
def test_numbers_do_not_depend_on_where_attacks_run(tmp_path):
    here = Runner(Settings(SMOKE, tmp_path, tmp_path), {})
    there = Runner(Settings(SMOKE, tmp_path, tmp_path), {}, executor=executors.executor(2))
    for model in ("2_layers", "3_layers"):
        for epoch in SMOKE.report_epochs:
            assert there.evaluation(model, epoch).records == here.evaluation(model, epoch).records


REFERENCED = dataclasses.replace(
    SMOKE, models=SMOKE.models[:1], attacks=("threshold", "rmia", "lira_online"),
    reference_models={"rmia": 2, "lira_online": 4},
)


@pytest.mark.study  # end to end, about 17 s on the current lane: run by .ci/run (pytest -m study)
def test_reference_models_train_once_when_their_attacks_are_asked_for_and_come_from_the_cache(tmp_path, monkeypatch):
    trained = []
    real_train = fit.train
    patch_train(
        monkeypatch, lambda profile, spec, *args: trained.append(profile.seed) or real_train(profile, spec, *args)
    )
    settings = Settings(REFERENCED, tmp_path / "b", tmp_path / "r", cache_dir=tmp_path / "cache")
    first = PrivacyRun(settings)
    threshold, rmia, online = (Case("2_layers", 3, a, "entire_dataset") for a in REFERENCED.attacks)
    first.check(threshold)
    assert len(trained) == 1, "no reference model for the codelab's attacks"
    first.check(rmia)
    first.check(online)
    assert len(trained) == 1 + 4 and len(set(trained)) == 5, "the four references once, each with its own seed"
    assert {e.snapshot.epoch: sorted(r.attack for r in e.records if r.slice == "entire_dataset")
            for e in first.evaluations()} == {3: ["lira_online", "rmia", "threshold"]}

    again = PrivacyRun(settings)
    assert again.record(online) == first.record(online)
    assert again.cache_hits["reference models"] == 4 and len(trained) == 5
    # A calibration seed trains its own model under test and meets the same references.
    assert again.runner.record(online.key, seed=99) != first.record(online)
    assert len(trained) == 6 and again.cache_hits["reference models"] == 4
    # Fewer references for an attack reuse the first ones: nothing retrains.
    fewer = dataclasses.replace(REFERENCED, reference_models={"rmia": 2, "lira_online": 2})
    PrivacyRun(dataclasses.replace(settings, profile=fewer)).record(online)
    assert len(trained) == 6


def test_reference_attacks_fail_with_the_reason_when_references_cannot_train(tmp_path, monkeypatch):
    real_train = fit.train

    def train(profile, spec, dataset, on_snapshot=None, make=None):
        if profile.seed != REFERENCED.seed:
            raise MemoryError("out of memory")
        return real_train(profile, spec, dataset, on_snapshot, make)

    patch_train(monkeypatch, train)
    privacy = PrivacyRun(Settings(REFERENCED, tmp_path, tmp_path))
    with pytest.raises(CheckFailed, match="reference models of 2_layers not available: out of memory"):
        privacy.check(Case("2_layers", 3, "rmia", "entire_dataset"))
    assert privacy.check(Case("2_layers", 3, "threshold", "entire_dataset")) is not None
