"""The user projects in ``examples/``, run the way their users run them.

Each example is copied into a fresh pytester directory and pytest runs there
in a subprocess: the example's own ``pyproject.toml`` is then pytest's
configuration (its profiles, ``privacy_profile`` and ``pythonpath = ["."]``,
which makes its package importable for the builder and data paths), and
TensorFlow starts in a process of its own, as on a user's machine.

The quick tests check what each example declares (the checks it collects,
baselines recorded from the profile as it stands, its data and its model).
The ``study`` tests train: the committed baselines pass; a model trained on
fewer members fails the gate with the regression table; and baselines
recorded from scratch pass again.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from lanes import baselines_of
from privacy_checks.train import lane

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TABULAR, IMAGES = EXAMPLES / "tabular", EXAMPLES / "images"
#: Where the images example's CIFAR-10 folder is, as its pyproject.toml declares it (relative to the example).
CIFAR10_SOURCE = tomllib.loads((IMAGES / "pyproject.toml").read_text())["tool"]["privacy_checks"]["profiles"][
    "cnn-cifar10"
]["dataset"]
CIFAR10_FOLDER = (IMAGES / CIFAR10_SOURCE.removeprefix("imagefolder:")).resolve()
needs_cifar10 = pytest.mark.skipif(
    not (CIFAR10_FOLDER / "train").is_dir() or not (CIFAR10_FOLDER / "test").is_dir(),
    reason=f"no CIFAR-10 image folder at {CIFAR10_FOLDER} (examples/images declares {CIFAR10_SOURCE}); "
    "its cnn-digits profile runs without it",
)

#: (example, profile, model, checks per run, the injected leak: fewer members).
#: Checks: 3 report epochs x 2 attacks x (entire dataset + one slice per class).
#: The leaks were chosen so that several checks regress with room to spare:
#: tabular 150 -> 20 members fails 10 of 18, cnn-digits 300 -> 100 fails 29 of 66,
#: cnn-cifar10 1,000 -> 300 fails 24 of 66 (on the machine that recorded the baselines).
TABULAR_CASE = ("tabular", "breast-cancer", "mlp", 18, 20)
DIGITS_CASE = ("images", "cnn-digits", "cnn", 66, 100)
CIFAR10_CASE = ("images", "cnn-cifar10", "cnn", 66, 300)

#: Generous: a cold CIFAR-10 run takes about 35 s on 2 cores.
TIMEOUT = 900


def copy_example(pytester: pytest.Pytester, name: str) -> Path:
    """The example's files (not what runs leave behind) in the pytester directory.

    The images example's CIFAR-10 folder is relative to the example; in the copy it is
    made absolute. The path is not part of the profile hash, so its baselines still hold.
    """
    shutil.copytree(
        EXAMPLES / name,
        pytester.path,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("privacy-report", ".pytest_cache", ".benchmarks", "__pycache__"),
    )
    pyproject = pytester.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(CIFAR10_SOURCE, f"imagefolder:{CIFAR10_FOLDER}"))
    return pytester.path


def run(pytester: pytest.Pytester, profile: str, *args: str) -> pytest.RunResult:
    """``pytest ARGS`` in the example, in a subprocess, as its user types it (the cache stays on).

    ``--privacy-profile`` is added only for a profile other than the one the
    example's ``privacy_profile`` selects.
    """
    ini = tomllib.loads((pytester.path / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    chosen = () if ini.get("privacy_profile") == profile else (f"--privacy-profile={profile}",)
    return pytester.runpytest_subprocess(*chosen, *args, timeout=TIMEOUT)


def set_members(project: Path, profile: str, members: int) -> None:
    """Sets the profile's ``members`` key in the copied pyproject.toml (the injected leak)."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    header = f"[tool.privacy_checks.profiles.{profile}]\n"
    start = text.index(header) + len(header)
    end = text.index("\n[", start)
    table = re.sub(r"^members = .*\n", "", text[start:end], flags=re.M)
    pyproject.write_text(text[:start] + f"members = {members}\n" + table + text[end:])
    assert tomllib.loads(pyproject.read_text())["tool"]["privacy_checks"]["profiles"][profile]["members"] == members


def baseline_hash(example: str, profile: str, model: str) -> str:
    return json.loads((EXAMPLES / example / "baselines" / profile / f"{model}.json").read_text())["profile_hash"]


def entry_keys(path: Path) -> list[tuple[int, str, str]]:
    return [(e["epoch"], e["attack"], e["slice"]) for e in json.loads(path.read_text())["entries"]]


# Quick: nothing trains.


@pytest.mark.parametrize("case", [TABULAR_CASE, DIGITS_CASE, CIFAR10_CASE], ids=lambda case: case[1])
def test_example_collects_its_checks_and_its_baselines_match_its_profile(pytester, case):
    example, profile, model, checks, _ = case
    copy_example(pytester, example)
    result = run(pytester, profile, "--collect-only", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    # The header's hash is the profile as pyproject.toml declares it now; the committed
    # baselines must have been recorded from exactly that (re-record after editing it).
    header = re.search(r"privacy: profile (\S+) \(hash ([0-9a-f]+),", result.stdout.str())
    assert header is not None, result.stdout.str()
    assert header.groups() == (profile, baseline_hash(example, profile, model))
    items = re.findall(r"<Function (test_membership_inference\[[^\]]+\])>", result.stdout.str())
    assert len(items) == checks
    committed = EXAMPLES / example / "baselines" / profile / f"{model}.json"
    last = max(json.loads(committed.read_text())["fingerprint"]["report_epochs"])
    assert f"test_membership_inference[{model}-epoch{last}-threshold-entire_dataset]" in items
    assert len(entry_keys(committed)) == checks  # one baseline entry per check


@pytest.fixture
def example_package(monkeypatch):
    """Imports an example's package as its pythonpath would, and forgets it afterwards."""
    imported = []

    def load(example: Path, module: str):
        monkeypatch.syspath_prepend(str(example))
        imported.append(module.split(".")[0])
        __import__(module)
        return sys.modules[module]

    yield load
    for name in list(sys.modules):
        if name.split(".")[0] in imported:
            del sys.modules[name]


def test_tabular_data_is_seeded_disjoint_and_standardised_on_members(example_package):
    data = example_package(TABULAR, "tabular_gate.data")
    first, second = data.breast_cancer(), data.breast_cancer()
    for key in ("x_members", "y_members", "x_non_members", "y_non_members"):
        np.testing.assert_array_equal(first[key], second[key])  # the split is seeded
    assert first["x_members"].shape == (150, 30) and first["x_non_members"].shape == (419, 30)
    assert first["x_members"].dtype == np.float32
    assert set(np.unique(first["y_members"])) == set(np.unique(first["y_non_members"])) == {0, 1}
    assert list(first["class_names"]) == ["malignant", "benign"]
    # Standardised with the members' statistics alone: exactly 0 and 1 on them, not on the others.
    np.testing.assert_allclose(first["x_members"].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(first["x_members"].std(axis=0), 1, atol=1e-4)
    assert np.abs(first["x_non_members"].mean(axis=0)).max() > 1e-3
    # No row is both a member and a non-member.
    members = {row.tobytes() for row in first["x_members"]}
    assert not any(row.tobytes() in members for row in first["x_non_members"])


# Keras draws layer seeds with random.randint(1, 1e9) once a test before this one has called
# tf.keras.utils.set_random_seed (the suite itself builds inside training's own filter).
@pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")
def test_example_builders_build_for_their_profiles(example_package):
    import tensorflow as tf

    mlp = example_package(TABULAR, "tabular_gate.model").mlp((30,), 2, hidden=[128, 128])
    assert mlp.output_shape == (None, 2)
    cnn = example_package(IMAGES, "image_gate.model").cnn
    for shape in ((32, 32, 3), (8, 8, 1)):  # cnn-cifar10 and cnn-digits
        model = cnn(shape, 10, filters=[32, 64], dense=128, dropout=0.3)
        assert model.output_shape == (None, 10)
        assert not isinstance(model, tf.keras.Sequential)  # the functional API
        kinds = {type(layer) for layer in model.layers}
        assert {tf.keras.layers.BatchNormalization, tf.keras.layers.Dropout} <= kinds
        assert getattr(model, "optimizer", None) is None  # not compiled: the suite compiles it


# Studies: each trains the example twice (committed baselines, then the leak).


def full_cycle(pytester: pytest.Pytester, case) -> None:
    example, profile, model, checks, fewer_members = case
    project = copy_example(pytester, example)
    baseline = project / baselines_of(profile) / f"{model}.json"
    if not baseline.exists():  # each lane checks against its own baselines
        pytest.skip(f"{example} has no {lane.lane()} lane baselines of {profile} ({baselines_of(profile)})")
    committed = baseline.read_bytes()

    # (a) As committed: every check passes against the committed baselines.
    checked = run(pytester, profile, "-m", "privacy")
    checked.assert_outcomes(passed=checks)
    checked.stdout.fnmatch_lines([f"{checks} baseline checks: {checks} passed, 0 regressed, * 0 new (no baseline), "
                                  "0 could not be measured", "0 unused baseline entries"])

    # (c) A leak: the same model trained on fewer members fails the gate, with the table
    # that says what moved and the command that would accept it.
    original = (project / "pyproject.toml").read_text()
    set_members(project, profile, fewer_members)
    leaked = run(pytester, profile, "-m", "privacy")
    outcomes = leaked.parseoutcomes()
    assert outcomes.get("failed", 0) >= 5, leaked.stdout.str()[-3000:]
    leaked.stdout.fnmatch_lines(
        [
            f"privacy regression: {model} at epoch *, threshold attack, slice entire_dataset leaks more than "
            f"its baseline ({baselines_of(profile)}/{model}.json).",
            "metric*obtained*95% CI*baseline*difference*tolerance*verdict",
            "auc *",
            "attacker_advantage *",
            "If this leakage is expected, review it and accept it as the new baseline with:",
            f"  pytest -m privacy --privacy-profile {profile} --privacy-update-baselines",
        ]
    )
    assert re.search(r"^(auc|attacker_advantage) .* regressed$", leaked.stdout.str(), flags=re.M)
    leaked.stdout.fnmatch_lines([f"*{model}.json was recorded from another setup (members * -> {fewer_members})*"])
    assert "Traceback" not in leaked.stdout.str()
    assert baseline.read_bytes() == committed, "a failing run writes no baseline"

    # (b) Recorded from scratch into an empty baselines folder, then checked.
    (project / "pyproject.toml").write_text(original)
    shutil.rmtree(project / "baselines")
    recorded = run(pytester, profile, "-m", "privacy", "--privacy-update-baselines")
    recorded.assert_outcomes(passed=checks)
    # A new baseline is calibrated by default (5 seeds, as the committed ones were).
    recorded.stdout.fnmatch_lines([f"baseline wrote: {baselines_of(profile)}/{model}.json ({checks} added, 0 changed, "
                                   "0 removed; calibrated over 5 seeds: no baseline yet)"])
    fresh = json.loads(baseline.read_text())
    old = json.loads(committed)
    assert fresh["profile_hash"] == old["profile_hash"]
    assert entry_keys(baseline) == [(e["epoch"], e["attack"], e["slice"]) for e in old["entries"]]
    rechecked = run(pytester, profile, "-m", "privacy")
    rechecked.assert_outcomes(passed=checks)
    rechecked.stdout.fnmatch_lines([f"{checks} baseline checks: {checks} passed, 0 regressed, *"])
    assert json.loads(baseline.read_text())["calibration_seeds"] == old["calibration_seeds"]


@pytest.mark.study
def test_tabular_example_passes_catches_a_leak_and_records(pytester):
    full_cycle(pytester, TABULAR_CASE)


@pytest.mark.study
def test_images_example_on_digits_passes_catches_a_leak_and_records(pytester):
    full_cycle(pytester, DIGITS_CASE)


@pytest.mark.study
@needs_cifar10
def test_images_example_on_cifar10_passes_catches_a_leak_and_records(pytester):
    full_cycle(pytester, CIFAR10_CASE)
