"""The cross-session cache: exact round trips, keys that see every input, no trust in bad entries."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from privacy_checks.attack import codelab
from privacy_checks.run import cache
from privacy_checks.spec.registry import SMOKE
from privacy_checks.train.snapshot import TrainingRun
from test_attacks import PROFILE, leaky_snapshot

VERSIONS = {"python": "3.11.7", "tensorflow": "2.15.1"}


@pytest.fixture
def run() -> TrainingRun:
    snapshots = (leaky_snapshot(1), leaky_snapshot(3))
    return TrainingRun("2_layers", snapshots, 1.5, ({"epoch": 1, "accuracy": 0.1, "loss": 2.3},))


def test_training_round_trip_is_exact(tmp_path, run):
    cache.save_training(tmp_path, "k", run, "sklearn digits")
    loaded, source = cache.load_training(tmp_path, "k")
    assert source == "sklearn digits"
    assert (loaded.model, loaded.seconds, loaded.history) == (run.model, run.seconds, run.history)
    for a, b in zip(loaded.snapshots, run.snapshots):
        assert a.epoch == b.epoch and a.train_accuracy == b.train_accuracy
        assert np.array_equal(a.logits_members, b.logits_members)
        assert a.logits_members.dtype == b.logits_members.dtype
        assert np.array_equal(a.labels_non_members, b.labels_non_members)


def test_evaluation_round_trip_gives_the_same_records_and_plots(tmp_path):
    snapshot = leaky_snapshot()
    evaluation = codelab.evaluate(snapshot, PROFILE)
    cache.save_evaluation(tmp_path, "e", evaluation)
    loaded = cache.load_evaluation(tmp_path, "e", snapshot)
    assert loaded.records == evaluation.records
    from privacy_checks.report import mia_plots

    assert mia_plots._rows([loaded.results]) == mia_plots._rows([evaluation.results])  # what the plots read
    assert loaded.results.privacy_report_metadata == evaluation.results.privacy_report_metadata


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "k.npz").write_bytes((d / "k.npz").read_bytes()[:100]),  # truncated
        lambda d: (d / "k.json").write_text("{"),  # half-written metadata
        lambda d: (d / "k.json").unlink(),  # arrays written, metadata never
        lambda d: _flip_middle_byte(d / "k.npz"),  # same size, one byte changed
    ],
)
def test_damaged_entries_are_ignored(tmp_path, run, damage):
    cache.save_training(tmp_path, "k", run, "x")
    damage(tmp_path)
    assert cache.load_training(tmp_path, "k") is None


def test_missing_entry_is_a_miss(tmp_path):
    assert cache.load_training(tmp_path, "nothing") is None


def test_key_changes_with_everything_that_changes_results():
    base = cache.key(SMOKE, "2_layers", VERSIONS)
    assert base == cache.key(SMOKE, "2_layers", dict(VERSIONS))
    assert base != cache.key(SMOKE, "3_layers", VERSIONS)
    assert base != cache.key(dataclasses.replace(SMOKE, seed=1), "2_layers", VERSIONS)
    assert base != cache.key(SMOKE, "2_layers", {**VERSIONS, "tensorflow": "2.16.0"})
    assert base != cache.key(SMOKE, "2_layers", VERSIONS, epoch=1)
    folder = dataclasses.replace(SMOKE, dataset="imagefolder:/a/cifar10")
    other = dataclasses.replace(SMOKE, dataset="imagefolder:/b/cifar10")
    assert folder.hash == other.hash  # same baselines...
    assert cache.key(folder, "2_layers", VERSIONS) != cache.key(other, "2_layers", VERSIONS)  # ...other data
    # Tolerances change verdicts, not results: the cache is shared.
    looser = dataclasses.replace(SMOKE, tolerance=dataclasses.replace(SMOKE.tolerance, auc=0.5))
    assert cache.key(looser, "2_layers", VERSIONS) == base


def test_key_follows_the_users_builder_data_function_version_and_hook_files(tmp_path, monkeypatch):
    """The user's code is covered by its whole module file, found without importing it."""
    import sys

    from privacy_checks.spec.model_spec import ModelSpec

    (tmp_path / "team_model.py").write_text("def build(input_shape, num_classes):\n    return None\n")
    (tmp_path / "team_data.py").write_text("def load():\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = ModelSpec("mine", "Mine", builder="team_model:build")
    profile = dataclasses.replace(SMOKE, models=(spec,), dataset="function:team_data:load")
    assert set(cache.user_files(profile, "mine")) == {
        (tmp_path / "team_model.py").resolve(), (tmp_path / "team_data.py").resolve()
    }
    assert "team_model" not in sys.modules and "team_data" not in sys.modules
    base = cache.key(profile, "mine", VERSIONS)
    (tmp_path / "team_model.py").write_text("def build(input_shape, num_classes):\n    return 1\n")
    edited_builder = cache.key(profile, "mine", VERSIONS)
    (tmp_path / "team_data.py").write_text("def load():\n    return 1\n")
    edited_data = cache.key(profile, "mine", VERSIONS)
    versioned = dataclasses.replace(profile, models=(dataclasses.replace(spec, version="2"),))
    hook = tmp_path / "conftest.py"
    hook.write_text("def pytest_privacy_build_model(): pass\n")
    keys = [base, edited_builder, edited_data, cache.key(versioned, "mine", VERSIONS),
            cache.key(profile, "mine", VERSIONS, extra_files=[hook])]
    assert len(set(keys)) == len(keys)


def test_a_callable_builder_is_keyed_by_its_own_file():
    from privacy_checks.spec import dotted
    from privacy_checks.spec.model_spec import ModelSpec

    def build(input_shape, num_classes):
        return None

    assert dotted.module_file(build) == Path(__file__)
    profile = dataclasses.replace(SMOKE, models=(ModelSpec("mine", "Mine", builder=build),))
    assert Path(__file__).resolve() in cache.user_files(profile, "mine")
