"""The shared verdict values: case keys, the one-sided comparison and its table."""

from __future__ import annotations

import pytest

from privacy_checks.verdicts import CaseKey, MetricTolerance, Status, compare, counts, format_table

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
    assert lines[0].split() == ["metric", "obtained", "95%", "CI", "baseline", "difference", "tolerance", "verdict"]
    assert lines[1].split() == ["auc", "0.6500", "-", "0.6000", "+0.0500", "+0.0200", "(profile)", "regressed"]
    assert lines[2].split() == [
        "attacker_advantage", "0.2100", "-", "0.2000", "+0.0100", "+0.0500", "(calibrated)", "passed"
    ]


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
