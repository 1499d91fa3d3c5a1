"""The shared verdict values: case keys, the one-sided comparison and its table."""

from __future__ import annotations

import pytest

from privacy_checks.judge.compare import compare
from privacy_checks.judge.verdicts import MetricTolerance, Status, counts, format_table
from privacy_checks.spec.cases import CaseKey

TOL = {"auc": MetricTolerance(0.02, "profile"), "attacker_advantage": MetricTolerance(0.05, "calibrated")}


def test_case_key_reads_and_writes_its_text_form():
    key = CaseKey("2_layers", 10, "threshold", "class_3")
    assert str(key) == "2_layers/epoch10/threshold/class_3"
    assert CaseKey.parse(str(key)) == key
    assert key.entry_key == "epoch10/threshold/class_3"
    assert sorted([CaseKey("m", 100, "a", "s"), CaseKey("m", 25, "a", "s")])[0].epoch == 25  # numeric order
    for bad in ("2_layers/10/threshold/class_3", "a/epoch1/b", "a/epochX/b/c"):
        with pytest.raises(ValueError, match="is not model/epochN/attack/slice"):
            CaseKey.parse(bad)


def test_counts_name_every_status_worst_first():
    key = CaseKey("m", 1, "threshold", "entire_dataset")
    found = counts([compare(key, {"auc": 0.9, "attacker_advantage": 0.1}, {"auc": 0.5, "attacker_advantage": 0.1}, TOL)])
    assert list(found) == [Status.REGRESSED, Status.MISSING, Status.IMPROVED, Status.PASSED]
    assert found[Status.REGRESSED] == 1 and sum(found.values()) == 1


@pytest.mark.parametrize(
    "obtained, expected_status",
    [
        ({"auc": 0.62, "attacker_advantage": 0.2}, Status.PASSED),  # exactly at the edge
        ({"auc": 0.6201, "attacker_advantage": 0.2}, Status.REGRESSED),
        ({"auc": 0.6, "attacker_advantage": 0.26}, Status.REGRESSED),
        ({"auc": 0.5, "attacker_advantage": 0.2}, Status.IMPROVED),
        ({"auc": 0.5, "attacker_advantage": 0.3}, Status.REGRESSED),  # worst metric wins
    ],
)
def test_comparison_is_one_sided(obtained, expected_status):
    comparison = compare("k", obtained, {"auc": 0.6, "attacker_advantage": 0.2}, TOL)
    assert comparison.status is expected_status


def test_missing_baseline_is_its_own_verdict():
    comparison = compare("k", {"auc": 0.6, "attacker_advantage": 0.2}, None, TOL)
    assert comparison.status is Status.MISSING
    assert all(check.difference is None for check in comparison.checks)


def test_failure_table_shows_obtained_baseline_difference_and_tolerance():
    comparison = compare(
        "k", {"auc": 0.65, "attacker_advantage": 0.21}, {"auc": 0.6, "attacker_advantage": 0.2}, TOL
    )
    lines = format_table(comparison).splitlines()
    assert lines[0].split() == [
        "metric", "obtained", "95%", "CI", "baseline", "difference", "tolerance", "detectable", "verdict"
    ]
    # Neither tolerance knows its sigma: the detectable rise is the tolerance, "or more".
    assert lines[1].split() == [
        "auc", "0.6500", "-", "0.6000", "+0.0500", "+0.0200", "(profile)", "+0.0200", "or", "more", "regressed"
    ]
    assert lines[2].split() == [
        "attacker_advantage", "0.2100", "-", "0.2000", "+0.0100", "+0.0500", "(calibrated)", "+0.0500", "or",
        "more", "passed"
    ]


def test_each_check_carries_its_detectable_rise():
    """tolerance + z_0.8 sqrt(2) sigma where sigma is known; else the tolerance, as a lower bound."""
    tolerances = {
        "auc": MetricTolerance(0.02, "calibrated", sigma=0.005),
        "attacker_advantage": MetricTolerance(0.05, "explicit"),
    }
    comparison = compare("k", {"auc": 0.6, "attacker_advantage": 0.2}, {"auc": 0.6, "attacker_advantage": 0.2}, tolerances)
    auc, advantage = comparison.checks
    assert auc.detectable_rise == pytest.approx(0.02 + 0.8416 * 2**0.5 * 0.005, abs=1e-5)
    assert (auc.detectable_rise_basis, auc.detectable_is_lower_bound) == ("calibrated_noise", False)
    assert (advantage.detectable_rise, advantage.detectable_rise_basis) == (0.05, "lower_bound")
    assert advantage.detectable_is_lower_bound
    table = format_table(comparison).splitlines()
    assert table[1].split()[-2:] == [f"+{auc.detectable_rise:.4f}", "passed"]
    assert table[2].split()[-3:] == ["or", "more", "passed"]
    # Built by hand, without a detectable rise: the old fields still work.
    from privacy_checks.judge.verdicts import MetricCheck

    assert MetricCheck("auc", 0.6, 0.6, 0.02).detectable_rise is None


def test_failure_table_shows_the_bootstrap_interval():
    comparison = compare(
        "k", {"auc": 0.65, "attacker_advantage": 0.21}, {"auc": 0.6, "attacker_advantage": 0.2}, TOL,
        intervals={"auc": (0.61, 0.69)},
    )
    assert "[0.6100, 0.6900]" in format_table(comparison).splitlines()[1]


def test_a_metric_the_baseline_lacks_is_missing_not_passed():
    comparison = compare(
        "k", {"auc": 0.6, "attacker_advantage": 0.2, "tpr_at_fpr_0.01": 0.1},
        {"auc": 0.6, "attacker_advantage": 0.2},
        {**TOL, "tpr_at_fpr_0.01": MetricTolerance(0.05, "profile")},
    )
    assert comparison.status is Status.MISSING
    assert [c.status for c in comparison.checks] == [Status.PASSED, Status.PASSED, Status.MISSING]


def test_summary_shows_the_worst_detectable_auc_rise_per_model_and_attack():
    from privacy_checks.report.summary import detectable_lines

    comparisons = {}
    for epoch, sigma in ((1, 0.002), (3, 0.004)):
        for attack, tolerance in (
            ("threshold", MetricTolerance(0.02, "calibrated", sigma)),
            ("logistic_regression", MetricTolerance(0.03, "profile")),
        ):
            for slice_name, baseline in (("entire_dataset", {"auc": 0.6}), ("class_1", {"auc": 0.6}), ("class_2", None)):
                key = CaseKey("2_layers", epoch, attack, slice_name)
                comparisons[key] = compare(key, {"auc": 0.61}, baseline, {"auc": tolerance})
    lines = detectable_lines(comparisons)
    assert lines[0].startswith("detectable AUC rise on the entire dataset, worst report epoch")
    assert "a pass rules out larger rises at 80 % power" in lines[0]
    worst = 0.02 + 0.8416 * 2**0.5 * 0.004  # the noisier epoch
    assert lines[1] == f"  2_layers: threshold +{worst:.4f}, logistic_regression +0.0300 or more"
    assert lines[2].startswith('  ("or more": explicit or uncalibrated tolerance')
    assert len(lines) == 3
    # Checks without a baseline rule nothing out; nothing compared, nothing shown.
    missing = {k: compare(k, {"auc": 0.6}, None, {"auc": MetricTolerance(0.02, "profile")}) for k in comparisons}
    assert detectable_lines(missing) == []
