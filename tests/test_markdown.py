"""report/markdown.py: summary.md for the CI's checks page, and its append to $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from report_fixtures import comparison, every_check, measured

from privacy_checks.report import markdown
from privacy_checks.spec.cases import CaseKey


def test_a_failing_run_opens_with_the_verdict_the_changes_and_the_failures():
    checks = every_check(**{"3_layers_3_threshold": comparison("3_layers", 3, "threshold", {"auc": 0.2})})
    text = markdown.summary_markdown(measured(
        checks, setup_changes={"3_layers": ["members 200 -> 100"]},
        unmeasured={(CaseKey("4_layers", 1, "threshold", "entire_dataset"), "baseline"): "training 4_layers failed: NaN loss\nmore"},
    ))
    lines = text.splitlines()
    assert lines[0] == (
        "### :x: Privacy checks, profile `smoke`: FAILED: 1 check regressed, 1 could not be measured (of 9 checks)"
    )
    assert "- `3_layers`: members 200 -> 100" in lines
    assert "| 3_layers, epoch 3, threshold, entire_dataset | auc 0.8000 > 0.6000 + 0.0300 (profile) |" in lines
    assert "- could not be measured (1 checks): training 4_layers failed: NaN loss" in lines
    assert "If the change is expected, review it and accept it with " \
           "`pytest -m privacy --privacy-profile smoke --privacy-update-baselines`." in lines
    # The entire dataset at the last epoch: per model and attack, AUC and advantage against their baselines.
    assert "| `3_layers` | threshold | 3 | 0.8000 | 0.6000 | +0.0300 | 0.2000 | 0.2000 | +0.0500 | **regressed** |" in lines
    assert "| `2_layers` | logistic_regression | 3 | 0.6000 | 0.6000 | +0.0300 | 0.2000 | 0.2000 | +0.0500 | passed |" in lines
    assert markdown.summary_markdown(measured(checks)) == markdown.summary_markdown(measured(checks)), "deterministic"


def test_a_green_run_is_short():
    text = markdown.summary_markdown(measured(every_check()))
    assert text.startswith("### :white_check_mark: Privacy checks, profile `smoke`: PASSED: 8 checks\n")
    assert "Failures" not in text and "changed" not in text
    assert text.count("\n| `") == 4, "one row per model and attack"


def test_many_failures_are_cut_short(monkeypatch):
    monkeypatch.setattr(markdown, "MAX_ROWS", 5)
    rises = {f"{m}_{e}_{a}": comparison(m, e, a, {"auc": 0.2, "attacker_advantage": 0.2, "tpr_at_fpr_0.01": 0.2})
             for m in ("2_layers", "3_layers") for e in (1, 3) for a in ("threshold", "logistic_regression")}
    text = markdown.summary_markdown(measured(every_check(**rises)))
    failing = [line for line in text.splitlines() if line.startswith("| ") and ", epoch " in line]
    assert len(failing) == 5
    assert "... and 3 more failing checks in `index.html`." in text
    assert "auc 0.8000 > 0.6000 + 0.0300 (profile); attacker_advantage 0.4000 > 0.2000 + 0.0500 (profile); " \
           "tpr_at_fpr_0.01 0.2500 > 0.0500 + 0.0500 (profile) |" in failing[0]


def test_the_step_summary_is_appended_not_overwritten(tmp_path):
    target = tmp_path / "step_summary.md"
    target.write_text("# an earlier step\n")
    environ = {markdown.STEP_SUMMARY: str(target)}
    assert markdown.append_step_summary("### first", environ) == (
        True, "privacy summary appended to $GITHUB_STEP_SUMMARY (shown on the CI run's page)"
    )
    markdown.append_step_summary("### second\n", environ)
    assert target.read_text() == "# an earlier step\n\n### first\n\n### second\n"


def test_no_variable_no_append_and_an_unwritable_file_is_said_not_raised(tmp_path):
    assert markdown.append_step_summary("x", {}) is None
    assert markdown.append_step_summary("x", {markdown.STEP_SUMMARY: ""}) is None
    written, line = markdown.append_step_summary("x", {markdown.STEP_SUMMARY: str(tmp_path)})  # a directory
    assert not written
    assert line.startswith(f"could not append the privacy summary to $GITHUB_STEP_SUMMARY ({tmp_path}): ")
    assert line.endswith("it is in summary.md of the report")


def test_an_update_says_its_table_compares_with_the_old_baselines():
    checks = every_check(**{"3_layers_3_threshold": comparison("3_layers", 3, "threshold", {"auc": 0.2})})
    text = markdown.summary_markdown(measured(checks, update_baselines=True))
    assert "PASSED: 8 checks (measured and recorded as the new baselines)" in text.splitlines()[0]
    assert "| verdict against the old baselines |" in text and "**Failures**" not in text
