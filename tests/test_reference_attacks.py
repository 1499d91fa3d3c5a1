"""LiRA scores on synthetic statistics, checked against TF Privacy's advanced_mia.

The synthetic population mimics what reference models see: each example has
a difficulty d (its statistic on a model that did not train on it), training
on it raises the statistic by ``shift`` (for a fraction ``vulnerable`` of the
examples), and every model adds its own noise.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from privacy_checks import reference_attacks as ra

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


# ------------------------------------------------------------ scaled_logit


def test_scaled_logit_is_the_log_odds_of_the_true_class():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 3, (50, 5)), rng.integers(0, 5, 50)
    p = softmax(logits, axis=1)
    p_true = p[np.arange(50), labels]
    expected = np.log(p_true) - np.log(p.sum(axis=1) - p_true)
    np.testing.assert_allclose(ra.scaled_logit(logits, labels), expected, rtol=1e-10, atol=1e-10)


def test_scaled_logit_stacks_reference_models_and_leaves_its_input_alone():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(0, 3, (4, 30, 3)), rng.integers(0, 3, 30)
    before = logits.copy()
    stacked = ra.scaled_logit(logits, labels)
    assert stacked.shape == (4, 30)
    np.testing.assert_array_equal(stacked[2], ra.scaled_logit(logits[2], labels))
    np.testing.assert_array_equal(logits, before)


def test_scaled_logit_is_finite_and_exact_for_extreme_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [1000.0, 1000.0, 0.0]])
    found = ra.scaled_logit(logits, np.array([0, 0, 0]))
    # z_y − logsumexp(others): 1000 − 0, −1000 − 1000, 1000 − (1000 + log(1 + e^-1000)).
    np.testing.assert_allclose(found, [1000.0, -2000.0, 0.0], atol=1e-12)


def test_scaled_logit_equals_tf_privacy_calculate_statistic_logit():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(0, 4, (200, 10)), rng.integers(0, 10, 200)
    # calculate_statistic writes zeros into the array it is given: pass a copy.
    theirs = advanced_mia.calculate_statistic(logits.copy(), labels, is_logits=True, option="logit")
    np.testing.assert_allclose(ra.scaled_logit(logits, labels), theirs, rtol=1e-9, atol=1e-9)


def test_scaled_logit_rejects_what_it_cannot_score():
    with pytest.raises(ValueError, match="finite"):
        ra.scaled_logit(np.array([[np.inf, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="labels"):
        ra.scaled_logit(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="2 classes"):
        ra.scaled_logit(np.zeros((2, 1)), np.array([0, 0]))


def test_true_label_probability_is_the_softmax_of_the_label():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(0, 3, (40, 4)), rng.integers(0, 4, 40)
    expected = softmax(logits / 2.0, axis=1)[np.arange(40), labels]
    np.testing.assert_allclose(ra.true_label_probability(logits, labels, temperature=2.0), expected, rtol=1e-12)


def test_the_module_imports_without_tensorflow():
    code = (
        "import sys, privacy_checks.reference_attacks; "
        "heavy = ('tensorflow', 'tensorflow_privacy', 'keras'); "
        "sys.exit(any(m.split('.')[0] in heavy for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -------------------------------------------------------------------- LiRA


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fixed_variance", [True, False])
def test_lira_separates_well_separated_members(online, fixed_variance):
    target, ref, ref_in, member = population(shift=10.0)
    assert auc(member, ra.lira(target, ref, ref_in, online, fixed_variance)) > 0.99


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fixed_variance", [True, False])
def test_lira_is_chance_when_members_look_like_non_members(online, fixed_variance):
    target, ref, ref_in, member = population(shift=0.0)
    assert auc(member, ra.lira(target, ref, ref_in, online, fixed_variance)) == pytest.approx(0.5, abs=0.05)


def test_online_lira_is_at_least_as_powerful_as_offline():
    # Only some examples are vulnerable: the IN references tell the online test
    # which, the offline test must treat every high φ alike.
    target, ref, ref_in, member = population(shift=3.0, difficulty=(0.0, 2.0), vulnerable=0.2)
    online, offline = ra.lira(target, ref, ref_in, True), ra.lira(target, ref, ref_in, False)
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
    ours = ra.lira(target, ref, ref_in, online=True, fixed_variance=True)
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
    ours = ra.lira(target, ref, ref_in, online=False)
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
    scores = ra.lira(target, ref, ref_in, online, fixed_variance)
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
        scores.append(ra.lira(target, ref, ref_in, online=True)[0])
    assert np.isfinite(scores).all()
    assert np.all(np.diff(scores) > 0)


def test_lira_needs_the_references_it_compares_with():
    target, ref, _, _ = population(n=50, k=3)
    with pytest.raises(ValueError, match="OUT references"):
        ra.lira(target, ref, np.ones_like(ref, bool), online=False)
    with pytest.raises(ValueError, match="IN references"):
        ra.lira(target, ref, np.zeros_like(ref, bool), online=True)
    assert np.isfinite(ra.lira(target, ref, np.zeros_like(ref, bool), online=False)).all()


def test_lira_is_finite_when_the_references_all_agree():
    target = np.array([0.0, 1.0, -1.0])
    ref = np.zeros((2, 3))
    ref_in = np.array([[True, False, True], [False, True, False]])
    for online in (True, False):
        assert np.isfinite(ra.lira(target, ref, ref_in, online)).all()
