"""A DP model's guarantee checks: the comparison with its non-private twin, and what the report says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks.attack import accounting
from privacy_checks.judge import tolerances
from privacy_checks.spec.model_spec import ModelSpec
from privacy_checks.spec.registry import DP_2_LAYERS, SMOKE
from privacy_checks.train import lane


@pytest.mark.study  # end to end, about 9 s on the current lane: run by .ci/run (pytest -m study)
@pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")
def test_report_carries_epsilon_bounds_and_guarantee_verdicts(tmp_path):
    import json

    from privacy_checks.judge.session import PrivacyRun
    from privacy_checks.judge.verdicts import GuaranteeCheck
    from privacy_checks.report import results
    from privacy_checks.report.measured import Measured
    from privacy_checks.run.settings import Settings
    from privacy_checks.spec.cases import cases

    profile = dataclasses.replace(
        SMOKE, name="dp-smoke", models=(ModelSpec("2_layers", "2 Layers", 2), DP_2_LAYERS)
    )
    run = PrivacyRun(Settings(profile, tmp_path / "baselines", tmp_path))
    guarantees = [run.check_guarantee(c) for c in cases(profile) if c.check in ("epsilon_bound", "auc_vs_non_private")]
    assert {(g.epoch, g.check) for g in guarantees} == {
        (e, c) for e in (1, 3) for c in ("epsilon_bound", "auc_vs_non_private")
    }
    # The verdict is the comparison of the measured bound with the accountant's epsilon. (Whether a
    # black-box bound can exceed it on the smoke model's 100 members is a statistical question the
    # studies answer; on the current lane one attack seed's bound did, 1.27 against 1.08.)
    for g in (g for g in guarantees if g.check == "epsilon_bound"):
        assert g.limit == pytest.approx(accounting.epsilon(DP_2_LAYERS.dp, 100, 50, g.epoch))
        assert g.passed == (g.obtained is None or g.obtained <= g.limit)
    broken = dataclasses.replace(guarantees[0], obtained=guarantees[0].limit + 1)
    run.guarantees[(broken.key, "broken")] = broken
    measured = Measured(
        profile, run.evaluations(), {}, run.versions, run.data_source, guarantees=run.guarantees
    )
    results.write_report(tmp_path, measured)
    document = json.loads((tmp_path / "results.json").read_text())
    epochs = document["models"]["dp_2_layers"]["epochs"]
    assert [e["epsilon"] for e in epochs] == [
        round(accounting.epsilon(DP_2_LAYERS.dp, 100, 50, e), 6) for e in (1, 3)
    ]
    assert "epsilon" not in document["models"]["2_layers"]["epochs"][0]
    entire = [r for r in document["results"] if r["slice"] == "entire_dataset"]
    assert entire and all(r["epsilon_lower_bound"] >= 0 for r in entire)
    assert [c["verdict"] for c in document["dp_checks"]].count("failed") == 1 + sum(not g.passed for g in guarantees)
    html = (tmp_path / "index.html").read_text()
    table = html[html.index('id="dp-checks"'):]
    assert table.index("failed") < table.index("passed"), "failures first"
    assert f"2 Layers DP ε={accounting.epsilon(DP_2_LAYERS.dp, 100, 50, 3):.1f}" == run.evaluation(
        "dp_2_layers", 3
    ).results.privacy_report_metadata.model_variant_label
    assert isinstance(broken, GuaranteeCheck) and not broken.passed


def _auc_record(model: str, auc: float, interval: tuple[float, float]):
    from privacy_checks.attack.records import AttackRecord

    return AttackRecord(model, 1, "logistic_regression", "entire_dataset", auc, 0.1, 0.5, 100, 1697,
                        intervals={"auc": interval})


@pytest.mark.parametrize("calibrated", [True, False])
def test_dp_vs_non_private_uses_the_measured_spread_and_stays_silent_at_chance(tmp_path, monkeypatch, calibrated):
    """Issue 13's false alarm: DP AUC 0.4674 vs non-DP 0.4216 + 0.03, both at chance."""
    from statistics import NormalDist

    from privacy_checks.judge import baselines
    from privacy_checks.judge.baselines import Baseline, Entry
    from privacy_checks.judge.session import PrivacyRun
    from privacy_checks.run.settings import Settings
    from privacy_checks.spec.cases import VS_NON_PRIVATE, Case

    profile = dataclasses.replace(
        SMOKE, name="dp-smoke", models=(ModelSpec("2_layers", "2 Layers", 2), DP_2_LAYERS), report_epochs=(1, 3)
    )
    if calibrated:
        for model, sd in (("2_layers", 0.03), ("dp_2_layers", 0.04)):
            entry = Entry(1, "logistic_regression", "entire_dataset", {"auc": 0.5, "attacker_advantage": 0.1}, {"auc": sd})
            baselines.write(baselines.baseline_path(tmp_path, profile.name, model, lane.lane()), Baseline(
                profile.name, profile.hash, model, 1234, "digits", {}, {entry.key: entry}, calibration_seeds=(1, 2)))
    run = PrivacyRun(Settings(profile, tmp_path, tmp_path))
    records = {}
    monkeypatch.setattr(run.runner, "record", lambda key, seed=None: records[key.model])
    case = Case("dp_2_layers", 1, "logistic_regression", "entire_dataset", VS_NON_PRIVATE)

    records.update(dp_2_layers=_auc_record("dp_2_layers", 0.4674, (0.42, 0.51)),
                   **{"2_layers": _auc_record("2_layers", 0.4216, (0.38, 0.51))})
    at_chance = run.check_guarantee(case)
    assert at_chance.passed and at_chance.at_chance and "at chance on both models" in at_chance.detail

    checks = accounting.guarantee_checks(profile)  # 2 epochs x 2 attacks x (bound, comparison), conformance
    assert checks == 2 * 2 * 2 + 1 and at_chance.alpha == pytest.approx(0.001 / checks) and at_chance.family == checks
    z = NormalDist().inv_cdf(1 - 0.001 / checks)
    if calibrated:  # one entry each over two seeds: one degree of freedom, Student's quantile
        expected = tolerances.quantile(z, 1) * np.hypot(0.03, 0.04)
    else:
        expected = max(profile.tolerance.auc, z * np.hypot(0.09 / 3.919928, 0.13 / 3.919928))
    assert at_chance.limit - 0.4216 == pytest.approx(expected, rel=1e-4)

    records.update(dp_2_layers=_auc_record("dp_2_layers", 0.4216 + expected + 0.01, (0.62, 0.71)))  # same width
    leaking = run.check_guarantee(case)
    assert not leaking.passed and not leaking.at_chance
    assert ("calibrated" in leaking.detail) == calibrated
