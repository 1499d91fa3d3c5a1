"""Gradient canaries for a white-box audit of DP-SGD: where they go, how they are scored, what they prove.

The auditor of its own trainer sees what the optimizer is handed each step
(the clipped, noised sum) and knows the real examples' clipped sum (the
same step with the noise off). A *canary* is a gradient of its own: a huge
value (far above ``l2_norm_clip``) at one coordinate of the model's flat
gradient, zero elsewhere (a "Dirac canary", Nasr et al., "Tight Auditing
of Differentially Private Machine Learning", USENIX Security 2023). Each
canary gets its own coordinate, so what the auditor reads at it, step
after step, is that step's noise plus the clipped canary when the canary
took part: one trial of the very mechanism the accountant describes.

The canaries follow the accountant's sampling: each is *in* the run with
probability 1/2 (the one-run design of Steinke, Nasr and Jagielski,
NeurIPS 2023) and an *in* canary takes part in each step independently with
probability q = batch / members (Poisson sampling); an *out* canary never
does. Each canary's score is the log likelihood ratio of its T observations
under the claim (clip C, noise sigma x C, rate q), the Neyman-Pearson
optimal test of in against out: the scores of many canaries draw the
mechanism's trade-off curve, and the (false-positive, false-negative)
rates at one threshold bound it (:func:`rates`).

The threshold is fixed before any canary is seen (:func:`threshold`, the
claimed mechanism's equal-error point), so the whole sample estimates and
no split or Bonferroni correction over thresholds is needed. What the
rates prove is stated as mu-Gaussian DP (:func:`gdp_mu`, the conversion of
Nasr et al. 2023 and of jax_privacy's ``epsilon_from_gdp``) and its epsilon
(:func:`gdp_epsilon`): a lower bound of the mechanism's epsilon *if* its
trade-off curve is Gaussian, which DP-SGD's composition is by the central
limit theorem (Dong, Roth and Su) but not exactly; that assumption is this
bound's, and ``tests/test_canaries.py`` checks its coverage in simulation of
the claimed mechanism itself.

Trials are independent when the noise is independent across coordinates
and fresh each step, which is what the accountant assumes; the conformance
checks (:mod:`privacy_checks.attack.dp_audit`) test both. For a bound that
needs no independence, Steinke et al.'s one-run estimator is here too
(:func:`one_run_epsilon`); it is far weaker at the deltas DP-SGD claims.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


#: A canary's raw gradient value, in units of the clip: far above it, so each canary also
#: checks that the optimizer clips an example whose gradient is huge.
CANARY_SCALE = 1000.0


@dataclasses.dataclass(frozen=True)
class CanaryDesign:
    """Which coordinates carry canaries, which canaries are in the run, and their sampling."""

    #: The flat gradient coordinate of each canary (distinct), shape ``[canaries]``.
    coordinates: np.ndarray
    #: Whether each canary is in the run (probability 1/2 each), shape ``[canaries]``.
    included: np.ndarray
    #: The chance that an in canary takes part in one step: batch size / members.
    sampling_probability: float
    #: The steps of the mechanism audited (all of the training's, for its epsilon).
    steps: int
    seed: int

    def present(self, step: int) -> np.ndarray:
        """The canaries (indices into :attr:`coordinates`) that take part in ``step``: each in
        canary independently with probability q, from a generator keyed by (seed, step)."""
        draws = np.random.default_rng([self.seed, 1, step]).random(len(self.coordinates))
        return np.flatnonzero(self.included & (draws < self.sampling_probability))


def design(dimension: int, canaries: int, sampling_probability: float, steps: int, seed: int) -> CanaryDesign:
    """``canaries`` canaries on distinct coordinates of a ``dimension``-long gradient, seeded."""
    if not 0 < canaries <= dimension:
        raise ValueError(f"between 1 and {dimension} canaries fit (one per coordinate), got {canaries}")
    if not 0 < sampling_probability <= 1:
        raise ValueError(f"the sampling probability must be in (0, 1], got {sampling_probability}")
    rng = np.random.default_rng([seed, 0])
    coordinates = np.sort(rng.choice(dimension, size=canaries, replace=False))
    return CanaryDesign(coordinates, rng.random(canaries) < 0.5, float(sampling_probability), int(steps), seed)


def _step_llr(y: np.ndarray, noise_multiplier: float, q: float) -> np.ndarray:
    """log of the likelihood ratio of one step's observation ``y`` (in units of the clip):
    (1 - q) N(0, s^2) + q N(1, s^2) against N(0, s^2), s the noise multiplier."""
    shift = (np.asarray(y, np.float64) - 0.5) / noise_multiplier**2
    if q >= 1:
        return shift
    return np.logaddexp(math.log1p(-q), math.log(q) + shift)


def scores(observations: np.ndarray, l2_norm_clip: float, noise_multiplier: float, q: float) -> np.ndarray:
    """Each canary's log likelihood ratio over the steps: ``observations[t, j]`` is what coordinate
    j carried at step t beyond the real examples' clipped sum (gradient units, not divided by the
    batch), scored under the claimed clip, noise multiplier and sampling rate."""
    return _step_llr(np.asarray(observations) / l2_norm_clip, noise_multiplier, q).sum(axis=0)


def _llr_moments(noise_multiplier: float, q: float, shift: float) -> tuple[float, float]:
    """Mean and variance of one step's log likelihood ratio when the observation is
    N(0, s^2) mixed with probability ``shift``-weighted N(1, s^2) (Gauss-Hermite, 80 nodes)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    values = [_step_llr(nodes * noise_multiplier + mean, noise_multiplier, q) for mean in (0.0, 1.0)]
    first = [float(weights @ v) for v in values]
    second = [float(weights @ v**2) for v in values]
    mean = (1 - shift) * first[0] + shift * first[1]
    return mean, (1 - shift) * second[0] + shift * second[1] - mean**2


def threshold(noise_multiplier: float, q: float, steps: int) -> float:
    """The score above which a canary is guessed in: where the claimed mechanism's false-positive
    and false-negative rates are equal, the scores' laws taken as normal (a sum over many steps).

    Fixed by the claim before any canary is scored: any fixed threshold gives valid rates, and this
    one sits where a Gaussian-like trade-off curve is measured most precisely.
    """
    m0, v0 = _llr_moments(noise_multiplier, q, 0.0)
    m1, v1 = _llr_moments(noise_multiplier, q, q)
    s0, s1 = math.sqrt(steps * v0), math.sqrt(steps * v1)
    return steps * (m0 * s1 + m1 * s0) / (s0 + s1)


@dataclasses.dataclass(frozen=True)
class Rates:
    """The canaries' guesses at one threshold, and upper confidence bounds of their error rates."""

    threshold: float
    canaries_in: int
    canaries_out: int
    false_positives: int
    false_negatives: int
    #: Joint confidence of the two bounds: each is Clopper-Pearson at alpha / 2.
    alpha: float
    fpr_upper: float
    fnr_upper: float


def rates(scores_: np.ndarray, included: np.ndarray, threshold_: float, alpha: float) -> Rates:
    """False-positive rate of the out canaries and false-negative rate of the in canaries at
    ``threshold_`` (a canary is guessed in when its score is above it), each with a Clopper-Pearson
    upper bound at ``alpha / 2``: both hold together with probability at least 1 - ``alpha``."""
    from scipy import stats

    scores_ = np.asarray(scores_, np.float64)
    included = np.asarray(included, bool)
    n_in, n_out = int(included.sum()), int((~included).sum())
    fp = int(np.sum(scores_[~included] > threshold_))
    fn = int(np.sum(scores_[included] <= threshold_))

    def upper(k: int, n: int) -> float:
        return 1.0 if k >= n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))

    return Rates(float(threshold_), n_in, n_out, fp, fn, alpha, upper(fp, n_out), upper(fn, n_in))


def gdp_mu(fpr: float, fnr: float) -> float:
    """The mu that the point (fpr, fnr) proves: no mu'-GDP mechanism with mu' below it has a test
    with these error rates (Dong, Roth and Su 2019: fnr >= Phi(Phi^-1(1 - fpr) - mu)). 0 if none."""
    from scipy import stats

    if fpr >= 1 or fnr >= 1:
        return 0.0
    return max(0.0, float(stats.norm.isf(fpr) - stats.norm.ppf(fnr)))


def gdp_delta(mu: float, epsilon: float) -> float:
    """delta(epsilon) of mu-GDP: Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2) (Dong et al., Cor. 2.13)."""
    from scipy.special import log_ndtr

    if mu <= 0:
        return 0.0
    high, low = log_ndtr(-epsilon / mu + mu / 2), epsilon + log_ndtr(-epsilon / mu - mu / 2)
    return float(math.exp(high) * -math.expm1(low - high)) if high > low else 0.0


def gdp_epsilon(mu: float, delta: float) -> float:
    """The epsilon at ``delta`` of mu-Gaussian DP (the smallest epsilon with delta(epsilon) <= delta)."""
    from scipy import optimize

    if mu <= 0 or gdp_delta(mu, 0.0) <= delta:
        return 0.0
    high = 1.0
    while gdp_delta(mu, high) > delta:
        high *= 2
    return float(optimize.brentq(lambda e: gdp_delta(mu, e) - delta, 0.0, high, xtol=1e-9))


def gaussian_mu(noise_multiplier: float, q: float, steps: int) -> float:
    """The mu-GDP that DP-SGD's composition tends to (the central limit theorem of Dong, Roth and
    Su 2019, Bu et al. 2020): q sqrt(T (e^(1/sigma^2) - 1)); without sampling (q = 1) exactly
    sqrt(T) / sigma. On ``digits``' DP model (q = 0.25, sigma = 5, T = 800) 1.43, whose epsilon at
    delta = 1e-5 (6.65) is within 1 % of the PLD accountant's 6.70."""
    if q >= 1:
        return math.sqrt(steps) / noise_multiplier
    return q * math.sqrt(steps * math.expm1(1 / noise_multiplier**2))


def one_run_epsilon(
    scores_: np.ndarray, included: np.ndarray, guesses: tuple[int, ...], alpha: float, delta: float
) -> float:
    """Steinke, Nasr and Jagielski's one-run bound (NeurIPS 2023, Thm. 5.2, one-sided guesses).

    The ``k`` highest-scored canaries are guessed in; under (epsilon, delta)-DP with respect to each
    canary the number of correct guesses is dominated by Binomial(k, e^eps / (1 + e^eps)) plus a
    term in ``delta`` times the number of canaries, whatever the dependence between canaries. The
    largest epsilon whose p-value is below ``alpha / len(guesses)`` (Bonferroni over the ``k``
    tried), 0 if none. Valid without independent trials; it pays for that (module doc).
    """
    from scipy import optimize, stats

    order = np.argsort(-np.asarray(scores_, np.float64), kind="stable")
    included = np.asarray(included, bool)
    m, level = len(order), alpha / len(guesses)

    def p_value(k: int, correct: int, epsilon: float) -> float:
        p = 1 / (1 + math.exp(-epsilon))
        beta = stats.binom.sf(correct - 1, k, p)
        i = np.arange(1, correct + 1)
        slack = np.max((stats.binom.sf(correct - i - 1, k, p) - beta) / i, initial=0.0)
        return min(1.0, float(beta + slack * delta * 2 * m))

    best = 0.0
    for k in guesses:
        k = min(int(k), m)
        correct = int(included[order[:k]].sum())
        if k < 1 or p_value(k, correct, 0.0) > level:
            continue
        high = 1.0
        while p_value(k, correct, high) <= level:
            high *= 2
        best = max(best, float(optimize.brentq(lambda e: p_value(k, correct, e) - level, 0.0, high, xtol=1e-6)))
    return best


#: The numbers of top-scored canaries the one-run estimator guesses in (Bonferroni over them).
ONE_RUN_GUESSES = (25, 50, 100, 200, 500, 1000)


@dataclasses.dataclass(frozen=True)
class CanaryBound:
    """What one canary audit proves, at confidence 1 - ``alpha`` (module doc)."""

    canaries: int
    steps: int
    sampling_probability: float
    delta: float
    alpha: float
    rates: Rates
    #: The mu-GDP the rates prove (0: none) and its epsilon at ``delta``: a lower bound of the
    #: mechanism's epsilon where its trade-off curve is Gaussian (DP-SGD's, by the CLT).
    mu_lower: float
    epsilon_gdp: float
    #: Steinke et al.'s one-run bound from the same scores, for comparison (no independence assumed).
    one_run_epsilon: float


def bound(
    observations: np.ndarray, design_: CanaryDesign, l2_norm_clip: float, noise_multiplier: float,
    alpha: float, delta: float,
) -> CanaryBound:
    """Scores ``observations`` (steps x canaries, beyond the real examples' clipped sum, in gradient
    units) under the claim, counts the errors at the claim's threshold and states the bounds."""
    q, steps = design_.sampling_probability, design_.steps
    scored = scores(observations, l2_norm_clip, noise_multiplier, q)
    measured = rates(scored, design_.included, threshold(noise_multiplier, q, steps), alpha)
    mu = gdp_mu(measured.fpr_upper, measured.fnr_upper)
    return CanaryBound(
        len(design_.coordinates), steps, q, delta, alpha, measured, mu, gdp_epsilon(mu, delta),
        one_run_epsilon(scored, design_.included, ONE_RUN_GUESSES, alpha, delta),
    )
