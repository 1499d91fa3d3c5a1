"""report/table.py: one row per check, metrics side by side, failures first, then in the profile's order."""

from __future__ import annotations

from report_fixtures import comparison, every_check

from privacy_checks.report import table


def test_one_row_per_check_with_its_metrics_side_by_side():
    checks = every_check(**{"3_layers_3_logistic_regression": comparison("3_layers", 3, "logistic_regression", {"auc": 0.2})})
    rows = table.check_rows(checks, ["2_layers", "3_layers"], ["threshold", "logistic_regression"])
    assert len(rows) == len(checks) == 8
    assert table.table_metrics(checks) == ["auc", "attacker_advantage", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01"]
    first = rows[0]
    assert (first.anchor, first.verdict) == ("3_layers-epoch3-logistic_regression-entire_dataset", "regressed")
    assert [c.verdict for c in first.cells] == ["regressed", "passed", "passed", "passed"]
    auc = first.cells[0]
    assert (auc.obtained, auc.baseline, auc.tolerance, auc.tolerance_source) == (0.8, 0.6, 0.03, "profile")
    assert auc.title == "auc: 95% CI 0.7500-0.8500; +0.2000 vs baseline; tolerance profile; detectable rise +0.0300 or more"
    # Then grouped by model and attack in the profile's order, epochs ascending.
    assert [(r.model, r.attack, r.epoch) for r in rows[1:4]] == [
        ("2_layers", "threshold", 1), ("2_layers", "threshold", 3), ("2_layers", "logistic_regression", 1),
    ]


def test_a_check_without_a_baseline_or_a_metric_has_cells_that_say_so():
    checks = {c.key: c for c in (comparison("m", 1, "threshold", baseline=False),)}
    (row,) = table.check_rows(checks)
    assert row.verdict == "missing" and row.cells[0].baseline is None
    assert row.cells[0].title == "auc: 95% CI 0.5500-0.6500; tolerance profile; detectable rise +0.0300 or more"


def test_slices_in_class_order_and_short_metric_names():
    assert sorted(["class_10", "class_2", "entire_dataset", "class_1"], key=table.slice_order) == [
        "entire_dataset", "class_1", "class_2", "class_10",
    ]
    assert [table.metric_label(m) for m in ("auc", "attacker_advantage", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01")] == [
        "AUC", "advantage", "TPR@0.1%", "TPR@1%",
    ]
    assert table.in_order(["b", "z", "a", "b"], ["b", "a"]) == ["b", "a", "z"]
