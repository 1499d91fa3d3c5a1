"""A team's own model and data through pytest: a builder and a data function named in pyproject.toml, the
hooks that make them instead, and each bad input stopped with its message before any training.

The data is tabular (a seeded scikit-learn ``make_classification``), the model a small MLP: seconds per run.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from privacy_checks.spec import registry as profiles
from privacy_pytester import SUITE, run
from lanes import baselines_of

TEAM = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import make_classification


    def build(input_shape, num_classes, hidden=32, softmax=False, width=None):
        inputs = tf.keras.Input(input_shape)
        x = tf.keras.layers.Dense(hidden, activation="relu")(inputs)
        outputs = tf.keras.layers.Dense(width or num_classes, activation="softmax" if softmax else None)(x)
        return tf.keras.Model(inputs, outputs)


    def data():
        x, y = make_classification(
            n_samples=400, n_features=12, n_informative=6, n_classes=3, random_state=0
        )
        x = x.astype(np.float32)
        return {"x_members": x[:200], "y_members": y[:200], "x_non_members": x[200:], "y_non_members": y[200:]}


    def ninety_members():
        arrays = data()
        arrays["x_members"], arrays["y_members"] = arrays["x_members"][:90], arrays["y_members"][:90]
        return arrays


    def bad_labels():
        arrays = data()
        arrays["y_members"] = arrays["y_members"] + 1  # 1..3 for 3 classes
        return arrays
    """
)

PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]
privacy_profile = "team"

[tool.privacy_checks.profiles.team]
dataset = "function:team:{data}"
num_classes = 3
input_shape = [12]
epochs = 6
report_epochs = [3, 6]
batch_size = 50
attacks = ["threshold", "logistic_regression"]
by_class = false
# Recording calibrates by default; these tests are about the model and data paths.
calibration_seeds = 0

[[tool.privacy_checks.profiles.team.models]]
name = "mlp"
builder = "team:{builder}"
params = {params}
outputs = "{outputs}"
"""


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """A private copy of the profile registry: the inner runs share this process."""
    monkeypatch.setattr(profiles, "PROFILES", dict(profiles.PROFILES))
    monkeypatch.setattr(profiles, "_ORIGINS", dict(profiles._ORIGINS))


def team_project(
    pytester: pytest.Pytester,
    data: str = "data",
    builder: str = "build",
    params: str = "{hidden = 32}",
    outputs: str = "logits",
    conftest: str = "",
) -> pytest.Pytester:
    pytester.makepyfile(team=TEAM, test_suite=SUITE)
    pytester.makeconftest('pytest_plugins = ["privacy_checks.plugin"]\n' + conftest)
    pytester.makepyprojecttoml(PYPROJECT.format(data=data, builder=builder, params=params, outputs=outputs))
    # The inner runs import the project's module afresh.
    pytester.syspathinsert()
    return pytester


def results(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "privacy-report" / "results.json").read_text())


@pytest.mark.study  # end to end, about 14 s on the current lane: run by .ci/run (pytest -m study)
@pytest.mark.parametrize("outputs, params", [("logits", "{hidden = 32}"), ("probabilities", "{softmax = true}")])
def test_a_builder_and_data_function_from_pyproject_record_and_pass(pytester, _heavy_modules_stay_loaded, outputs, params):
    team_project(pytester, params=params, outputs=outputs)
    recorded = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    assert recorded.ret == pytest.ExitCode.OK, recorded.stdout.str()
    baseline = json.loads((pytester.path / baselines_of("team") / "mlp.json").read_text())
    assert baseline["data_source"].startswith("function:team:data (200 members / 200 non-members)")
    document = results(pytester)
    model = document["models"]["mlp"]
    assert model["builder"] == "team:build" and model["outputs"] == outputs
    entire = [r for r in document["results"] if r["slice"] == "entire_dataset"]
    assert entire and all(0.3 < r["auc"] < 1 for r in entire)
    checked = run(pytester, "-m", "privacy")
    assert checked.ret == pytest.ExitCode.OK, checked.stdout.str()
    checked.assert_outcomes(passed=len(document["results"]))


@pytest.mark.parametrize(
    "project, message",
    [
        ({"builder": "missing"}, "model 'mlp' (builder): module 'team' has no 'missing'"),
        ({"params": "{width = 4}"}, "the model's output shape is (None, 4), but the profile has num_classes = 3"),
        ({"params": "{softmax = true}"}, 'Set outputs = "probabilities" for this model'),
        ({"data": "bad_labels"}, "profile 'team', num_classes"),
    ],
    ids=["unknown-builder", "output-width", "probabilities-as-logits", "labels-out-of-range"],
)
def test_bad_model_or_data_fails_every_check_with_its_message_before_training(
    pytester, _heavy_modules_stay_loaded, project, message
):
    team_project(pytester, **project)
    result = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert message in output
    assert "epoch 3/6" not in output  # no progress line: nothing trained
    assert not (pytester.path / "baselines").exists()


HOOKS = '''
import numpy as np
import team

made = []


def pytest_privacy_build_model(config, profile, model, input_shape, num_classes):
    made.append(model.name)
    return team.build(input_shape, num_classes, hidden=8)


def pytest_privacy_load_data(config, profile, data_dir):
    arrays = team.data()
    return arrays["x_members"], arrays["y_members"], arrays["x_non_members"], arrays["y_non_members"]


def pytest_sessionfinish(session):
    print("models made by the hook:", made)
'''


def test_hooks_make_the_model_and_the_data_instead_of_the_paths(pytester, _heavy_modules_stay_loaded):
    # The paths name nothing that exists: only the hooks can make this run work.
    team_project(pytester, data="no_such_data", builder="no_such_builder", conftest=HOOKS)
    result = run(pytester, "-m", "privacy", "--privacy-update-baselines", "-s")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "models made by the hook: ['mlp', 'mlp']" in result.stdout.str()  # checked once, trained once
    baseline = json.loads((pytester.path / baselines_of("team") / "mlp.json").read_text())
    assert baseline["data_source"].startswith("pytest_privacy_load_data (200 members / 200 non-members)")


DP_MODEL = """
[[tool.privacy_checks.profiles.team.models]]
name = "mlp_dp"
builder = "team:build"
params = {hidden = 8}
dp = {l2_norm_clip = 1.0, noise_multiplier = 1.1, learning_rate = 0.01}
"""


def test_a_dp_model_whose_members_do_not_fill_whole_batches_fails_alone_before_any_training(
    pytester, _heavy_modules_stay_loaded
):
    """members unset: the count (90, batch_size 50) is known only once the data is loaded; the
    per-model preflight refuses the DP model then, before the model before it trains."""
    team_project(pytester, data="ninety_members")
    with open(pytester.path / "pyproject.toml", "a") as pyproject:
        pyproject.write(DP_MODEL)
    result = run(pytester, "-m", "privacy", "--privacy-update-baselines")
    output = result.stdout.str()
    message = (
        "profile 'team', model 'mlp_dp' (members, batch_size): the model trains with DP-SGD, one microbatch "
        "per example, so its members must fill whole batches, but the data gives 90 members and batch_size "
        "is 50 (a last batch of 40). To train on whole batches, set members = 50, or batch_size = 45, 30 or 18."
    )
    assert f"[privacy] mlp_dp: not trained: {message}" in output
    assert output.index("mlp_dp: not trained") < output.index("[privacy] mlp: epoch 3/6")
    outcomes = result.parseoutcomes()
    # mlp: 2 epochs x 2 attacks, recorded; mlp_dp's accountant epsilon (2 epochs) and the audit of its
    # DP step (one check, on the built model's optimizer) need no training
    assert outcomes["passed"] == 4 + 2 + 1, output
    assert outcomes["failed"] > 0 and "mlp_dp" not in "".join(
        line for line in output.splitlines() if line.startswith("PASSED")
    )
    # Told in full once by the first check that needed it and once in the summary; the others refer to it.
    assert output.count(f"training mlp_dp failed: {message}") == 2
    assert output.count("training mlp_dp failed: told in full by [") == outcomes["failed"] - 1
    assert (pytester.path / baselines_of("team") / "mlp.json").exists()
    recorded = json.loads((pytester.path / baselines_of("team") / "mlp_dp.json").read_text())
    assert recorded["entries"] == [] and set(recorded["epsilon"]) == {"3", "6"}
