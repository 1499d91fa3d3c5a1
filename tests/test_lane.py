"""Which lane a process is on, what the header says about it, and where each lane's baselines live."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_checks.judge.baselines import baseline_folder, baseline_path
from privacy_checks.train import lane
from privacy_pytester import run


@pytest.fixture
def installed(monkeypatch):
    """Pretends the given distributions (name -> version) are what is installed."""

    def pretend(**versions: str) -> None:
        known = {name.replace("_", "-"): version for name, version in versions.items()}
        monkeypatch.setattr(lane, "_version", known.get)
        lane.lane.cache_clear()

    yield pretend
    lane.lane.cache_clear()


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        ({"tensorflow": "2.15.1", "tensorflow_privacy": "0.8.12"}, lane.CODELAB),
        ({"tensorflow_cpu": "2.15.0", "tensorflow_privacy": "0.8.12"}, lane.CODELAB),
        ({"tensorflow": "2.15.1"}, lane.CURRENT),  # Keras 2 without TF Privacy: no DP optimizer of its
        ({"tensorflow": "2.16.1", "tensorflow_privacy": "0.9.0"}, lane.CURRENT),  # Keras 3: TF Privacy breaks
        ({"tensorflow": "2.21.0"}, lane.CURRENT),
        ({"tensorflow": "2.9.0rc1", "tensorflow_privacy": "0.8.0"}, lane.CODELAB),
    ],
)
def test_the_lane_is_read_from_the_installed_distributions(installed, versions, expected):
    installed(**versions)
    assert lane.lane() == expected
    assert lane.describe().startswith(f"{expected} lane (TensorFlow {versions.get('tensorflow') or versions['tensorflow_cpu']}")


def test_the_codelab_lane_names_tf_privacy_and_the_current_lane_its_keras(installed):
    installed(tensorflow="2.15.1", tensorflow_privacy="0.8.12")
    assert lane.describe() == "codelab lane (TensorFlow 2.15.1, Keras 2, TF Privacy 0.8.12)"
    installed(tensorflow="2.21.0", keras="3.15.1")
    assert lane.describe() == "current lane (TensorFlow 2.21.0, Keras 3.15.1)"


@pytest.mark.parametrize(
    ("backend", "refused"), [(None, False), ("tensorflow", False), (" TensorFlow ", False), ("jax", True), ("torch", True)]
)
def test_another_keras_backend_is_refused_with_the_fix_on_keras_3(installed, monkeypatch, backend, refused):
    installed(tensorflow="2.21.0", keras="3.15.1")
    if backend is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", backend)
    problem = lane.backend_problem()
    assert (problem is not None) == refused
    if refused:
        assert problem.startswith(f"KERAS_BACKEND={backend}:")
        assert problem.endswith("set KERAS_BACKEND=tensorflow for the privacy checks.")
    installed(tensorflow="2.15.1", tensorflow_privacy="0.8.12")  # Keras 2 has no backend to choose
    assert lane.backend_problem() is None


def test_each_lane_has_its_own_baseline_folder_and_the_codelab_lane_keeps_the_old_place():
    root = Path("baselines")
    assert baseline_folder(root, "digits", lane.CODELAB) == Path("baselines/digits")
    assert baseline_folder(root, "digits", lane.CURRENT) == Path("baselines/digits/current")
    assert baseline_path(root, "digits", "2_layers", lane.CURRENT) == Path("baselines/digits/current/2_layers.json")
    # Both lanes' files are committed for the built-in default, for the same models.
    repo = Path(__file__).resolve().parents[1] / "baselines"
    codelab = sorted(p.name for p in baseline_folder(repo, "digits", lane.CODELAB).glob("*.json"))
    current = sorted(p.name for p in baseline_folder(repo, "digits", lane.CURRENT).glob("*.json"))
    assert codelab == current == ["2_layers.json", "3_layers.json", "dp_2_layers.json"]


def test_the_header_names_this_lane_and_a_jax_backend_stops_the_run_before_anything_trains(project, monkeypatch):
    collected = run(project, "--collect-only")
    collected.stdout.fnmatch_lines([f"privacy: {lane.describe()}: *"])
    if lane.keras_2():
        return  # Keras 2 has one backend: nothing to refuse
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    refused = run(project, "-m", "privacy")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*KERAS_BACKEND=jax: privacy_checks trains models*"])
