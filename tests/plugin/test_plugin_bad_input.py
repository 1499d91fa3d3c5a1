"""Bad input and faults: each gets one clear message naming the file or option, nothing is lost.

Usage errors of options are in plugin/test_plugin.py::test_bad_options_are_usage_errors;
loader validation in test_baselines.py. Here, the same problems as a user meets
them through pytest.
"""

from __future__ import annotations

import os

import pytest

from privacy_checks.judge import baselines
from privacy_checks.judge.baselines import Baseline, Entry
from privacy_checks.spec import environment
from privacy_checks.spec.registry import SMOKE
from privacy_pytester import run
from lanes import baselines_of

ONE_CHECK = ("-k", "2_layers and epoch1 and threshold")


def write_baseline(project, text: str | None = None, **overrides) -> None:
    fields = dict(
        profile="smoke",
        profile_hash=SMOKE.hash,
        model="2_layers",
        seed=SMOKE.seed,
        data_source="sklearn digits",
        versions=environment.versions(),
        fingerprint=SMOKE.fingerprint(),
        entries={
            "epoch1/threshold/entire_dataset": Entry(
                1, "threshold", "entire_dataset",
                {"auc": 0.9, "attacker_advantage": 0.9, "tpr_at_fpr_0.001": 0.9, "tpr_at_fpr_0.01": 0.9},
            )
        },
    )
    fields.update(overrides)
    path = project.path / baselines_of("smoke") / "2_layers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else baselines.dumps(Baseline(**fields)))


GOOD = baselines.dumps(
    Baseline("smoke", SMOKE.hash, "2_layers", SMOKE.seed, "sklearn digits", {}, {})
)


@pytest.mark.parametrize(
    "content, overrides, message",
    [
        ("{", {}, f"*{baselines_of('smoke')}/2_layers.json: not valid JSON*Fix the file, or delete it and run pytest -m privacy --privacy-update-baselines*"),
        (GOOD.replace('"schema": 2', '"schema": 1'), {}, "*2_layers.json: schema is 1, this version of privacy_checks reads schema 2*"),
        (GOOD.replace('"entries": []', '"entries": [{"epoch": 1, "attack": "threshold", "slice": "entire_dataset", "auc": 0.5, "attacker_advantage": 0.1, "tpr_at_fpr_2": 0.1}]'),
         {}, "*2_layers.json: entries[[]0] has unknown fields [[]'tpr_at_fpr_2']*"),
        (GOOD.replace('"entries": []', '"entries": [{"epoch": 1, "attack": "threshold", "slice": "entire_dataset", "auc": 0.5, "attacker_advantage": 0.1, "seed_sd": {"auc": -0.1}}]'),
         {}, "*2_layers.json: entries[[]0].seed_sd.auc is negative*"),
        (GOOD.replace('"calibration_seeds": []', '"calibration_seeds": ["1234"]'),
         {}, "*2_layers.json: calibration_seeds holds '1234', not an integer seed*"),
        (GOOD.replace('"entries": []', '"entries": [{"epoch": 1, "attack": "threshold", "slice": "entire_dataset", "auc": "high", "attacker_advantage": 0.1}]'),
         {}, "*2_layers.json: entries[[]0].auc is 'high', not a number*"),
        (GOOD.replace('"entries": []', '"entries": [{"epoch": 1, "attack": "threshold", "slice": "entire_dataset", "auc": Infinity, "attacker_advantage": 0.1}]'),
         {}, "*2_layers.json: entries[[]0].auc is inf, not a finite number*"),
        (None, {"profile_hash": "0", "fingerprint": {**SMOKE.fingerprint(), "dataset": "cifar10"}},
         "*2_layers.json was recorded on other data (dataset \"cifar10\" -> \"digits\"), so its numbers measure something else*re-record*"),
        (None, {"data_source": "imagefolder:pets (10 train / 10 test images)"},
         "*2_layers.json was recorded on other data (data source 'imagefolder:pets (10 train / 10 test images)' -> 'sklearn digits')*"),
        (None, {"profile": "digits"}, "*2_layers.json holds the baseline of profile 'digits', model '2_layers', not of profile 'smoke'*"),
        (None, {"model": "3_layers"}, "*holds the baseline of profile 'smoke', model '3_layers', not of profile 'smoke', model '2_layers'*"),
    ],
)
def test_bad_baseline_fails_its_checks_with_the_reason(project, content, overrides, message):
    write_baseline(project, content, **overrides)
    result = run(project, *ONE_CHECK)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()  # the message, once


def test_baseline_file_of_a_model_the_profile_lacks_is_reported(project):
    write_baseline(project)
    orphan = project.path / baselines_of("smoke") / "4_layers.json"
    orphan.write_text(GOOD)
    result = run(project, *ONE_CHECK)
    result.stdout.fnmatch_lines(
        [f"unused baseline file {baselines_of('smoke')}/4_layers.json: profile smoke has no model '4_layers'*"]
    )


def test_interrupted_update_keeps_the_old_baseline_byte_for_byte(project, monkeypatch):
    write_baseline(project)
    path = project.path / baselines_of("smoke") / "2_layers.json"
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    result = run(project, *ONE_CHECK, "--privacy-update-baselines")
    monkeypatch.undo()
    result.stdout.fnmatch_lines(["*could not write the baselines: [[]Errno 28] No space left on device*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["2_layers.json"]  # no temp files


def test_unwritable_report_dir_is_an_error_not_a_green_run(project):
    write_baseline(project)
    (project.path / "taken").write_text("a file, not a directory")
    result = run(project, *ONE_CHECK, "--privacy-tolerance=auc=1,attacker_advantage=1",
                 "--privacy-report-dir=taken/report")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["could not write the privacy report to taken/report: *. Choose a writable directory with --privacy-report-dir=DIR."]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
