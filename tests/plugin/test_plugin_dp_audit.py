"""A broken DP setup through pytest: noise switched off while the profile claims it."""

from __future__ import annotations

import pytest

from privacy_checks.attack import accounting
from privacy_checks.spec.model_spec import DPSGD

# Two fresh processes each train a DP model for 60 epochs (about 35 s together): run by
# `pytest -m study` (and .ci/run), so that `pytest` stays within its 5 minutes on 2 cores.
pytestmark = pytest.mark.study

AUDIT_CONFTEST = '''
import dataclasses
from privacy_checks.train import models
from privacy_checks import DIGITS, DPSGD, ModelSpec, register_profile

# Noise 20 x clip claims epsilon of about 0.5 after 30 epochs and 0.8 after 60.
register_profile(dataclasses.replace(
    DIGITS, name="dp-audit", description="A DP model that claims a small epsilon.",
    models=(ModelSpec("dp", "DP", 2, dp=DPSGD(l2_norm_clip=1.0, noise_multiplier=20.0, learning_rate=1e-2)),),
    epochs=60, report_epochs=(30, 60), attacks=("threshold",), reference_models=dict(), by_class=False,
))
if {broken}:
    # The bug a DP audit exists to catch: the optimizer silently drops the noise,
    # while the profile, and so the accountant, still claim it.
    # TF Privacy's optimizer on the codelab lane, the project's DP-SGD on the current lane.
    from privacy_checks.train import dp_sgd
    honest = models.dp_optimizer
    models.dp_optimizer = lambda dp, batch_size: honest(dataclasses.replace(dp, noise_multiplier=0.0), batch_size)
    honest_private = dp_sgd.compile_private
    dp_sgd.compile_private = lambda model, dp, *args, **kwargs: honest_private(
        model, dataclasses.replace(dp, noise_multiplier=0.0), *args, **kwargs)

pytest_plugins = ["privacy_checks.plugin"]
'''


@pytest.mark.parametrize("broken", [False, True], ids=["noise_on", "noise_off"])
def test_epsilon_check_fires_when_dp_noise_is_switched_off(pytester, broken):
    pytester.makeconftest(AUDIT_CONFTEST.format(broken=broken))
    pytester.makeini("[pytest]\nprivacy_profile = dp-audit\n")
    pytester.makepyfile(test_suite="def test_mia(privacy_case, privacy_check):\n    privacy_check(privacy_case)\n")
    # A fresh process: the conftest patches the optimizer module-wide.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "epsilon_bound", "-rf")
    claimed = accounting.epsilon(DPSGD(1.0, 20.0, 1e-2), 200, 50, 60)
    if not broken:
        result.assert_outcomes(passed=2)
        result.stdout.fnmatch_lines(
            [f"dp (DP-SGD, noise 20, clip 1): epsilon {claimed:.2f} at epoch 60*; 2 guarantee checks passed, 0 failed"]
        )
        return
    # Without noise the model overfits like any other: its leakage at epoch 60 proves
    # more than the claimed epsilon, at the confidence of the run's guarantee budget.
    result.stdout.fnmatch_lines(
        [
            "*DP guarantee broken: dp at epoch 60, threshold attack, slice entire_dataset: "
            "the measured epsilon lower bound * exceeds "
            f"the accountant's epsilon (RDP, delta=1e-05, noise multiplier 20, clip 1, 240 steps) = {claimed:.3f}.",
            "The bound (confidence 0.999667 for this check; the 3 guarantee checks of this run together "
            "err with probability at most 0.001) uses a threshold chosen on part of the attack's scores*",
            "*FAILED test_suite.py::test_mia[[]dp-epoch60-threshold-epsilon_bound[]]*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
