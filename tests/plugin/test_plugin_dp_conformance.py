"""The DP step's conformance check through pytest: an optimizer adding half the claimed noise fails it.

No training: the check builds the DP model as its training would and audits its step, so each
run is a process start, the data and one audit (about 15 s on 2 cores).
"""

from __future__ import annotations

import json

import pytest

CONFTEST = '''
import dataclasses
from privacy_checks import SMOKE, DPSGD, ModelSpec, register_profile
from privacy_checks.train import models

register_profile(dataclasses.replace(
    SMOKE, name="dp-step", description="The smoke profile with a DP model.",
    models=(ModelSpec("dp", "DP", 2, dp=DPSGD(l2_norm_clip=1.0, noise_multiplier=5.0, learning_rate=1e-2)),),
))
if {broken}:
    # The bug the audit exists for: the optimizer adds half the noise the profile, and so the
    # accountant, is told.
    honest = models.compile_model

    def compile_model(model, outputs, learning_rate, dp=None, batch_size=None, seed=0):
        half = None if dp is None else dataclasses.replace(dp, noise_multiplier=dp.noise_multiplier / 2)
        return honest(model, outputs, learning_rate, half, batch_size, seed)

    models.compile_model = compile_model

pytest_plugins = ["privacy_checks.plugin"]
'''


@pytest.mark.parametrize("broken", [False, True], ids=["honest", "half_noise"])
def test_the_conformance_check_fails_an_optimizer_adding_half_the_noise(pytester, broken):
    pytester.makeconftest(CONFTEST.format(broken=broken))
    pytester.makeini("[pytest]\nprivacy_profile = dp-step\n")
    pytester.makepyfile(test_suite="def test_mia(privacy_case, privacy_check):\n    privacy_check(privacy_case)\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "dp_conformance", "-rf")
    document = json.loads((pytester.path / "privacy-report" / "results.json").read_text())
    (check,) = [g for g in document["dp_checks"] if g["check"] == "dp_conformance"]
    assert "against claimed 5" in check["limit_is"] and "under Poisson sampling (checked)" in check["limit_is"]
    if not broken:
        result.assert_outcomes(passed=1)
        assert check["verdict"] == "passed" and check["obtained"] == 0
        return
    result.assert_outcomes(failed=1)
    assert check["verdict"] == "failed" and check["obtained"] == 1
    result.stdout.fnmatch_lines([
        "*DP step does not conform: dp's optimizer is not the mechanism its accountant is told*"
        "the noise's standard deviation measured 2.* against the claimed noise_multiplier x l2_norm_clip = 5*",
        "*FAILED test_suite.py::test_mia[[]dp-epoch3-dp_conformance[]]*",
    ])
