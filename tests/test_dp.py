"""DP-SGD models: the accountant's epsilon, the measured lower bound, and the guarantee checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks import accounting, profiles
from privacy_checks.profiles import DIGITS, DP_2_LAYERS, DPSGD, SMOKE, ModelSpec


@pytest.mark.parametrize("members, batch, noise, epochs", [(200, 50, 5.0, 10), (200, 50, 5.0, 200), (60000, 250, 1.1, 60)])
def test_epsilon_is_tf_privacys_rdp_epsilon(members, batch, noise, epochs):
    from tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib import compute_dp_sgd_privacy

    dp = DPSGD(l2_norm_clip=1.0, noise_multiplier=noise, learning_rate=1e-2, delta=1e-5)
    expected, _ = compute_dp_sgd_privacy(members, batch, noise, epochs, 1e-5)
    assert accounting.epsilon(dp, members, batch, epochs) == pytest.approx(expected, rel=1e-9)


def test_epsilon_grows_with_epochs_and_falls_with_noise():
    dp = DP_2_LAYERS.dp
    by_epoch = [accounting.epsilon(dp, 200, 50, e) for e in DIGITS.report_epochs]
    assert by_epoch == sorted(by_epoch) and len(set(by_epoch)) == len(by_epoch)
    noisier = dataclasses.replace(dp, noise_multiplier=dp.noise_multiplier * 2)
    assert accounting.epsilon(noisier, 200, 50, 200) < by_epoch[-1]


def test_lower_bound_is_near_zero_without_signal_and_large_with_separable_scores():
    rng = np.random.default_rng(0)
    same = accounting.epsilon_lower_bound(rng.normal(size=2000), rng.normal(size=2000))
    shifted = accounting.epsilon_lower_bound(rng.normal(2, 1, size=2000), rng.normal(size=2000))
    separable = accounting.epsilon_lower_bound(np.ones(2000), np.zeros(2000))
    assert same == 0.0
    assert same < shifted < separable
    # Perfect separation: the estimating 70 % (1,400 a side) proves at most
    # ln(TPR_low / FPR_high), about ln(1400 / ln(2 / alpha')) with alpha' = alpha * 10 / 18.
    most = np.log(1400 / np.log(2 / (0.05 * 10 / 18)))
    assert most - 0.05 < separable < most + 0.05


def gaussian_epsilon(mu: float, delta: float) -> float:
    """The exact epsilon at ``delta`` of telling N(mu, 1) from N(0, 1): mu-GDP (Dong, Roth and Su 2019)."""
    from scipy import optimize, stats

    def excess(eps: float) -> float:
        return stats.norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2) - delta

    return 0.0 if mu == 0 or excess(0.0) <= 0 else optimize.brentq(excess, 0.0, 50.0)


def tf_privacy_bound(members: np.ndarray, non_members: np.ndarray, alpha: float) -> float:
    """The construction this package used before: the best Clopper-Pearson ratio over every threshold."""
    from tensorflow_privacy.privacy.privacy_tests import epsilon_lower_bound as elb

    with np.errstate(divide="ignore", invalid="ignore"):
        bounds = elb.EpsilonLowerBound(members, non_members, alpha=alpha, two_sided_threshold=True)
        found = bounds.compute_epsilon_lower_bound(elb.BoundMethod.CLOPPER_PEARSON, k=1)
    found = found[np.isfinite(found)]
    return max(float(found.max()), 0.0) if found.size else 0.0


@pytest.mark.parametrize("mu, delta", [(0.0, 1e-5), (0.5, 0.05)], ids=["no_signal", "delta_matters"])
def test_lower_bound_exceeds_the_true_epsilon_in_at_most_alpha_of_runs(mu, delta):
    """Scores of the digits profile's sizes from two Gaussians whose privacy loss is known exactly.

    A 95 % bound may exceed the truth in 5 of 100 runs (12 or more: p < 0.003).
    The old construction, the best bound over all thresholds without delta,
    exceeds it in about a quarter of the runs without any signal, and in most
    runs where delta matters.
    """
    truth = gaussian_epsilon(mu, delta)
    runs, alpha, allowed = 100, 0.05, 12
    new = old = 0
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        members, non_members = rng.normal(mu, 1, 200), rng.normal(0, 1, 1600)
        new += accounting.epsilon_lower_bound(members, non_members, alpha, delta, seed=seed) > truth + 1e-9
        old += tf_privacy_bound(members, non_members, alpha) > truth + 1e-9
    assert new <= allowed
    assert old > allowed


def test_lower_bound_reaches_half_the_true_epsilon_when_the_signal_is_strong():
    """5,000 members and non-members, shift 1: the truth at delta 1e-3 is 3.14; the median bound about 1.7."""
    truth = gaussian_epsilon(1.0, 1e-3)
    found = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        found.append(accounting.epsilon_lower_bound(rng.normal(1, 1, 5000), rng.normal(0, 1, 5000), 0.05, 1e-3, seed))
    assert np.median(found) >= 0.45 * truth
    assert max(found) <= truth


def test_guarantee_checks_share_one_family_wise_budget():
    checks = accounting.guarantee_checks(DIGITS)
    assert checks == 1 * 6 * 2 * 2  # one DP model, 6 report epochs, 2 attacks, bound and comparison
    assert accounting.guarantee_alpha(DIGITS) * checks == pytest.approx(accounting.FAMILY_ALPHA)
    assert accounting.guarantee_checks(SMOKE) == 0 and accounting.guarantee_alpha(SMOKE) == accounting.FAMILY_ALPHA


def test_lower_bound_needs_scores():
    assert accounting.epsilon_lower_bound(None, np.zeros(3)) is None
    assert accounting.epsilon_lower_bound(np.zeros(0), np.zeros(3)) is None


def test_labels_of_dp_models_carry_their_final_epsilon():
    label = accounting.variant_label("2 Layers DP", DP_2_LAYERS.dp, 200, 50, 200)
    assert label == f"2 Layers DP ε={accounting.epsilon(DP_2_LAYERS.dp, 200, 50, 200):.1f}"
    assert accounting.variant_label("2 Layers", None, 200, 50, 200) == "2 Layers"


@pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")
def test_dp_model_trains_with_tf_privacys_optimizer_one_microbatch_per_example():
    from privacy_checks.models import small_cnn

    model = small_cnn((8, 8, 1), 10, 2, padding="same", dp=DP_2_LAYERS.dp, batch_size=50)
    optimizer = model.optimizer
    assert type(optimizer).__module__.startswith("tensorflow_privacy")
    assert (optimizer._l2_norm_clip, optimizer._noise_multiplier, optimizer._num_microbatches) == (1.0, 5.0, 50)
    assert model.loss.reduction == "none"  # per-example losses, or clipping is per batch


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"members": 210}, "members (210) must be a multiple of batch_size (50)"),
        ({"models": (dataclasses.replace(DP_2_LAYERS, compare_to="4_layers"),)}, "compare_to '4_layers' is not another model"),
        ({"models": (ModelSpec("a", "A", 2, compare_to="a"),)}, "compare_to is for DP models"),
        (
            {"models": (dataclasses.replace(DP_2_LAYERS, dp=dataclasses.replace(DP_2_LAYERS.dp, noise_multiplier=0.0)),)},
            "noise_multiplier must be > 0",
        ),
    ],
)
def test_invalid_dp_settings_are_rejected(change, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(DIGITS, **change)


def test_profiles_without_dp_keep_their_hash_fields():
    assert all(set(m) == {"name", "label", "num_conv", "activation"} for m in SMOKE.fingerprint()["models"])
    assert "dp" in DIGITS.fingerprint()["models"][2]


def test_projects_register_their_own_profiles(monkeypatch):
    monkeypatch.setattr(profiles, "PROFILES", dict(profiles.PROFILES))
    mine = dataclasses.replace(SMOKE, name="mine")
    assert profiles.register_profile(mine) is mine
    assert profiles.get_profile("mine") is mine
    profiles.register_profile(mine)  # a conftest imported twice
    with pytest.raises(ValueError, match="a different profile named 'smoke' is already registered"):
        profiles.register_profile(dataclasses.replace(SMOKE, epochs=4))


AUDIT_CONFTEST = '''
import dataclasses
from privacy_checks import models
from privacy_checks.profiles import DIGITS, DPSGD, ModelSpec, register_profile

# Noise 20 x clip claims epsilon of about 0.5 after 30 epochs and 0.8 after 60.
register_profile(dataclasses.replace(
    DIGITS, name="dp-audit", description="A DP model that claims a small epsilon.",
    models=(ModelSpec("dp", "DP", 2, dp=DPSGD(l2_norm_clip=1.0, noise_multiplier=20.0, learning_rate=1e-2)),),
    epochs=60, report_epochs=(30, 60), attacks=("threshold",), by_class=False,
))
if {broken}:
    # The bug a DP audit exists to catch: the optimizer silently drops the noise,
    # while the profile, and so the accountant, still claim it.
    honest = models.dp_optimizer
    models.dp_optimizer = lambda dp, batch_size: honest(dataclasses.replace(dp, noise_multiplier=0.0), batch_size)

pytest_plugins = ["privacy_checks.plugin"]
'''


@pytest.mark.parametrize("broken", [False, True], ids=["noise_on", "noise_off"])
def test_epsilon_check_fires_when_dp_noise_is_switched_off(pytester, broken):
    pytester.makeconftest(AUDIT_CONFTEST.format(broken=broken))
    pytester.makeini("[pytest]\nprivacy_profile = dp-audit\n")
    pytester.makepyfile(test_suite="def test_mia(privacy_case, privacy_check):\n    privacy_check(privacy_case)\n")
    # A fresh process: the conftest patches the optimizer module-wide.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "epsilon_bound", "-rf")
    claimed = accounting.epsilon(DPSGD(1.0, 20.0, 1e-2), 200, 50, 60)
    if not broken:
        result.assert_outcomes(passed=2)
        result.stdout.fnmatch_lines(
            [f"dp (DP-SGD, noise 20, clip 1): epsilon {claimed:.2f} at epoch 60*; 2 guarantee checks passed, 0 failed"]
        )
        return
    # Without noise the model overfits like any other: its leakage at epoch 60 proves
    # more than the claimed epsilon, at the confidence of the run's guarantee budget.
    result.stdout.fnmatch_lines(
        [
            "*DP guarantee broken: dp at epoch 60, threshold attack, slice entire_dataset: "
            "the measured epsilon lower bound * exceeds "
            f"the accountant's epsilon (RDP, delta=1e-05, noise multiplier 20, clip 1, 240 steps) = {claimed:.3f}.",
            "The bound (confidence 0.9995 for this check; the 2 guarantee checks of this run together "
            "err with probability at most 0.001) uses a threshold chosen on part of the attack's scores*",
            "*FAILED test_suite.py::test_mia[[]dp-epoch60-threshold-epsilon_bound[]]*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")
def test_report_carries_epsilon_bounds_and_guarantee_verdicts(tmp_path):
    import json

    from privacy_checks import report
    from privacy_checks.session import GuaranteeCheck, PrivacyRun, Settings, cases

    profile = dataclasses.replace(
        SMOKE, name="dp-smoke", models=(ModelSpec("2_layers", "2 Layers", 2), DP_2_LAYERS)
    )
    run = PrivacyRun(Settings(profile, tmp_path / "baselines", tmp_path))
    guarantees = [run.check_guarantee(c) for c in cases(profile) if c.check != "baseline"]
    assert {(g.epoch, g.check) for g in guarantees} == {
        (e, c) for e in (1, 3) for c in ("epsilon_bound", "auc_vs_non_private")
    }
    assert all(g.passed for g in guarantees if g.check == "epsilon_bound")
    broken = dataclasses.replace(guarantees[0], key="x", obtained=guarantees[0].limit + 1)
    run.guarantees["x"] = broken
    measured = report.Measured(
        profile, run.evaluations(), {}, run.versions, run.data_source, guarantees=run.guarantees
    )
    report.write_report(tmp_path, measured)
    document = json.loads((tmp_path / "results.json").read_text())
    epochs = document["models"]["dp_2_layers"]["epochs"]
    assert [e["epsilon"] for e in epochs] == [
        round(accounting.epsilon(DP_2_LAYERS.dp, 100, 50, e), 6) for e in (1, 3)
    ]
    assert "epsilon" not in document["models"]["2_layers"]["epochs"][0]
    entire = [r for r in document["results"] if r["slice"] == "entire_dataset"]
    assert entire and all(r["epsilon_lower_bound"] >= 0 for r in entire)
    assert sorted(c["verdict"] for c in document["dp_checks"]).count("failed") == 1
    html = (tmp_path / "index.html").read_text()
    table = html[html.index('id="dp-checks"'):]
    assert table.index("failed") < table.index("passed"), "failures first"
    assert f"2 Layers DP ε={accounting.epsilon(DP_2_LAYERS.dp, 100, 50, 3):.1f}" == run.evaluation(
        "dp_2_layers", 3
    ).results.privacy_report_metadata.model_variant_label
    assert isinstance(broken, GuaranteeCheck) and not broken.passed


def _auc_record(model: str, auc: float, interval: tuple[float, float]):
    from privacy_checks.attacks import AttackRecord

    return AttackRecord(model, 1, "logistic_regression", "entire_dataset", auc, 0.1, 0.5, 100, 1697,
                        intervals={"auc": interval})


@pytest.mark.parametrize("calibrated", [True, False])
def test_dp_vs_non_private_uses_the_measured_spread_and_stays_silent_at_chance(tmp_path, monkeypatch, calibrated):
    """Issue 13's false alarm: DP AUC 0.4674 vs non-DP 0.4216 + 0.03, both at chance."""
    from statistics import NormalDist

    from privacy_checks import baselines
    from privacy_checks.baselines import Baseline, Entry
    from privacy_checks.session import VS_NON_PRIVATE, Case, PrivacyRun, Settings

    profile = dataclasses.replace(
        SMOKE, name="dp-smoke", models=(ModelSpec("2_layers", "2 Layers", 2), DP_2_LAYERS), report_epochs=(1, 3)
    )
    if calibrated:
        for model, sd in (("2_layers", 0.03), ("dp_2_layers", 0.04)):
            entry = Entry(1, "logistic_regression", "entire_dataset", {"auc": 0.5, "attacker_advantage": 0.1}, {"auc": sd})
            baselines.write(baselines.baseline_path(tmp_path, profile.name, model), Baseline(
                profile.name, profile.hash, model, 1234, "digits", {}, {entry.key: entry}, calibration_seeds=(1, 2)))
    run = PrivacyRun(Settings(profile, tmp_path, tmp_path))
    records = {}
    monkeypatch.setattr(run, "record", lambda case: records[case.model])
    case = Case("dp_2_layers", 1, "logistic_regression", "entire_dataset", VS_NON_PRIVATE)

    records.update(dp_2_layers=_auc_record("dp_2_layers", 0.4674, (0.42, 0.51)),
                   **{"2_layers": _auc_record("2_layers", 0.4216, (0.38, 0.51))})
    at_chance = run.check_guarantee(case)
    assert at_chance.passed and at_chance.at_chance and "at chance on both models" in at_chance.detail

    checks = accounting.guarantee_checks(profile)  # 2 epochs x 2 attacks x (bound, comparison)
    assert checks == 2 * 2 * 2 and at_chance.alpha == pytest.approx(0.001 / checks) and at_chance.family == checks
    z = NormalDist().inv_cdf(1 - 0.001 / checks)
    if calibrated:
        expected = z * np.hypot(0.03, 0.04)
    else:
        expected = max(profile.tolerance.auc, z * np.hypot(0.09 / 3.919928, 0.13 / 3.919928))
    assert at_chance.limit - 0.4216 == pytest.approx(expected, rel=1e-4)

    records.update(dp_2_layers=_auc_record("dp_2_layers", 0.4216 + expected + 0.01, (0.62, 0.71)))  # same width
    leaking = run.check_guarantee(case)
    assert not leaking.passed and not leaking.at_chance
    assert ("calibrated" in leaking.detail) == calibrated
