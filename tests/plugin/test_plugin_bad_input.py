"""Bad input and faults: each gets one clear message naming the file or option, nothing is lost.

Usage errors of options are in test_plugin.py::test_bad_options_are_usage_errors;
loader validation in test_baselines.py. Here, the same problems as a user meets
them through pytest.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from privacy_checks import baselines, datasets, session
from privacy_checks.baselines import Baseline, Entry
from privacy_checks.profiles import SMOKE
from privacy_checks.session import PrivacyRun, Settings
from privacy_pytester import run

ONE_CHECK = ("-k", "2_layers and epoch1 and threshold")


def write_baseline(project, text: str | None = None, **overrides) -> None:
    fields = dict(
        profile="smoke",
        profile_hash=SMOKE.hash,
        model="2_layers",
        seed=SMOKE.seed,
        data_source="sklearn digits",
        versions=session.versions(),
        fingerprint=SMOKE.fingerprint(),
        entries={
            "epoch1/threshold/entire_dataset": Entry(
                1, "threshold", "entire_dataset",
                {"auc": 0.9, "attacker_advantage": 0.9, "tpr_at_fpr_0.001": 0.9, "tpr_at_fpr_0.01": 0.9},
            )
        },
    )
    fields.update(overrides)
    path = project.path / "baselines" / "smoke" / "2_layers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else baselines.dumps(Baseline(**fields)))


GOOD = baselines.dumps(
    Baseline("smoke", SMOKE.hash, "2_layers", SMOKE.seed, "sklearn digits", {}, {})
)


@pytest.mark.parametrize(
    "content, overrides, message",
    [
        ("{", {}, "*baselines/smoke/2_layers.json: not valid JSON*Fix the file, or delete it and run pytest -m privacy --privacy-update-baselines*"),
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
    orphan = project.path / "baselines" / "smoke" / "4_layers.json"
    orphan.write_text(GOOD)
    result = run(project, *ONE_CHECK)
    result.stdout.fnmatch_lines(
        ["unused baseline file baselines/smoke/4_layers.json: profile smoke has no model '4_layers'*"]
    )


def test_interrupted_update_keeps_the_old_baseline_byte_for_byte(project, monkeypatch):
    write_baseline(project)
    path = project.path / "baselines" / "smoke" / "2_layers.json"
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


def test_failed_training_of_one_model_spares_the_other(tmp_path, monkeypatch):
    real_train = session.train

    def train(profile, spec, dataset, on_snapshot=None):
        if spec.name == "2_layers":
            raise MemoryError("out of memory")
        return real_train(profile, spec, dataset, on_snapshot)

    monkeypatch.setattr(session, "train", train)
    privacy = PrivacyRun(Settings(SMOKE, tmp_path, tmp_path))
    with pytest.raises(session.CheckFailed, match="training 2_layers failed: out of memory"):
        privacy.training("2_layers")
    with pytest.raises(session.CheckFailed, match="training 2_layers failed"):
        privacy.training("2_layers")  # remembered, not retried for every check
    assert [s.epoch for s in privacy.training("3_layers").snapshots] == [1, 3]


def test_diverged_training_fails_its_checks_and_runs_no_attack(tmp_path, nan_model):
    privacy = PrivacyRun(Settings(SMOKE, tmp_path, tmp_path))
    case = session.cases(SMOKE)[0]
    with pytest.raises(session.CheckFailed, match="training of 2_layers diverged at epoch 1"):
        privacy.check(case)
    assert privacy.evaluations() == []


@pytest.mark.parametrize(
    "change, message",
    [
        ({"models": (dataclasses.replace(SMOKE.models[0], name="../evil"),)}, "used in file names"),
        ({"name": "my profile"}, "used in file names"),
        ({"dataset": "mnist"}, "unknown dataset 'mnist'"),
    ],
)
def test_names_from_profiles_are_validated(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMOKE, **change)


def test_image_folder_without_images_says_so(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(datasets.DatasetError, match="has no images in train/ or test/"):
        datasets.load(profile)


def test_unreadable_image_is_a_dataset_error(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
        (tmp_path / split / "cat" / "0.png").write_bytes(b"not a png")
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(datasets.DatasetError, match="could not be read"):
        datasets.load(profile)


def test_slice_without_members_is_skipped_not_attacked(tmp_path):
    """TF Privacy runs no attack on a class with no members; the check says so and skips."""
    from test_attacks import PROFILE, leaky_snapshot

    snapshot = leaky_snapshot()
    keep = snapshot.labels_members != 2  # no member of class 2 at all
    snapshot = dataclasses.replace(
        snapshot, logits_members=snapshot.logits_members[keep], labels_members=snapshot.labels_members[keep]
    )
    privacy = PrivacyRun(Settings(PROFILE, tmp_path, tmp_path))
    privacy._trainings["2_layers"] = session.TrainingRun("2_layers", (snapshot,), 0.0)
    case = session.Case("2_layers", 1, "threshold", "class_2")
    assert privacy.check(case) is None
    assert privacy.check(session.Case("2_layers", 1, "threshold", "class_1")) is not None
