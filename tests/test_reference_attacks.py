"""LiRA and RMIA scores on synthetic statistics, checked against TF Privacy's advanced_mia and brute force.

The synthetic population mimics what reference models see: each example has
a difficulty d (its statistic on a model that did not train on it), training
on it raises the statistic by ``shift`` (for a fraction ``vulnerable`` of the
examples), and every model adds its own noise. RMIA gets the same data as
probabilities, sigmoid(φ), which is the inverse of LiRA's logit scaling.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.special import expit, softmax
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from privacy_checks.attack import rmia, reference_inputs, lira

advanced_mia = pytest.importorskip(
    "tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.advanced_mia"
)


def population(
    n: int = 2000,
    k: int = 16,
    shift: float = 2.0,
    noise: float = 1.0,
    difficulty: tuple[float, float] = (-2.0, 1.0),
    vulnerable: float = 1.0,
    seed: int = 0,
):
    """(target φ (N,), reference φ (K, N), ref_in (K, N), target membership (N,))."""
    rng = np.random.default_rng(seed)
    d = rng.normal(*difficulty, n)
    gain = shift * (rng.random(n) < vulnerable)
    member = rng.random(n) < 0.5
    ref_in = rng.random((k, n)) < 0.5
    ref = d + gain * ref_in + rng.normal(0, noise, (k, n))
    target = d + gain * member + rng.normal(0, noise, n)
    return target, ref, ref_in, member


def auc(member: np.ndarray, scores: np.ndarray) -> float:
    return roc_auc_score(member, scores)


def rmia_of(target, ref, ref_in, member, offline, **kwargs):
    """RMIA on the sigmoid of the statistics, with the non-members as population."""
    return rmia.rmia(expit(target), expit(ref), ref_in, np.flatnonzero(~member), offline=offline, **kwargs)


# ------------------------------------------------------------ scaled_logit


def test_scaled_logit_is_the_log_odds_of_the_true_class():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 3, (50, 5)), rng.integers(0, 5, 50)
    p = softmax(logits, axis=1)
    p_true = p[np.arange(50), labels]
    expected = np.log(p_true) - np.log(p.sum(axis=1) - p_true)
    np.testing.assert_allclose(reference_inputs.scaled_logit(logits, labels), expected, rtol=1e-10, atol=1e-10)


def test_scaled_logit_stacks_reference_models_and_leaves_its_input_alone():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(0, 3, (4, 30, 3)), rng.integers(0, 3, 30)
    before = logits.copy()
    stacked = reference_inputs.scaled_logit(logits, labels)
    assert stacked.shape == (4, 30)
    np.testing.assert_array_equal(stacked[2], reference_inputs.scaled_logit(logits[2], labels))
    np.testing.assert_array_equal(logits, before)


def test_scaled_logit_is_finite_and_exact_for_extreme_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [1000.0, 1000.0, 0.0]])
    found = reference_inputs.scaled_logit(logits, np.array([0, 0, 0]))
    # z_y − logsumexp(others): 1000 − 0, −1000 − 1000, 1000 − (1000 + log(1 + e^-1000)).
    np.testing.assert_allclose(found, [1000.0, -2000.0, 0.0], atol=1e-12)


def test_scaled_logit_equals_tf_privacy_calculate_statistic_logit():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(0, 4, (200, 10)), rng.integers(0, 10, 200)
    # calculate_statistic writes zeros into the array it is given: pass a copy.
    theirs = advanced_mia.calculate_statistic(logits.copy(), labels, is_logits=True, option="logit")
    np.testing.assert_allclose(reference_inputs.scaled_logit(logits, labels), theirs, rtol=1e-9, atol=1e-9)


def test_scaled_logit_rejects_what_it_cannot_score():
    with pytest.raises(ValueError, match="finite"):
        reference_inputs.scaled_logit(np.array([[np.inf, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="labels"):
        reference_inputs.scaled_logit(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="2 classes"):
        reference_inputs.scaled_logit(np.zeros((2, 1)), np.array([0, 0]))


def test_true_label_probability_is_the_softmax_of_the_label():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(0, 3, (40, 4)), rng.integers(0, 4, 40)
    expected = softmax(logits / 2.0, axis=1)[np.arange(40), labels]
    np.testing.assert_allclose(
        reference_inputs.true_label_probability(logits, labels, temperature=2.0), expected, rtol=1e-12
    )


def test_the_module_imports_without_tensorflow():
    code = (
        "import sys, privacy_checks.attack.lira, privacy_checks.attack.rmia; "
        "heavy = ('tensorflow', 'tensorflow_privacy', 'keras'); "
        "sys.exit(any(m.split('.')[0] in heavy for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -------------------------------------------------------------------- LiRA


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fixed_variance", [True, False])
def test_lira_separates_well_separated_members(online, fixed_variance):
    target, ref, ref_in, member = population(shift=10.0)
    assert auc(member, lira.lira(target, ref, ref_in, online, fixed_variance)) > 0.99


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fixed_variance", [True, False])
def test_lira_is_chance_when_members_look_like_non_members(online, fixed_variance):
    target, ref, ref_in, member = population(shift=0.0)
    assert auc(member, lira.lira(target, ref, ref_in, online, fixed_variance)) == pytest.approx(0.5, abs=0.05)


def test_online_lira_is_at_least_as_powerful_as_offline():
    # Only some examples are vulnerable: the IN references tell the online test
    # which, the offline test must treat every high φ alike.
    target, ref, ref_in, member = population(shift=3.0, difficulty=(0.0, 2.0), vulnerable=0.2)
    online, offline = lira.lira(target, ref, ref_in, True), lira.lira(target, ref, ref_in, False)
    assert auc(member, online) >= auc(member, offline) + 0.03


def _tf_privacy_inputs(target, ref, ref_in):
    """advanced_mia's per-example lists: stat_target (N, 1), stat_in[n] (m, 1), stat_out[n] (m, 1)."""
    stat_in = [ref[ref_in[:, n], n][:, None] for n in range(ref.shape[1])]
    stat_out = [ref[~ref_in[:, n], n][:, None] for n in range(ref.shape[1])]
    return target[:, None], stat_in, stat_out


def balanced_population(n: int = 1000, k: int = 8, seed: int = 4):
    """Every example in exactly half of the references, as in LiRA's experiments."""
    target, ref, _, member = population(n=n, k=k, seed=seed)
    rng = np.random.default_rng(seed)
    ref_in = np.argsort(rng.random((k, n)), axis=0) < k // 2
    ref = ref + 2.0 * ref_in  # the shift follows the new split
    return target, ref, ref_in, member


def test_online_fixed_variance_lira_ranks_like_tf_privacy_compute_score_lira():
    target, ref, ref_in, member = balanced_population()
    ours = lira.lira(target, ref, ref_in, online=True, fixed_variance=True)
    theirs = -advanced_mia.compute_score_lira(  # theirs: smaller means member
        *_tf_privacy_inputs(target, ref, ref_in), option="both", fix_variance=True, median_or_mean="mean"
    )
    # TF Privacy's pooled σ has ddof 0, ours ddof 1: with m references of each
    # kind both σ differ by the same factor, which rescales the score
    # without reordering it.
    assert spearmanr(ours, theirs)[0] == pytest.approx(1.0, abs=1e-12)
    assert auc(member, ours) == pytest.approx(auc(member, theirs), abs=1e-12)


def test_offline_lira_is_one_sided_unlike_tf_privacy_option_out():
    target, ref, ref_in, _ = balanced_population(n=200)
    mu_out = np.array([ref[~ref_in[:, n], n].mean() for n in range(200)])
    # Example 0 is a non-member whose φ is far *below* its OUT references:
    # evidence against membership, not for it.
    target[0] = mu_out[0] - 20.0
    ours = lira.lira(target, ref, ref_in, online=False)
    theirs = -advanced_mia.compute_score_lira(
        *_tf_privacy_inputs(target, ref, ref_in), option="out", fix_variance=True, median_or_mean="mean"
    )
    assert np.argmax(theirs) == 0  # the two-sided density calls it the likeliest member
    assert np.argmin(ours) == 0
    assert ours[0] == pytest.approx(0.0, abs=1e-12)  # p-value 1: −log 1


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fixed_variance", [True, False])
def test_lira_is_finite_with_one_or_two_references(k, online, fixed_variance):
    target, ref, ref_in, member = population(n=500, k=k, shift=3.0)
    assert ((ref_in.sum(axis=0) == 0) | (ref_in.sum(axis=0) == k)).any()  # some lack IN or OUT
    scores = lira.lira(target, ref, ref_in, online, fixed_variance)
    assert np.isfinite(scores).all()
    assert auc(member, scores) > 0.6


def test_lira_without_in_references_still_ranks_by_phi():
    # An example no reference trained on gets μ_in = μ_out + Δ: its score is
    # still a likelihood ratio, increasing in φ as for the others.
    target, ref, ref_in, _ = population(n=300, k=4, shift=3.0)
    ref_in[:, 0] = False
    phis = np.linspace(-10, 10, 21)
    scores = []
    for phi in phis:
        target[0] = phi
        scores.append(lira.lira(target, ref, ref_in, online=True)[0])
    assert np.isfinite(scores).all()
    assert np.all(np.diff(scores) > 0)


def test_lira_needs_the_references_it_compares_with():
    target, ref, _, _ = population(n=50, k=3)
    with pytest.raises(ValueError, match="OUT references"):
        lira.lira(target, ref, np.ones_like(ref, bool), online=False)
    with pytest.raises(ValueError, match="IN references"):
        lira.lira(target, ref, np.zeros_like(ref, bool), online=True)
    assert np.isfinite(lira.lira(target, ref, np.zeros_like(ref, bool), online=False)).all()


def test_lira_is_finite_when_the_references_all_agree():
    target = np.array([0.0, 1.0, -1.0])
    ref = np.zeros((2, 3))
    ref_in = np.array([[True, False, True], [False, True, False]])
    for online in (True, False):
        assert np.isfinite(lira.lira(target, ref, ref_in, online)).all()


# -------------------------------------------------------------------- RMIA


@pytest.mark.parametrize("offline", [True, False])
def test_rmia_separates_well_separated_members(offline):
    target, ref, ref_in, member = population(shift=10.0)
    assert auc(member, rmia_of(target, ref, ref_in, member, offline)) > 0.99


@pytest.mark.parametrize("offline", [True, False])
def test_rmia_is_chance_when_members_look_like_non_members(offline):
    target, ref, ref_in, member = population(shift=0.0)
    assert auc(member, rmia_of(target, ref, ref_in, member, offline)) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_rmia_scores_are_fractions_of_the_population(gamma):
    target, ref, ref_in, member = population(n=500)
    scores = rmia_of(target, ref, ref_in, member, offline=True, gamma=gamma)
    assert scores.min() >= 0 and scores.max() <= 1


def test_rmia_score_is_monotone_in_the_likelihood_ratio():
    # Score(x) counts the z that x's LR beats: a monotone transform of LR(x).
    target, ref, ref_in, member = population(n=500)
    scores = rmia_of(target, ref, ref_in, member, offline=False)
    log_ratio = np.log(expit(target)) - np.log(expit(ref).mean(axis=0))
    order = np.argsort(log_ratio)
    assert np.all(np.diff(scores[order]) >= 0)


def brute_force_rmia(target_p, ref_p, ref_in, population_index, offline, a, gamma):
    """Zarifzadeh et al. Eqs. 3-5 with the N × Z matrix (small N only)."""
    if offline:
        outs = ~ref_in
        p_out = (ref_p * outs).sum(axis=0) / outs.sum(axis=0)
        p_x = 0.5 * ((1 + a) * p_out + (1 - a))
    else:
        p_x = ref_p.mean(axis=0)
    ratio = target_p / p_x
    pairwise = ratio[:, None] / ratio[None, population_index] >= gamma
    not_self = np.arange(len(ratio))[:, None] != population_index[None, :]
    return (pairwise & not_self).sum(axis=1) / not_self.sum(axis=1)


@pytest.mark.parametrize("offline", [True, False])
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_rmia_matches_the_pairwise_definition(offline, gamma):
    target, ref, ref_in, _ = balanced_population(n=300)  # every example has OUT references
    rng = np.random.default_rng(5)
    pop = np.sort(rng.choice(300, 120, replace=False))  # members and non-members alike
    ours = rmia.rmia(expit(target), expit(ref), ref_in, pop, offline=offline, a=0.3, gamma=gamma)
    expected = brute_force_rmia(expit(target), expit(ref), ref_in, pop, offline, 0.3, gamma)
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_rmia_leaves_x_out_of_its_own_population():
    target, ref, ref_in, _ = population(n=100, k=4)
    everyone = np.arange(100)
    scores = rmia.rmia(expit(target), expit(ref), ref_in, everyone, offline=False, gamma=1.0)
    # With itself left out, the weakest x beats none of the other 99 and the
    # strongest all of them; counting itself would give 1/100 and 100/100.
    assert scores.min() == 0.0 and scores.max() == 1.0
    assert sorted(np.round(scores * 99).astype(int)) == list(range(100))


def test_rmia_agrees_with_lira_in_ranking():
    target, ref, ref_in, member = population()
    pairs = [
        (lira.lira(target, ref, ref_in, online=True), rmia_of(target, ref, ref_in, member, offline=False)),
        (lira.lira(target, ref, ref_in, online=False), rmia_of(target, ref, ref_in, member, offline=True)),
    ]
    for lira_scores, rmia_scores in pairs:
        assert spearmanr(lira_scores, rmia_scores)[0] > 0.8


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("offline", [True, False])
def test_rmia_is_finite_with_one_or_two_references(k, offline):
    target, ref, ref_in, member = population(n=500, k=k, shift=3.0)
    assert (ref_in.sum(axis=0) == k).any()  # some have no OUT reference
    scores = rmia_of(target, ref, ref_in, member, offline)
    assert np.isfinite(scores).all()
    assert auc(member, scores) > 0.6


def test_offline_rmia_inverts_the_linear_model_for_an_example_without_out_references():
    # Pr_IN ≈ a·Pr_OUT + (1 − a), so Pr_OUT ≈ (Pr_IN − (1 − a)) / a, and then
    # Pr(x) = ½((1 + a)·Pr_OUT + (1 − a)) as for the others.
    target_p = np.array([0.62, 0.5, 0.4, 0.3])
    ref_p = np.array([[0.8, 0.5, 0.4, 0.3], [0.9, 0.6, 0.3, 0.2]])
    ref_in = np.array([[True, False, False, False], [True, False, False, False]])
    a = 0.5
    p_out = (0.85 - (1 - a)) / a  # 0.7: Pr(x) 0.775, LR 0.80, above the others' 0.69-0.78
    stand_in = ref_p.copy()
    stand_in[:, 0] = p_out  # the same example with OUT references that say p_out
    expected = rmia.rmia(target_p, stand_in, np.zeros_like(ref_in), np.arange(4), offline=True, a=a)
    found = rmia.rmia(target_p, ref_p, ref_in, np.arange(4), offline=True, a=a)
    np.testing.assert_array_equal(found, expected)
    # Taking Pr_IN itself for Pr_OUT (LR 0.70) would beat one of three, not all.
    assert found[0] == 1.0


@pytest.mark.parametrize("a", [0.0, 0.3, 1.0])
def test_rmia_is_finite_for_zero_probabilities_and_every_a(a):
    target_p = np.array([0.0, 1.0, 0.5, 0.0])
    ref_p = np.array([[0.0, 1.0, 0.5, 0.2], [0.0, 0.0, 0.5, 0.0]])
    ref_in = np.array([[True, True, False, False], [True, False, False, True]])
    for offline in (True, False):
        scores = rmia.rmia(target_p, ref_p, ref_in, np.arange(4), offline=offline, a=a)
        assert np.isfinite(scores).all()


def test_rmia_rejects_a_bad_population():
    target, ref, ref_in, _ = population(n=20, k=2)
    args = (expit(target), expit(ref), ref_in)
    with pytest.raises(ValueError, match="repeated"):
        rmia.rmia(*args, np.array([1, 1, 2]), offline=True)
    with pytest.raises(ValueError, match="boolean mask"):
        rmia.rmia(*args, np.ones(20, bool), offline=True)
    with pytest.raises(ValueError, match="at least 2"):
        rmia.rmia(*args, np.array([3]), offline=True)
    with pytest.raises(ValueError, match=r"\[0, 20\)"):
        rmia.rmia(*args, np.array([0, 20]), offline=True)


def test_rmia_runs_on_twenty_thousand_examples_against_twenty_thousand():
    # Sort + searchsorted: an N × Z matrix here would be 400 million ratios.
    rng = np.random.default_rng(6)
    n, k = 20_000, 4
    scores = rmia.rmia(rng.random(n), rng.random((k, n)), rng.random((k, n)) < 0.5, np.arange(n), offline=True)
    assert scores.shape == (n,) and np.isfinite(scores).all()
