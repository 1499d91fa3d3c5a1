"""The plugin end to end, through pytester, on the few-second ``smoke`` profile.

The cycle users live in: no baselines -> fail; record -> pass; rerun -> pass;
more leakage -> fail with a table and the fixing command; less -> improvement.
"""

from __future__ import annotations

import json
import re

import pytest

from privacy_pytester import CASES, SUITE, run
from lanes import baselines_of
from privacy_checks.train import lane


def baseline_file(project: pytest.Pytester, model: str = "2_layers"):
    return project.path / baselines_of("smoke") / f"{model}.json"


def shift_baseline(project, model: str, needle: str, metric: str, delta: float) -> None:
    """Moves one stored metric, as if the baseline had been recorded from another model."""
    path = baseline_file(project, model)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if needle in line:
            value = float(re.search(rf'"{metric}": ([0-9.]+)', line).group(1))
            lines[i] = line.replace(f'"{metric}": {value:.6f}', f'"{metric}": {value + delta:.6f}')
            break
    else:
        raise AssertionError(f"{needle} not in {path}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.study  # end to end, about 24 s on the current lane: run by .ci/run (pytest -m study)
def test_record_check_regress_improve_cycle(project):
    first = run(project)
    first.assert_outcomes(failed=CASES)
    first.stdout.fnmatch_lines(["*no baseline for 2_layers at epoch 1, threshold attack*",
                                "*pytest -m privacy --privacy-profile smoke --privacy-update-baselines*"])
    assert not baseline_file(project).exists(), "nothing is written without the flag"

    recorded = run(project, "--privacy-update-baselines")
    recorded.assert_outcomes(passed=CASES)
    recorded.stdout.fnmatch_lines([f"*baseline wrote: {baselines_of('smoke')}/2_layers.json (4 added, 0 changed, 0 removed; not calibrated)*"])
    stored = baseline_file(project).read_text()
    assert json.loads(stored)["profile"] == "smoke"

    rerun = run(project)
    rerun.assert_outcomes(passed=CASES)
    rerun.stdout.fnmatch_lines(
        [
            "*8 passed, 0 regressed, 0 improved, 0 new (no baseline)*",
            # smoke is uncalibrated: what a pass rules out is only bounded by the tolerance
            "detectable AUC rise on the entire dataset, worst report epoch (a pass rules out larger rises at 80 % power):",
            "  2_layers: threshold +0.0300 or more, logistic_regression +0.0300 or more",
            "  3_layers: threshold +0.0300 or more, logistic_regression +0.0300 or more",
            '  ("or more": *',
        ]
    )

    # The model now leaks more than the baseline allows (baseline 0.1 lower; tolerance 0.03).
    shift_baseline(project, "2_layers", '"epoch": 3, "attack": "threshold"', "auc", -0.1)
    regressed = run(project)
    regressed.assert_outcomes(passed=CASES - 1, failed=1)
    regressed.stdout.fnmatch_lines(
        [
            "*privacy regression: 2_layers at epoch 3, threshold attack, slice entire_dataset*",
            "metric*obtained*baseline*difference*tolerance*verdict",
            "auc*+0.1000*+0.0300*regressed",
            "attacker_advantage*passed",
            "*pytest -m privacy --privacy-profile smoke --privacy-update-baselines",
        ]
    )
    assert "Traceback" not in regressed.stdout.str()

    # Accepting it restores exactly the recorded file.
    run(project, "--privacy-update-baselines").assert_outcomes(passed=CASES)
    assert baseline_file(project).read_text() == stored

    # Less leakage than the baseline passes and is listed as an improvement.
    shift_baseline(project, "3_layers", '"epoch": 1, "attack": "threshold"', "attacker_advantage", 0.3)
    improved = run(project)
    improved.assert_outcomes(passed=CASES)
    improved.stdout.fnmatch_lines(
        ["*1 improved*", "improved beyond tolerance*", "  3_layers/epoch1/threshold/entire_dataset: attacker_advantage -0.3000"]
    )


@pytest.mark.study  # end to end, about 22 s on the current lane: run by .ci/run (pytest -m study)
def test_report_is_written_and_byte_identical_across_runs(project):
    run(project, "--privacy-update-baselines").assert_outcomes(passed=CASES)
    run(project).assert_outcomes(passed=CASES)
    report = project.path / "privacy-report"
    first = (report / "results.json").read_bytes()
    page, summary = (report / "index.html").read_bytes(), (report / "summary.md").read_bytes()
    run(project).assert_outcomes(passed=CASES)
    assert (report / "results.json").read_bytes() == first
    assert (report / "index.html").read_bytes() == page, "the page is the same bytes for the same run"
    assert (report / "summary.md").read_bytes() == summary
    # Retrained and attacked again, in this process or in worker processes beside training.
    for workers in ("0", "2"):
        run(project, "--privacy-no-cache", f"--privacy-workers={workers}").assert_outcomes(passed=CASES)
        assert (report / "results.json").read_bytes() == first
        assert (report / "index.html").read_bytes() == page
    for name in ("epochs.png", "privacy_vs_accuracy.png"):
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads(first)
    assert len(results["results"]) == CASES
    assert {r["verdict"] for r in results["results"]} == {"passed"}
    assert set(results["models"]) == {"2_layers", "3_layers"}
    assert [e["epoch"] for e in results["models"]["2_layers"]["epochs"]] == [1, 3]


@pytest.mark.study  # end to end, about 23 s on the current lane: run by .ci/run (pytest -m study)
def test_the_ci_summary_reaches_the_checks_page_and_never_fails_the_run(project, monkeypatch, tmp_path):
    """$GITHUB_STEP_SUMMARY gets the verdict, the failures and the numbers of the entire dataset,
    appended after what earlier steps wrote; a file that cannot be written is said, not failed."""
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("## an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    run(project, "--privacy-update-baselines").assert_outcomes(passed=CASES)
    shift_baseline(project, "2_layers", '"epoch": 3, "attack": "threshold"', "auc", -0.1)
    regressed = run(project)
    regressed.assert_outcomes(passed=CASES - 1, failed=1)
    regressed.stdout.fnmatch_lines(["privacy summary appended to $GITHUB_STEP_SUMMARY (shown on the CI run's page)"])
    text = step_summary.read_text()
    assert text.startswith("## an earlier step\n\n### :white_check_mark: Privacy checks, profile `smoke`: PASSED: 8 checks")
    failed = text[text.index("### :x:"):]
    assert failed.startswith("### :x: Privacy checks, profile `smoke`: FAILED: 1 check regressed (of 8 checks)\n")
    assert re.search(r"\| 2_layers, epoch 3, threshold, entire_dataset \| auc [0-9.]+ > [0-9.]+ \+ 0\.0300 \(profile\) \|", failed)
    assert re.search(r"\| `2_layers` \| threshold \| 3 \| [0-9.]+ \| [0-9.]+ \| \+0\.0300 \|.*\*\*regressed\*\* \|", failed)
    assert failed == (project.path / "privacy-report" / "summary.md").read_text().rstrip("\n") + "\n"

    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a directory: cannot be appended to
    unwritable = run(project)
    unwritable.assert_outcomes(passed=CASES - 1, failed=1)
    assert unwritable.ret == pytest.ExitCode.TESTS_FAILED, "the same verdict: the summary is a courtesy"
    unwritable.stdout.fnmatch_lines([f"could not append the privacy summary to $GITHUB_STEP_SUMMARY ({tmp_path}): *"])
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    run(project, "--privacy-update-baselines").assert_outcomes(passed=CASES)
    assert "GITHUB_STEP_SUMMARY" not in run(project).stdout.str()


@pytest.mark.study  # end to end, about 15 s on the current lane: run by .ci/run (pytest -m study)
def test_which_examples_leak_as_images_for_public_data_indices_or_not_at_all(project):
    run(project, "--privacy-update-baselines").assert_outcomes(passed=CASES)
    page = project.path / "privacy-report" / "index.html"
    html = page.read_text()
    assert '<h2 id="leaks">Which examples leak</h2>' in html
    assert "<h3>2_layers: threshold, epoch 3</h3>" in html and "<h3>3_layers: threshold, epoch 3</h3>" in html
    assert html.count('<div class="leak" title="rank') == 2 * 16
    assert html.count('<img src="data:image/png;base64,') >= 16, "digits is public: thumbnails"
    run(project, "--privacy-report-examples=indices").assert_outcomes(passed=CASES)
    html = page.read_text()
    assert html.count('<div class="leak" title="rank') == 2 * 16 and 'alt="member ' not in html
    run(project, "--privacy-report-examples=none").assert_outcomes(passed=CASES)
    assert 'id="leaks"' not in page.read_text()


@pytest.mark.study  # end to end, about 13 s on the current lane: run by .ci/run (pytest -m study)
def test_update_keeps_deselected_entries_and_drops_stale_ones(project):
    run(project, "--privacy-update-baselines").assert_outcomes(passed=CASES)
    path = baseline_file(project)
    data = json.loads(path.read_text())
    data["entries"].append({"epoch": 99, "attack": "threshold", "slice": "entire_dataset",
                            "auc": 0.5, "attacker_advantage": 0.1})
    path.write_text(json.dumps(data))
    other = baseline_file(project, "3_layers").read_bytes()

    checked = run(project)
    checked.stdout.fnmatch_lines(["*1 unused baseline entries*", "  2_layers/epoch99/threshold/entire_dataset"])

    partial = run(project, "--privacy-update-baselines", "-k", "2_layers and epoch1")
    partial.assert_outcomes(passed=2)
    partial.stdout.fnmatch_lines([f"*{baselines_of('smoke')}/2_layers.json (0 added, 0 changed, 1 removed; not calibrated)*"])
    kept = {(e["epoch"], e["attack"]) for e in json.loads(path.read_text())["entries"]}
    assert kept == {(1, "threshold"), (1, "logistic_regression"), (3, "threshold"), (3, "logistic_regression")}
    assert baseline_file(project, "3_layers").read_bytes() == other


def test_corrupt_baseline_fails_its_checks_naming_the_file(project):
    run(project, "--privacy-update-baselines", "-k", "2_layers").assert_outcomes(passed=4)
    baseline_file(project).write_text("{ half written")
    result = run(project, "-k", "2_layers")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines([f"*{baselines_of('smoke')}/2_layers.json: not valid JSON*--privacy-update-baselines*"])


@pytest.mark.study  # end to end, about 9 s on the current lane: run by .ci/run (pytest -m study)
def test_baseline_from_a_changed_setup_is_compared_and_the_change_named(project):
    """Changing training is what the suite judges: compare, and say what changed."""
    run(project, "--privacy-update-baselines", "-k", "2_layers").assert_outcomes(passed=4)
    path = baseline_file(project)
    path.write_text(
        path.read_text()
        .replace('"profile_hash": "', '"profile_hash": "0')
        .replace('"batch_size": 50', '"batch_size": 10')
    )
    result = run(project, "-k", "2_layers")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*2_layers.json was recorded from another setup (batch_size 10 -> 50): this run was compared with it*"]
    )
    seeded = run(project, "-k", "2_layers", "--privacy-seed=99", "--privacy-tolerance=auc=1,attacker_advantage=1,tpr=1")
    seeded.assert_outcomes(passed=4)
    seeded.stdout.fnmatch_lines(["*another setup (batch_size 10 -> 50; seed 1234 -> 99)*"])


def test_header_progress_and_marker(project):
    result = run(project, "-k", "2_layers and epoch1 and threshold", "--privacy-update-baselines")
    result.stdout.fnmatch_lines(
        [
            f"privacy: profile smoke (hash *, seed 1234, TF threads 2/2), baselines {baselines_of('smoke')} (update)*",
            f"privacy: {lane.describe()}: python *, privacy-checks *, tensorflow *, tensorflow-privacy *, numpy *, scikit-learn *",
            "[[]privacy] 2_layers: epoch 1/3, train accuracy *, test accuracy *, elapsed *s, about *s left for 2_layers",
        ]
    )
    marked = run(project, "-m", "not privacy")
    marked.assert_outcomes(deselected=CASES)
    quiet = run(project, "-q", "-k", "2_layers and epoch1 and threshold")
    assert "[privacy]" not in quiet.stdout.str()


@pytest.mark.parametrize(
    "args, ini, message",
    [
        (["--privacy-profile", "mnist"], "", "*--privacy-profile: unknown privacy profile 'mnist'; choose one of: cifar10, cifar10-quick, cifar10-quick-strong, digits, digits-strong, smoke*"),
        ([], "privacy_profile = mnist", "*ini option privacy_profile: unknown privacy profile 'mnist'*"),
        (["--privacy-tolerance", "auc=lots"], "", "*'auc=lots': 'lots' is not a number*"),
        ([], "privacy_class_tolerance = speed=1", "*ini option privacy_class_tolerance*METRIC in auc, attacker_advantage, tpr*"),
        (["--privacy-seed=x"], "", "*--privacy-seed: 'x' is not an integer seed*"),
        ([], "privacy_seed = -1", "*ini option privacy_seed: '-1': a seed lies in 0..2147483647*"),
        (["--privacy-calibrate=1"], "", "*'1': calibration needs a number of seeds, at least 2*"),
        ([], "privacy_workers = many", "*ini option privacy_workers: 'many': a number of worker processes, 0 or more*"),
        (["--privacy-dataset=mnist"], "", "*unknown dataset 'mnist'; use digits, cifar10 or imagefolder:<dir>*"),
        ([], "privacy_dataset = imagefolder:", "*ini option privacy_dataset: imagefolder: needs a directory*"),
        (["--privacy-executor=spark"], "", "*'spark': local (train here, attack in worker processes) or ray*"),
        (["--privacy-report-examples=thumbnails"], "",
         "*--privacy-report-examples: 'thumbnails': images (thumbnails of the members that leak), indices*"),
        ([], "privacy_report_examples = all", "*ini option privacy_report_examples: 'all': images (thumbnails*or none*"),
        (["--privacy-ray-gpus=-1"], "", "*'-1': GPUs per training, 0 or more*"),
        (["--privacy-ray-address=auto"], "",
         "*--privacy-ray-address and --privacy-ray-gpus (or their ini twins) apply to --privacy-executor=ray only*"),
    ],
)
def test_bad_options_are_usage_errors(pytester, args, ini, message):  # no training: no warm-up
    pytester.makeconftest('pytest_plugins = ["privacy_checks.plugin"]')
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.study  # end to end, about 9 s on the current lane: run by .ci/run (pytest -m study)
def test_tolerance_from_ini_is_used(project):
    run(project, "--privacy-update-baselines", "-k", "2_layers").assert_outcomes(passed=4)
    shift_baseline(project, "2_layers", '"epoch": 3, "attack": "threshold"', "auc", -0.1)
    project.makeini("[pytest]\nprivacy_profile = smoke\nprivacy_tolerance = auc=0.2\n")
    run(project, "-k", "2_layers").assert_outcomes(passed=4)
    run(project, "-k", "2_layers", "--privacy-tolerance", "auc=0.01").assert_outcomes(passed=3, failed=1)


def test_dataset_option_changes_the_source_and_the_profile_hash(project, monkeypatch):
    default = run(project, "--collect-only")
    default.stdout.fnmatch_lines(["privacy: data digits"])
    (project.path / "sub").mkdir()
    monkeypatch.chdir(project.path / "sub")  # a relative folder is taken from where pytest runs
    moved = run(project, "--collect-only", "--privacy-dataset=imagefolder:pets", str(project.path))
    moved.stdout.fnmatch_lines(["privacy: data imagefolder:pets"])  # shown relative to the cwd
    hashes = [re.search(r"hash (\w+)", r.stdout.str()).group(1) for r in (default, moved)]
    assert hashes[0] != hashes[1]


@pytest.mark.study  # end to end, about 25 s on the current lane: run by .ci/run (pytest -m study)
def test_rerun_reuses_cached_training_and_attacks_with_identical_results(project):
    def cached_run(*args):  # unlike run(), keeps pytest's cache provider, where the cache lives
        return project.runpytest("-W", "ignore::pytest.PytestAssertRewriteWarning", *args)

    cached_run("--privacy-update-baselines").assert_outcomes(passed=CASES)
    results = project.path / "privacy-report" / "results.json"
    warm = cached_run()
    warm.assert_outcomes(passed=CASES)
    warm.stdout.fnmatch_lines(["reused from the privacy cache: 2 trainings, 4 attack runs*"])
    assert "[privacy] 2_layers: epoch" not in warm.stdout.str()  # nothing was trained
    reused = results.read_bytes()

    fresh = cached_run("--privacy-no-cache")
    fresh.assert_outcomes(passed=CASES)
    assert "reused from the privacy cache" not in fresh.stdout.str()
    assert results.read_bytes() == reused

    for entry in (project.path / ".pytest_cache" / "d" / "privacy_checks").glob("*.npz"):
        entry.write_bytes(entry.read_bytes()[:50])  # a crash mid-write, or a corrupt disk
    rebuilt = cached_run()
    rebuilt.assert_outcomes(passed=CASES)
    assert "reused from the privacy cache" not in rebuilt.stdout.str()
    assert results.read_bytes() == reused
    cached_run().stdout.fnmatch_lines(["reused from the privacy cache: 2 trainings, 4 attack runs*"])

    project.makeini("[pytest]\nprivacy_profile = smoke\nprivacy_no_cache = true\n")  # the ini twin
    assert "reused from the privacy cache" not in cached_run().stdout.str()


REFERENCE_CONFTEST = """
import dataclasses
from privacy_checks import SMOKE, register_profile

pytest_plugins = ["privacy_checks.plugin"]
register_profile(dataclasses.replace(
    SMOKE, name="smoke-rmia", attacks=("threshold", "rmia", "lira_online"),
    reference_models={"rmia": 2, "lira_online": 2}, models=SMOKE.models[:1],
), replace=True)
"""


@pytest.fixture
def _forget_smoke_rmia():
    """The inner run registers ``smoke-rmia`` in this process; later tests must not see it."""
    from privacy_checks.spec import registry

    yield
    if "smoke-rmia" in registry.PROFILES:
        registry.unregister_profile(registry.PROFILES["smoke-rmia"])


@pytest.mark.study  # end to end, about 13 s on the current lane: run by .ci/run (pytest -m study)
def test_reference_model_attacks_are_checked_recorded_and_reported_like_the_others(
    pytester, _heavy_modules_stay_loaded, _forget_smoke_rmia
):
    pytester.makeconftest(REFERENCE_CONFTEST)
    pytester.makeini("[pytest]\nprivacy_profile = smoke-rmia\n")
    pytester.makepyfile(test_suite=SUITE)
    recorded = run(pytester, "--privacy-update-baselines", "-v")
    recorded.assert_outcomes(passed=6)  # 2 epochs x 3 attacks, entire dataset
    recorded.stdout.fnmatch_lines(["*2_layers: reference model 2/2 trained in *",
                                   "*[[]2_layers-epoch3-rmia-entire_dataset[]] PASSED*"])
    baseline = json.loads((pytester.path / baselines_of("smoke-rmia") / "2_layers.json").read_text())
    assert {e["attack"] for e in baseline["entries"]} == {"threshold", "rmia", "lira_online"}
    results = json.loads((pytester.path / "privacy-report" / "results.json").read_text())
    sizes = {(r["attack"], r["epoch"]): (r["members"], r["non_members"]) for r in results["results"]}
    assert sizes[("rmia", 3)] == sizes[("threshold", 3)] == (100, 1697)  # every member and non-member
    assert sizes[("lira_online", 3)] == (100, 100)  # the population: members and as many non-members
    run(pytester).assert_outcomes(passed=6)
