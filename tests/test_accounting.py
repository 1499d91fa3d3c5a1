"""The accountant's epsilon, the valid epsilon lower bound an attack proves, and the guarantee budget."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lanes import codelab_only

from privacy_checks.attack import accounting
from privacy_checks.spec.model_spec import DPSGD
from privacy_checks.spec.registry import DIGITS, DP_2_LAYERS, SMOKE


@codelab_only
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
    elb = pytest.importorskip("tensorflow_privacy.privacy.privacy_tests.epsilon_lower_bound")

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
    # one DP model, 6 report epochs, 3 attacks (RMIA too), bound and comparison; its step's conformance once
    assert checks == 1 * 6 * 3 * 2 + 1
    assert accounting.guarantee_alpha(DIGITS) * checks == pytest.approx(accounting.FAMILY_ALPHA)
    assert accounting.guarantee_checks(SMOKE) == 0 and accounting.guarantee_alpha(SMOKE) == accounting.FAMILY_ALPHA


def test_lower_bound_needs_scores():
    assert accounting.epsilon_lower_bound(None, np.zeros(3)) is None
    assert accounting.epsilon_lower_bound(np.zeros(0), np.zeros(3)) is None


def test_labels_of_dp_models_carry_their_final_epsilon():
    label = accounting.variant_label("2 Layers DP", DP_2_LAYERS.dp, 200, 50, 200)
    assert label == f"2 Layers DP ε={accounting.epsilon(DP_2_LAYERS.dp, 200, 50, 200):.1f}"
    assert accounting.variant_label("2 Layers", None, 200, 50, 200) == "2 Layers"
