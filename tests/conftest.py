"""Shared fixtures for tests that run the plugin through pytester."""

from __future__ import annotations

import dataclasses
import importlib.util
import tempfile
from pathlib import Path

import pytest

from privacy_pytester import SUITE


@pytest.fixture(scope="session", autouse=True)
def _tensorflow_threads_of_the_profiles():
    """TensorFlow's thread pools as the profiles fix them, before any test starts TensorFlow.

    This is the session's first import of TensorFlow: made as the runner makes it, without
    the start-up warnings that no project can act on (:mod:`privacy_checks.train.quiet`).
    """
    from privacy_checks.spec.registry import SMOKE
    from privacy_checks.train import quiet
    from privacy_checks.train.fit import configure_threads

    quiet.import_stack()
    configure_threads(SMOKE)


#: What a CI machine sets that changes what a run inside a test prints. ``CI`` and ``BUILD_NUMBER``
#: make pytest print each failure's whole message in its short test summary (no cut at the terminal's
#: width), so a message counted in the output appears once more; the colour and width variables
#: change every line. A test asserts what the plugin prints, wherever the suite runs.
CI_ENVIRONMENT = ("CI", "BUILD_NUMBER", "PY_COLORS", "FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES")


@pytest.fixture(autouse=True)
def _runs_inside_tests_print_as_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs inside tests (pytester) print the same on a CI machine as on a developer's, and append no
    summary to the CI page of this repository's own job: only the outer run's, written at its session
    finish after this is undone, belongs there."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for variable in CI_ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def _heavy_modules_stay_loaded():
    """Runs the whole pipeline once in this process before any in-process pytester run.

    pytester restores ``sys.modules`` after each inner run, removing what the
    run imported; TensorFlow cannot be imported twice in one process (its C++
    registrations abort). Importing everything the pipeline touches here keeps
    it in the snapshot pytester restores to.
    """
    import numpy as np

    from privacy_checks.attack import lira, reference_inputs, rmia  # noqa: F401
    from privacy_checks.attack.codelab import evaluate, roc_curve
    from privacy_checks.data import load
    from privacy_checks.report import plots
    from privacy_checks.spec.registry import SMOKE
    from privacy_checks.train import fit, references  # noqa: F401

    profile = dataclasses.replace(SMOKE, epochs=1, report_epochs=(1,))
    evaluation = evaluate(fit.train(profile, profile.models[0], load.load(profile)).at(1), profile)
    roc_curve(np.array([1.0, 2.0]), np.array([0.0, 1.5]))  # scikit-learn's metrics, for the reference attacks
    with tempfile.TemporaryDirectory() as tmp:
        plots.write_plots(Path(tmp), [evaluation])
    if importlib.util.find_spec("ray") is not None:
        # The executor tests run Ray inside pytester runs; imported again after pytester
        # removed it, Ray's C extension crashes the process (seen in pytest -m study).
        import ray  # noqa: F401


@pytest.fixture
def project(pytester: pytest.Pytester, _heavy_modules_stay_loaded) -> pytest.Pytester:
    """A project using the plugin with the few-second ``smoke`` profile and one privacy test."""
    pytester.makeconftest('pytest_plugins = ["privacy_checks.plugin"]')
    pytester.makeini("[pytest]\nprivacy_profile = smoke\n")
    pytester.makepyfile(test_suite=SUITE)
    return pytester


@pytest.fixture
def nan_model(monkeypatch):
    """Every model trained in the test outputs NaN logits: a diverged training on any CPU.

    (A huge learning rate made the loss non-finite on some CPUs only.)
    """
    import tensorflow as tf

    from privacy_checks.train import models

    honest = models.codelab_cnn

    def diverging(input_shape, *args, **kwargs):
        model = honest(input_shape, *args, **kwargs)
        # Called on an Input of its own: a Keras 3 Sequential has no output until it is called.
        inputs = tf.keras.Input(shape=input_shape)
        logits = tf.keras.layers.Lambda(lambda x: x * float("nan"))(model(inputs))
        return tf.keras.Model(inputs, logits)

    monkeypatch.setattr(models, "codelab_cnn", diverging)
