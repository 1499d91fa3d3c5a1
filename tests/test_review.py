"""report/review.py: the verdict line, the setup changes and the failures a reviewer reads first."""

from __future__ import annotations

from report_fixtures import broken_guarantee, comparison, every_check, measured

from privacy_checks.report import review
from privacy_checks.spec.cases import CaseKey


def test_a_green_run_says_passed_and_counts_every_check():
    assert review.verdict(measured(every_check())).line == "PASSED: 8 checks"
    improved = every_check(**{"2_layers_3_threshold": comparison("2_layers", 3, "threshold", {"auc": -0.2})})
    assert review.verdict(measured(improved, skipped=2)).line == (
        "PASSED: 10 checks (1 improved beyond tolerance; 2 skipped (the attack ran on no example of the slice))"
    )


def test_a_red_run_names_each_kind_of_failure():
    checks = every_check(
        **{"2_layers_3_threshold": comparison("2_layers", 3, "threshold", {"auc": 0.2}),
           "3_layers_3_threshold": comparison("3_layers", 3, "threshold", {"attacker_advantage": 0.3}),
           "3_layers_1_threshold": comparison("3_layers", 1, "threshold", baseline=False)}
    )
    unmeasured = {(CaseKey("4_layers", 1, "threshold", "entire_dataset"), "baseline"): "training 4_layers failed: NaN"}
    found = review.verdict(measured(checks, unmeasured=unmeasured, guarantees={("k", "epsilon_bound"): broken_guarantee()}))
    assert found.failed
    assert found.line == (
        "FAILED: 2 checks regressed, 1 check without a baseline, 1 DP guarantee broken, 1 could not be measured "
        "(of 10 checks)"
    )


def test_an_update_records_what_regressed_but_not_what_could_not_be_measured():
    checks = every_check(**{"2_layers_3_threshold": comparison("2_layers", 3, "threshold", {"auc": 0.2})})
    assert review.verdict(measured(checks, update_baselines=True)).line == (
        "PASSED: 8 checks (measured and recorded as the new baselines)"
    )
    unmeasured = {(CaseKey("2_layers", 1, "threshold", "entire_dataset"), "baseline"): "data set rejected"}
    assert review.verdict(measured(checks, update_baselines=True, unmeasured=unmeasured)).failed
    assert review.failures(measured(checks, update_baselines=True)) == []


def test_failures_are_told_as_the_terminal_tells_them_surest_first():
    """The entire dataset first, then broken guarantees, then class slices, then checks without a
    baseline; regressions by how far they rose, in tolerances."""
    small = comparison("2_layers", 3, "threshold", {"auc": 0.05})  # 1.7 tolerances
    large = comparison("3_layers", 1, "logistic_regression", {"auc": 0.30})  # 10 tolerances
    noisy = comparison("2_layers", 3, "threshold", {"auc": 0.9}, slice_="class_3")  # 9 class tolerances
    new = comparison("2_layers", 1, "threshold", baseline=False)
    checks = every_check(**{"2_layers_3_threshold": small, "3_layers_1_logistic_regression": large,
                            "2_layers_1_threshold": new})
    checks[noisy.key] = noisy
    found = review.failures(measured(checks, guarantees={("k", "epsilon_bound"): broken_guarantee()},
                                     baseline_paths={"3_layers": "baselines/smoke/3_layers.json"}))
    assert [f.title for f in found] == [
        "3_layers, epoch 1, logistic_regression, entire_dataset",
        "2_layers, epoch 3, threshold, entire_dataset",
        "dp_2_layers, epoch 3, threshold, entire_dataset, epsilon_bound",
        "2_layers, epoch 3, threshold, class_3",
        "2_layers, epoch 1, threshold, entire_dataset",
    ]
    assert found[0].anchor == "3_layers-epoch1-logistic_regression-entire_dataset"
    assert found[0].summary == "auc 0.9000 > 0.6000 + 0.0300 (profile)"
    assert found[0].text.startswith("privacy regression: 3_layers at epoch 1, logistic_regression attack")
    assert "(baselines/smoke/3_layers.json)" in found[0].text
    assert "auc  " in found[0].text and "regressed" in found[0].text, "the terminal's table"
    assert found[0].text.rstrip().endswith("pytest -m privacy --privacy-profile smoke --privacy-update-baselines")
    assert found[2].comparison is None and found[2].text.startswith("DP guarantee broken")
    assert found[2].summary == "2.5000 > 1.4000 (the accountant's epsilon)"
    assert (found[4].summary, found[4].text.startswith("no baseline for 2_layers at epoch 1")) == ("no baseline", True)


def test_setup_changes_per_model_and_errors_whole_with_their_counts():
    changes = {"3_layers": ["members 200 -> 100"], "2_layers": ["members 200 -> 100", "seed 1234 -> 2001"], "dp": []}
    assert review.setup_changes(measured({}, setup_changes=changes)) == {
        "2_layers": ["members 200 -> 100", "seed 1234 -> 2001"], "3_layers": ["members 200 -> 100"],
    }
    key = CaseKey("2_layers", 1, "threshold", "entire_dataset")
    later = CaseKey("2_layers", 3, "threshold", "entire_dataset")
    unmeasured = {
        (key, "baseline"): "data set rejected: labels", (later, "baseline"): "data set rejected: labels",
        (key, "epsilon_bound"): "data set rejected: labels", (CaseKey("m", 1, "t", "s"), "baseline"): "other",
    }
    assert review.unmeasured(measured({}, unmeasured=unmeasured)) == [("data set rejected: labels", 2, 1), ("other", 1, 0)]


def test_the_entire_dataset_now_is_the_last_epoch_of_each_model_and_attack_in_profile_order():
    checks = every_check(**{"3_layers_3_threshold": comparison("3_layers", 3, "threshold", {"auc": 0.2})})
    checks[CaseKey("2_layers", 3, "threshold", "class_1")] = comparison("2_layers", 3, "threshold", slice_="class_1")
    now = review.entire_dataset_now(measured(checks))
    assert [(n.model, n.attack, n.epoch, n.verdict) for n in now] == [
        ("2_layers", "threshold", 3, "passed"), ("2_layers", "logistic_regression", 3, "passed"),
        ("3_layers", "threshold", 3, "regressed"), ("3_layers", "logistic_regression", 3, "passed"),
    ]
    assert now[2].checks["auc"].obtained == 0.8
