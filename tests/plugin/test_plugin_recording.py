"""Recording baselines as a team does, through pytest: calibrated by default, calibration kept when the
setup did not change and never dropped silently, a DP model's epsilon recorded and judged, every
check's outcome counted, and an error told once.

A small MLP on seeded tabular data (seconds per training), declared in pyproject.toml.
"""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from privacy_checks.attack import accounting
from privacy_checks.spec import model_spec, registry as profiles
from privacy_pytester import SUITE, run
from lanes import baselines_of

TEAM = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import make_classification


    def build(input_shape, num_classes, hidden=16):
        inputs = tf.keras.Input(input_shape)
        x = tf.keras.layers.Dense(hidden, activation="relu")(inputs)
        return tf.keras.Model(inputs, tf.keras.layers.Dense(num_classes)(x))


    def data():
        x, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=2, random_state=0)
        x = x.astype(np.float32)
        return {"x_members": x[:100], "y_members": y[:100], "x_non_members": x[100:], "y_non_members": y[100:]}


    def bad_labels():
        arrays = data()
        arrays["y_members"] = arrays["y_members"] + 5
        return arrays
    """
)

HEAD = """
[tool.pytest.ini_options]
pythonpath = ["."]
privacy_profile = "team"

[tool.privacy_checks.profiles.team]
dataset = "function:team:{data}"
num_classes = 2
input_shape = [8]
epochs = {epochs}
report_epochs = [2, {epochs}]
batch_size = 50
attacks = ["threshold"]
by_class = false
calibration_seeds = {seeds}

[[tool.privacy_checks.profiles.team.models]]
name = "mlp"
builder = "team:build"
params = {{hidden = {hidden}}}
"""

DP = """
[[tool.privacy_checks.profiles.team.models]]
name = "dp"
builder = "team:build"
dp = {{l2_norm_clip = 1.0, noise_multiplier = {noise}, learning_rate = 0.01{budget}}}
"""


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """A private copy of the profile registry: the inner runs share this process."""
    monkeypatch.setattr(profiles, "PROFILES", dict(profiles.PROFILES))
    monkeypatch.setattr(profiles, "_ORIGINS", dict(profiles._ORIGINS))


def project(pytester, *, seeds=2, hidden=16, epochs=4, data="data", dp_noise=None, budget=None):
    pytester.makepyfile(team=TEAM, test_suite=SUITE)
    pytester.makeconftest('pytest_plugins = ["privacy_checks.plugin"]\n')
    text = HEAD.format(data=data, epochs=epochs, seeds=seeds, hidden=hidden)
    if dp_noise is not None:
        text += DP.format(noise=dp_noise, budget="" if budget is None else f", max_epsilon = {budget}")
    pytester.makepyprojecttoml(text)
    pytester.syspathinsert()
    return pytester


def stored(pytester, model="mlp") -> dict:
    return json.loads((pytester.path / baselines_of("team") / f"{model}.json").read_text())


@pytest.mark.study  # end to end, about 17 s on the current lane: run by .ci/run (pytest -m study)
def test_a_new_baseline_is_calibrated_by_default_and_kept_when_another_model_is_added(
    pytester, _heavy_modules_stay_loaded
):
    project(pytester)
    first = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    assert first.ret == pytest.ExitCode.OK, first.stdout.str()
    output = first.stdout.str()
    # The cost is said before anything trains.
    assert output.index("calibrating mlp over 2 seeds (no baseline yet): 1 more trainings") < output.index(
        "mlp: epoch 2/4"
    )
    recorded = stored(pytester)
    assert recorded["calibration_seeds"] == [0, 1] and all("seed_sd" in e for e in recorded["entries"])

    project(pytester, dp_noise=5.0)  # a teammate adds a DP model
    second = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    assert second.ret == pytest.ExitCode.OK, second.stdout.str()
    second.stdout.fnmatch_lines(["*calibrating dp over 2 seeds (no baseline yet)*"])
    assert "calibrating mlp" not in second.stdout.str()
    # Rewritten (the profile's fingerprint now lists two models), with the same entries and spread.
    second.stdout.fnmatch_lines([f"baseline wrote: {baselines_of('team')}/mlp.json (0 added, 0 changed, 0 removed; "
                                 "calibration of 2 seeds kept)"])
    kept = stored(pytester)
    assert (kept["entries"], kept["calibration_seeds"]) == (recorded["entries"], [0, 1])
    assert stored(pytester, "dp")["calibration_seeds"] == [0, 1]


@pytest.mark.study  # end to end, about 19 s on the current lane: run by .ci/run (pytest -m study)
def test_a_stale_calibration_is_dropped_only_with_a_message_that_names_the_command(
    pytester, _heavy_modules_stay_loaded
):
    project(pytester)
    assert run(pytester, "-m", "privacy", "--privacy-update-baselines").ret == pytest.ExitCode.OK

    project(pytester, hidden=32)  # the model changed: the old spread describes another model
    dropped = run(pytester, "-m", "privacy", "--privacy-calibrate=0")
    assert dropped.ret == pytest.ExitCode.OK, dropped.stdout.str()
    dropped.stdout.fnmatch_lines([
        f"baseline wrote: {baselines_of('team')}/mlp.json (*calibration DROPPED: it was measured for another setup "
        "(mlp.params {\"hidden\": 16} -> {\"hidden\": 32}); re-measure it with "
        "pytest -m privacy --privacy-profile team --privacy-calibrate=5)"
    ])
    assert stored(pytester)["calibration_seeds"] == []

    remeasured = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    remeasured.stdout.fnmatch_lines(["*calibrating mlp over 2 seeds (its baseline is not calibrated)*"])
    assert stored(pytester)["calibration_seeds"] == [0, 1]

    project(pytester, hidden=16)  # changed back: measured again, not carried over from another setup
    again = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    again.stdout.fnmatch_lines(["*calibrating mlp over 2 seeds (it was measured for another setup*"])


def test_a_weaker_dp_guarantee_fails_like_a_leak_and_a_budget_holds(pytester, _heavy_modules_stay_loaded):
    # The accountant's checks need no training: only the data set's member count.
    project(pytester, seeds=0, dp_noise=5.0)
    recorded = run(pytester, "-m", "privacy", "-k", "accountant", "--privacy-update-baselines")
    assert recorded.ret == pytest.ExitCode.OK, recorded.stdout.str()
    recorded.assert_outcomes(passed=2)
    assert "epoch 2/4" not in recorded.stdout.str()  # nothing trained
    epsilon = stored(pytester, "dp")["epsilon"]
    dp = model_spec.DPSGD(1.0, 5.0, 0.01)
    assert epsilon == {str(e): round(accounting.epsilon(dp, 100, 50, e), 6) for e in (2, 4)}

    project(pytester, seeds=0, dp_noise=2.0)  # less noise than recorded: several times the epsilon
    weaker = run(pytester, "-m", "privacy", "-k", "accountant")
    weaker.assert_outcomes(failed=2)
    weaker.stdout.fnmatch_lines([
        "*weaker DP guarantee: dp at epoch 4: the accountant's epsilon * is above its baseline's epsilon "
        f"{epsilon['4']:.4f} + 1% *",
        "*pytest -m privacy --privacy-profile team --privacy-update-baselines",
    ])
    assert run(pytester, "-m", "privacy", "-k", "accountant", "--privacy-update-baselines").ret == pytest.ExitCode.OK
    assert run(pytester, "-m", "privacy", "-k", "accountant").ret == pytest.ExitCode.OK  # accepted

    project(pytester, seeds=0, dp_noise=0.5, budget=1.0)
    over = run(pytester, "-m", "privacy", "-k", "accountant", "--privacy-update-baselines")
    over.assert_outcomes(failed=2)  # re-recording does not accept a budget overrun
    over.stdout.fnmatch_lines(["*privacy budget exceeded: dp at epoch 2: * above the budget dp.max_epsilon = 1*"])
    over.stdout.re_match_lines([r".*dp: epsilon \d+\.\d is above 10, where \"How to DP-fy ML\".*"])


def test_the_summary_counts_checks_that_could_not_be_measured_as_pytest_does(pytester, _heavy_modules_stay_loaded):
    project(pytester, seeds=0, data="bad_labels")
    result = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 2 and "passed" not in outcomes
    result.stdout.fnmatch_lines([
        "2 baseline checks: 0 recorded (*), 2 could not be measured",
        "could not be measured (2 checks): data set rejected: profile 'team', num_classes: *",
    ])
    output = result.stdout.str()
    # Told in full once; the other check refers to it in one line.
    assert len(re.findall(r"labels must lie in 0\.\.1", output)) == 2  # the first failure and the summary
    result.stdout.fnmatch_lines([
        "data set rejected: told in full by [mlp-epoch2-threshold-entire_dataset] and in the privacy summary"
    ])
