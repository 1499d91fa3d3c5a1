"""Where the work runs, through pytest: Ray as the executor, and pytest-xdist refused with a way out."""

from __future__ import annotations

import pytest

from privacy_checks.plugin import options
from privacy_pytester import CASES, run


def test_xdist_is_refused_at_start_pointing_to_the_executor(project):
    pytest.importorskip("xdist")
    result = run(project, "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*pytest -n 2: privacy checks cannot be split over xdist workers: each worker would train "
        "every model it has checks of again*--privacy-executor=ray*-m 'not privacy'*"
    ])


def test_xdist_runs_other_tests_when_privacy_checks_are_deselected(project):
    pytest.importorskip("xdist")
    project.makepyfile(test_other="def test_plain():\n    assert 1 + 1 == 2\n")
    result = run(project, "-n", "2", "-m", "not privacy")
    result.assert_outcomes(passed=1)  # xdist workers do not report what they deselected


def test_ray_executor_without_ray_says_how_to_install_it(project, monkeypatch):
    monkeypatch.setattr(options, "ray_installed", lambda: False)
    result = run(project, "--privacy-executor=ray")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--privacy-executor=ray needs Ray, which is not installed: pip install -e '.[[]ray]'*"])


@pytest.mark.study  # two cold runs of the smoke profile and a local Ray (about 40 s)
def test_results_are_byte_identical_in_process_and_as_ray_tasks(project, tmp_path):
    pytest.importorskip("ray")
    outputs = {}
    for executor in ("local", "ray"):
        report = tmp_path / executor
        result = run(
            project, "-m", "privacy", "--privacy-update-baselines", f"--privacy-executor={executor}",
            f"--privacy-report-dir={report}", f"--privacy-baselines-dir={tmp_path / executor / 'baselines'}",
        )
        result.assert_outcomes(passed=CASES)
        outputs[executor] = (report / "results.json").read_bytes()
        if executor == "ray":
            result.stdout.fnmatch_lines(["privacy: trainings and attacks run as Ray tasks on a local Ray"])
    assert outputs["local"] == outputs["ray"]
