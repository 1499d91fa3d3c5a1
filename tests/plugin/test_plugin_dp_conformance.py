"""The DP step's conformance check through pytest: an optimizer adding half the claimed noise fails it,
and so does a white-box canary bound above the accountant's epsilon; the bound is shown either way.

No training: the check builds the DP model as its training would and audits its step, so each
run is a process start, the data and one audit with its canaries (about 15 s on 2 cores).
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
if {inflated}:
    # A canary bound above the claim, as an optimizer leaking more than it is told would give: a
    # valid lower bound above the accountant's epsilon proves the claim false.
    from privacy_checks.attack import white_box
    honest_audit = white_box.canary_audit

    def canary_audit(*args, **kwargs):
        found = honest_audit(*args, **kwargs)
        above = dataclasses.replace(found.bound, epsilon_gdp=2 * found.accountant_epsilon)
        return dataclasses.replace(found, bound=above)

    white_box.canary_audit = canary_audit

pytest_plugins = ["privacy_checks.plugin"]
'''


@pytest.mark.study  # end to end, about 14 s on the current lane: run by .ci/run (pytest -m study)
@pytest.mark.parametrize("broken", [False, True], ids=["honest", "half_noise"])
def test_the_conformance_check_fails_an_optimizer_adding_half_the_noise(pytester, broken):
    pytester.makeconftest(CONFTEST.format(broken=broken, inflated=False))
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


@pytest.mark.parametrize("inflated", [False, True], ids=["honest", "bound_above_claim"])
def test_the_canary_bound_is_shown_beside_the_claim_and_fails_the_check_above_it(pytester, inflated):
    """The white-box canary bound, measured in the conformance check's audit (no training): one
    summary line and one results.json entry for the DP model; above the accountant's epsilon it
    fails the check with both numbers."""
    pytester.makeconftest(CONFTEST.format(broken=False, inflated=inflated))
    pytester.makeini("[pytest]\nprivacy_profile = dp-step\n")
    pytester.makepyfile(test_suite="def test_mia(privacy_case, privacy_check):\n    privacy_check(privacy_case)\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "dp_conformance", "-rf")
    document = json.loads((pytester.path / "privacy-report" / "results.json").read_text())
    (check,) = [g for g in document["dp_checks"] if g["check"] == "dp_conformance"]
    bound = document["white_box_bounds"]["dp"]
    assert sorted(document["white_box_bounds"]) == ["dp"]
    # the smoke profile: 3 epochs of 2 steps, the check's half of the guarantee budget (2 checks)
    assert bound["method"] == "GDP" and bound["canaries"] == 2000 and bound["steps"] == 6 and bound["epoch"] == 3
    assert bound["alpha"] == pytest.approx(0.001 / check["checks_sharing_the_budget"] / 2)
    assert bound["accountant_epsilon"] == pytest.approx(1.0848, abs=1e-3)
    claimed = bound["accountant_epsilon"]
    line = (
        f"*  dp: white-box canary bound eps >= {bound['epsilon_lower_bound']:.2f} (GDP, 2,000 canaries, 99.99* % "
        f"confidence) against the accountant's {claimed:.2f} at epoch 3; black-box bound not measured*"
    )
    result.stdout.fnmatch_lines([line])
    assert "white-box canary bound epsilon >= " in check["limit_is"]
    if not inflated:
        result.assert_outcomes(passed=1)
        assert bound["epsilon_lower_bound"] <= claimed and not bound["refutes_claim"]
        assert check["verdict"] == "passed"
        return
    result.assert_outcomes(failed=1)
    assert bound["epsilon_lower_bound"] == pytest.approx(2 * claimed, abs=1e-3) and bound["refutes_claim"]
    assert check["verdict"] == "failed" and check["obtained"] == 1
    result.stdout.fnmatch_lines([
        f"*DP step does not conform*white-box canaries prove epsilon >= {2 * claimed:.4g} (GDP, 2000 canaries, 99.99* % confidence) above the accountant's "
        f"{claimed:.4g}*",
    ])
