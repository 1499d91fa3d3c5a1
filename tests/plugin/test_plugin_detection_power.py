"""Proven detection power: injected privacy regressions fail the suite; another seed passes.

Baselines of :func:`privacy_checks.judge.power.digits_study` (the default profile's
data, split and 2-layer model) are calibrated once over five seeds. Each test
then edits the study the way a team would (its conftest redefines the
profile), runs ``pytest -m privacy`` with one of three other seeds, and checks
the verdict and the message. A regression must be caught with every seed,
not by luck; the harmless change must pass with every seed.
"""

from __future__ import annotations

import shutil

import pytest

from privacy_checks.judge import power
from privacy_checks.run.settings import Settings
from privacy_checks.spec.registry import PROFILES

pytestmark = pytest.mark.study

SEEDS = (2001, 2002, 2003)
CALIBRATION_SEEDS = 10  # the default profile's own: five left the spread too uncertain

CONFTEST = """
from privacy_checks.judge import power
from privacy_checks.spec.registry import PROFILES
from privacy_checks import register_profile

pytest_plugins = ["privacy_checks.plugin"]
register_profile({change}, replace=True)
"""


@pytest.fixture(autouse=True)
def _forget_registered_profiles():
    """The inner runs register ``digits-study`` in this process; later tests must not see it."""
    before = dict(PROFILES)
    yield
    PROFILES.clear()
    PROFILES.update(before)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory, _heavy_modules_stay_loaded):
    """The study's baselines with their seed-to-seed spread, recorded without pytest."""
    work = tmp_path_factory.mktemp("calibration")
    settings = Settings(
        profile=power.digits_study(),
        baselines_dir=work / "baselines",
        report_dir=work / "report",
        update_baselines=True,
        calibrate=CALIBRATION_SEEDS,
    )
    run = power.run_all(settings)
    assert [change.added for change in run.changes] == [99]  # 3 epochs x 3 attacks x 11 slices
    return work / "baselines"


def study_run(pytester: pytest.Pytester, calibrated, change: str, seed: int) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST.format(change=change))
    pytester.makeini("[pytest]\nprivacy_profile = digits-study\n")
    pytester.makepyfile(test_suite="def test_mia(privacy_case, privacy_check):\n    privacy_check(privacy_case)\n")
    shutil.copytree(calibrated, pytester.path / "baselines")
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning",
        f"--privacy-seed={seed}", "-rf",
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_another_seed_passes(pytester, calibrated, seed):
    result = study_run(pytester, calibrated, "power.digits_study()", seed)
    result.assert_outcomes(passed=99)  # no false alarm among 3 epochs x 3 attacks x 11 slices
    result.stdout.fnmatch_lines([f"*was recorded from another setup (seed 1234 -> {seed})*"])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("regression", sorted(power.REGRESSIONS))
def test_injected_regression_is_caught(pytester, calibrated, regression, seed):
    """Fewer members: the threshold attack's entire-dataset AUC must fail at every report epoch."""
    result = study_run(pytester, calibrated, f"power.REGRESSIONS[{regression!r}](power.digits_study())", seed)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for epoch in (50, 100, 200):
        result.stdout.fnmatch_lines(
            [
                f"*privacy regression: 2_layers at epoch {epoch}, threshold attack, slice entire_dataset "
                "leaks more than its baseline (baselines/digits-study/2_layers.json).",
                "metric * obtained * 95% CI * baseline * difference * tolerance * verdict",
                "auc * (calibrated) * regressed",
            ]
        )
    members = {"quarter_members": 50, "half_members": 100}[regression]
    result.stdout.fnmatch_lines([f"*another setup (members 200 -> {members}; seed 1234 -> {seed})*"])
