"""Does the DP-SGD step do what the accountant is told? Clip, noise, freshness and sampling, from measurements.

The accountant's epsilon holds for one mechanism: every example's
contribution to a step's sum clipped to ``l2_norm_clip`` (C), Gaussian
noise of standard deviation ``noise_multiplier`` x C (sigma C) on every
coordinate, drawn afresh each step, and each example sampled independently
with probability q = batch / members (Poisson). This module judges
measurements of the optimizer that trains (taken by
:mod:`privacy_checks.train.dp_probe`) against each of these, in the units
of the summed gradient (what the optimizer is handed, times the batch):

* :func:`clipping`: each example's isolated contribution has norm <= C
  (exact, no alpha: float32 rounding aside), an adversarial example's too;
* :func:`noise_scale`: the noise's standard deviation against sigma C, a
  chi-square test with the mean known (0), one-sided (less noise is the
  danger), and its two-sided interval; over n coordinates the relative
  standard error is 1 / sqrt(2 n);
* :func:`freshness`: no two steps' noise equal or correlated, each pair's
  uncentred correlation tested exactly (a spherical law), Bonferroni over
  the pairs;
* :func:`sampling`: the epsilon under Poisson sampling (what the accountant
  and the gate use) and under shuffled fixed-size batches, which is what
  Keras does.

The statistical tests each take the alpha the caller gives them and are
valid at it (``tests/test_dp_audit.py`` simulates their false-alarm rates);
:func:`privacy_checks.attack.white_box.conformance` splits the family-wise
budget it is given between the two.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from privacy_checks.attack import accounting
from privacy_checks.spec.model_spec import DPSGD

#: How far a clipped contribution's norm may exceed the clip: float32 rounding of a sum of rows
#: and of a difference of two such sums (measured: 7e-8 relative on digits).
CLIP_TOLERANCE = 1e-4
#: The power at which :attr:`NoiseScale.detectable_shortfall` and
#: :attr:`Freshness.detectable_correlation` are stated.
POWER = 0.99


@dataclasses.dataclass(frozen=True)
class Clipping:
    """Each example's contribution to the noise-free sum against the claimed clip."""

    claimed_clip: float
    #: Rows whose contribution was isolated, the adversarial ones included.
    examples: int
    #: Of those, the rows whose raw gradient was longer than the claimed clip (the ones clipping acts on).
    above_clip: int
    largest_raw_norm: float
    largest_contribution: float
    #: The adversarial example's raw gradient norm and its contribution's norm.
    adversarial_raw_norm: float
    adversarial_contribution: float
    #: With 1 - alpha confidence, at most this share of examples longer than the clip is left
    #: unclipped by the step (none was among ``above_clip``): 1 - alpha^(1 / above_clip).
    unclipped_share_at_most: float
    alpha: float

    @property
    def passed(self) -> bool:
        return max(self.largest_contribution, self.adversarial_contribution) <= self.claimed_clip * (1 + CLIP_TOLERANCE)


def clipping(
    contribution_norms: np.ndarray, raw_norms: np.ndarray, claimed_clip: float, adversarial: int, alpha: float
) -> Clipping:
    """Judges isolated contributions; row ``adversarial`` of the arrays is the adversarial example."""
    contribution_norms, raw_norms = np.asarray(contribution_norms, float), np.asarray(raw_norms, float)
    above = int(np.sum(raw_norms > claimed_clip))
    return Clipping(
        claimed_clip, len(raw_norms), above, float(raw_norms.max()), float(contribution_norms.max()),
        float(raw_norms[adversarial]), float(contribution_norms[adversarial]),
        float(1 - alpha ** (1 / above)) if above else 1.0, alpha,
    )


@dataclasses.dataclass(frozen=True)
class NoiseScale:
    """The noise's measured standard deviation against the claimed one (summed-gradient units)."""

    claimed_std: float
    measured_std: float
    #: Two-sided 1 - alpha interval of the standard deviation (chi-square, mean known).
    interval: tuple[float, float]
    coordinates: int
    steps: int
    mean: float
    alpha: float
    #: One-sided p-value of "the std is at least the claimed one".
    p_value: float
    #: The ratio std / claimed below which this test fails with probability POWER.
    detectable_shortfall: float

    @property
    def passed(self) -> bool:
        return self.p_value >= self.alpha

    @property
    def relative_standard_error(self) -> float:
        return 1 / math.sqrt(2 * self.coordinates)


def noise_scale(noise: np.ndarray, claimed_std: float, alpha: float) -> NoiseScale:
    """Tests ``noise`` (steps x coordinates, each step's noised minus noise-free sum) against
    N(0, claimed_std^2) per coordinate: sum z^2 ~ chi-square(n) under the claim."""
    from scipy import stats

    noise = np.asarray(noise, np.float64)
    n = noise.size
    total = float(np.sum(noise**2))
    chi2 = total / claimed_std**2
    interval = (math.sqrt(total / stats.chi2.isf(alpha / 2, n)), math.sqrt(total / stats.chi2.ppf(alpha / 2, n)))
    shortfall = math.sqrt(stats.chi2.ppf(alpha, n) / stats.chi2.ppf(POWER, n))
    return NoiseScale(
        float(claimed_std), math.sqrt(total / n), interval, int(noise.shape[-1]), int(noise.shape[0]),
        float(noise.mean()), alpha, float(stats.chi2.cdf(chi2, n)), shortfall,
    )


@dataclasses.dataclass(frozen=True)
class Freshness:
    """Whether any two audited steps drew the same or correlated noise."""

    steps: tuple[int, ...]
    #: Pairs of steps whose noise vectors are equal, to float32 rounding (1e-4 of their rms: the
    #: noise is isolated as a difference of two rounded sums, so a reused draw is not bit-equal).
    identical: tuple[tuple[int, int], ...]
    largest_correlation: float
    #: The pair with the largest absolute correlation.
    pair: tuple[int, int]
    alpha: float
    #: The smallest p-value over the pairs, times the number of pairs (Bonferroni), at most 1.
    p_value: float
    #: The correlation one pair must have for this test to catch it with probability POWER.
    detectable_correlation: float

    @property
    def passed(self) -> bool:
        return not self.identical and self.p_value >= self.alpha


def freshness(noise: np.ndarray, steps: tuple[int, ...], alpha: float) -> Freshness:
    """Every pair of rows of ``noise`` (one per audited step): equal, or correlated beyond chance.

    Under the claim each row is N(0, s^2 I_n): the uncentred correlation r of two independent rows is
    the cosine of a uniformly random angle, so t = r sqrt(n - 1) / sqrt(1 - r^2) follows Student's t
    with n - 1 degrees of freedom, exactly, whatever s.
    """
    from scipy import stats

    noise = np.asarray(noise, np.float64)
    n = noise.shape[1]
    pairs = list(itertools.combinations(range(len(noise)), 2))
    identical, best, best_pair, smallest = [], 0.0, (0, 0), 1.0
    norms = np.linalg.norm(noise, axis=1)
    for i, j in pairs:
        if np.max(np.abs(noise[i] - noise[j])) <= 1e-4 * norms[i] / math.sqrt(n):
            identical.append((steps[i], steps[j]))
        r = float(noise[i] @ noise[j] / (norms[i] * norms[j])) if norms[i] and norms[j] else 1.0
        t = r * math.sqrt(n - 1) / math.sqrt(max(1 - r * r, 1e-300))
        smallest = min(smallest, float(2 * stats.t.sf(abs(t), n - 1)))
        if abs(r) >= abs(best):
            best, best_pair = r, (steps[i], steps[j])
    count = max(1, len(pairs))
    z = stats.norm.isf(alpha / (2 * count)) + stats.norm.isf(1 - POWER)
    return Freshness(
        tuple(steps), tuple(identical), best, best_pair, alpha, min(1.0, smallest * count), float(z / math.sqrt(n))
    )


@dataclasses.dataclass(frozen=True)
class Sampling:
    """The epsilon of the training under the accountant's sampling and under what Keras does."""

    members: int
    batch_size: int
    epochs: int
    steps: int
    delta: float
    #: Poisson sampling at q = batch / members, RDP: the accountant's epsilon, which the gate checks.
    poisson: float
    #: The same mechanism through the PLD accountant: its tight epsilon.
    poisson_pld: float
    #: Shuffled fixed-size batches, each example once per epoch, no amplification by sampling:
    #: ``epochs`` Gaussian releases, RDP (TF Privacy's "each example occurring once per epoch").
    shuffled: float
    #: The same through the PLD accountant.
    shuffled_pld: float


def sampling(dp: DPSGD, members: int, batch_size: int, epochs: int) -> Sampling:
    """Both epsilons (module doc and docs/dp.md for why these two).

    Keras draws a shuffled pass of fixed-size batches each epoch; the accountant assumes each
    example joins each step independently with probability q. No accountant gives shuffling's
    amplification a tight number (Chua et al., "How Private are DP-SGD Implementations?", ICML
    2024, show it can be much weaker than Poisson's at small noise); what holds without any
    amplification is that an example is in exactly one batch per epoch, so an epoch is one Gaussian
    release of its clipped gradient: ``epochs`` of them composed. That is what TF Privacy's
    ``compute_dp_sgd_privacy_statement`` prints first (one microbatch per example, so
    ``used_microbatching=False``), and the honest upper bound for shuffled batches.
    """
    import dp_accounting

    steps = accounting.steps(members, batch_size, epochs)
    once = dp_accounting.SelfComposedDpEvent(dp_accounting.GaussianDpEvent(dp.noise_multiplier), epochs)
    rdp = dp_accounting.rdp.RdpAccountant()
    rdp.compose(once)
    pld = pld_epsilon(dp.noise_multiplier, 1.0, epochs, dp.delta)
    return Sampling(
        members, batch_size, epochs, steps, dp.delta, accounting.epsilon(dp, members, batch_size, epochs),
        pld_epsilon(dp.noise_multiplier, batch_size / members, steps, dp.delta),
        float(rdp.get_epsilon(dp.delta)), pld,
    )


def pld_epsilon(noise_multiplier: float, q: float, steps: int, delta: float) -> float:
    """The tight (PLD, pessimistic) epsilon at ``delta`` of ``steps`` compositions of the Gaussian
    mechanism sampled at rate ``q`` (q = 1: no sampling): 6.70 on ``digits``' DP model, whose RDP
    epsilon (the accountant's, the gate's) is 7.23. Discretisation 1e-3 of the privacy loss."""
    from dp_accounting.pld import privacy_loss_distribution

    single = privacy_loss_distribution.from_gaussian_mechanism(
        noise_multiplier, sampling_prob=q, value_discretization_interval=1e-3
    )
    return float((single.self_compose(steps) if steps > 1 else single).get_epsilon_for_delta(delta))
