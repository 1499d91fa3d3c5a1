"""Calibration through pytest: the spread is recorded, tolerances follow it, explicit ones win."""

from __future__ import annotations

import json

import pytest

from privacy_pytester import run
from lanes import baselines_of


@pytest.mark.study  # end to end, about 23 s on the current lane: run by .ci/run (pytest -m study)
def test_calibration_records_the_spread_and_tolerances_follow_it(project):
    result = run(project, "--privacy-calibrate=3", "-k", "2_layers")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["privacy: profile smoke*(calibrate over 3 seeds)*", "*seed 1236: 2_layers: epoch 3/3*"])
    path = project.path / baselines_of("smoke") / "2_layers.json"
    stored = json.loads(path.read_text())
    assert stored["calibration_seeds"] == [1234, 1235, 1236]
    assert all(set(entry["seed_sd"]) == {"auc", "attacker_advantage", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01"}
               for entry in stored["entries"])
    assert any(entry["seed_sd"]["auc"] > 0 for entry in stored["entries"])

    calibrated = run(project, "-k", "2_layers")
    calibrated.assert_outcomes(passed=4)
    # What a pass rules out, from the calibrated noise: no "or more" for AUC.
    # Three seeds over two epochs are 4 degrees of freedom: Student's quantile leaves the noisy
    # logistic-regression attack nothing it could catch, and the summary says so.
    calibrated.stdout.re_match_lines(
        [r"detectable AUC rise on the entire dataset.*80 % power",
         r"  2_layers: threshold \+0\.\d{4}, logistic_regression none \(a rise of 1 would pass: too few calibration seeds\)$"]
    )
    results = json.loads((project.path / "privacy-report" / "results.json").read_text())
    checked = [r for r in results["results"] if "tolerance_source" in r]
    assert checked
    for r in checked:  # tolerance + z_0.8 sqrt(2) sigma
        assert r["detectable_rise_basis"]["auc"] == "calibrated_noise"
        assert r["detectable_rise"]["auc"] > r["tolerance"]["auc"]
    for r in checked:  # a TPR's tolerance is never below what its member counts allow
        sources = r["tolerance_source"]
        assert sources["auc"] == sources["attacker_advantage"] == "calibrated"
        assert {sources["tpr_at_fpr_0.001"], sources["tpr_at_fpr_0.01"]} <= {"calibrated", "counts"}
    assert all(r["ci95"]["auc"][0] <= r["auc"] <= r["ci95"]["auc"][1] for r in checked)

    explicit = run(project, "-k", "2_layers", "--privacy-tolerance=auc=0.5")
    explicit.assert_outcomes(passed=4)
    results = json.loads((project.path / "privacy-report" / "results.json").read_text())
    sources = [r["tolerance_source"] for r in results["results"] if "tolerance_source" in r]
    assert all(s["auc"] == "explicit" and s["attacker_advantage"] == "calibrated" for s in sources)
    for r in results["results"]:  # an explicit tolerance knows no sigma: only a lower bound
        assert (r["detectable_rise"]["auc"], r["detectable_rise_basis"]["auc"]) == (0.5, "lower_bound")
    explicit.stdout.fnmatch_lines(["  2_layers: threshold +0.5000 or more, logistic_regression +0.5000 or more"])

    before = path.read_text()
    run(project, "-k", "2_layers", "--privacy-update-baselines").assert_outcomes(passed=4)
    assert path.read_text() == before  # same setup: the spread is kept
    run(project, "-k", "2_layers", "--privacy-update-baselines", "--privacy-seed=7").assert_outcomes(passed=4)
    reseeded = json.loads(path.read_text())
    assert reseeded["calibration_seeds"] == [] and all("seed_sd" not in e for e in reseeded["entries"])
