"""Membership scores of the attacks that use reference (shadow) models: LiRA and RMIA.

TF Privacy's attacks train a classifier on the target model's own outputs.
The strongest published attacks instead compare each example's output on the
target model with its outputs on *reference* models trained on random halves
of the same population, which removes per-example difficulty (an easy
non-member looks like a member to a global threshold):

* LiRA, Carlini, Chien, Nasr, Song, Terzis & Tramèr, "Membership Inference
  Attacks From First Principles", IEEE S&P 2022 (arXiv:2112.03570).
* RMIA, Zarifzadeh, Liu, Shokri & Shokri, "Low-Cost High-Power Membership
  Inference Attacks", ICML 2024 (arXiv:2312.03262).

This module holds only their math, on NumPy arrays, so that it imports in
well under a second and runs in worker processes without TensorFlow. Every
score it returns is one number per example and **higher means more likely a
member**, so the ROC code in :mod:`privacy_checks.metrics` takes it as is.

Shapes: ``N`` examples (the target's members and non-members), ``C``
classes, ``K`` reference models. ``ref_in[k, n]`` says whether example ``n``
was in reference model ``k``'s training set.

Why not call TF Privacy 0.8.12's ``advanced_mia``? The module itself needs
only NumPy and SciPy, but importing it by name runs ``tensorflow_privacy``'s
``__init__``, which imports TensorFlow; and its semantics differ from the
papers' in ways that matter here: ``calculate_statistic`` overwrites the
array it is given, saturates the logit statistic at about ±103.6 (its
``1e-45`` floor), ``compute_score_lira`` returns smaller-is-member scores
with a per-example standard deviation that is 0 when an example has one
reference model, and its ``option='out'`` is a two-sided density score, not
the paper's one-sided offline test. ``tests/test_reference_attacks.py``
checks this module against it where they are meant to agree.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

#: RMIA's offline coefficient: Pr_IN(x) ≈ a·Pr_OUT(x) + (1 − a). 0.3 is the
#: value the paper's code uses for CIFAR-10 and CINIC-10
#: (privacytrustlab/ml_privacy_meter, research/2024_rmia/attack_configs at
#: d327341: 0.6 for CIFAR-100, 0.2 for Purchase-100) and the default of
#: ml_privacy_meter's ``get_out_ref_signals``. Both tune it per dataset by
#: attacking one reference model with the others (``tune_offline_a``).
RMIA_OFFLINE_A = 0.3

#: Smallest standard deviation a Gaussian fit may have: reference statistics
#: that are all equal would otherwise give 0 and infinite (then NaN) scores.
_MIN_SIGMA = 1e-8

#: Probabilities are floored here before their logarithm, so that a
#: probability that underflowed to 0 gives a finite log-ratio instead of NaN.
_TINY = np.finfo(np.float64).tiny


# ---------------------------------------------------------------- statistics


def scaled_logit(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """LiRA's statistic φ = log p_y − log Σ_{y'≠y} p_y', per example.

    Carlini et al. 2022, §IV, "logit scaling" (their ``score.py`` in TF
    Privacy's research/mi_lira_2021 computes the same): the softmax
    confidence p_y is far from Gaussian across models (it piles up at 1), its
    logit log(p / (1 − p)) is close to Gaussian, which is what LiRA's fits
    assume. Computed from the logits, where the softmax normaliser cancels:
    φ = z_y − logsumexp_{y'≠y} z_y', in float64. Unlike TF Privacy's
    ``calculate_statistic(option='logit')`` (softmax first, then
    ``log(p + 1e-45)``), it neither saturates at ±103.6 nor loses the
    non-member side of confident predictions to rounding.

    ``logits`` is ``(N, C)`` or stacked ``(K, N, C)``; ``labels`` is ``(N,)``.
    Returns ``(N,)`` or ``(K, N)``.
    """
    z, y = _logits_and_labels(logits, labels)
    index = np.broadcast_to(y[:, None], z.shape[:-1] + (1,))
    true = np.take_along_axis(z, index, axis=-1)[..., 0]
    others = z.copy()
    np.put_along_axis(others, index, -np.inf, axis=-1)
    return true - special.logsumexp(others, axis=-1)


def true_label_probability(
    logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0
) -> np.ndarray:
    """Softmax probability of the true label, RMIA's Pr(x|θ), in float64.

    Zarifzadeh et al. 2024: Pr(x|θ) is the model's softmax
    probability of x's label (ml_privacy_meter's ``get_softmax``, with an
    optional temperature). Computed as exp(z_y/T − logsumexp(z/T)).
    Shapes as :func:`scaled_logit`.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z, y = _logits_and_labels(logits, labels)
    z = z / temperature
    index = np.broadcast_to(y[:, None], z.shape[:-1] + (1,))
    true = np.take_along_axis(z, index, axis=-1)[..., 0]
    return np.exp(true - special.logsumexp(z, axis=-1))


# ---------------------------------------------------------------------- LiRA


def lira(
    target_stat: np.ndarray,
    ref_stats: np.ndarray,
    ref_in: np.ndarray,
    online: bool,
    fixed_variance: bool = True,
) -> np.ndarray:
    """LiRA membership scores: Gaussian likelihood ratios of φ, higher = member.

    Carlini et al. 2022, Algorithm 1. ``target_stat`` ``(N,)`` is φ of each
    example on the target model, ``ref_stats`` ``(K, N)`` on the reference
    models (see :func:`scaled_logit`).

    * Online (``online=True``): fit N(μ_in, σ_in²) to the statistics of the
      references that trained on the example and N(μ_out, σ_out²) to those
      that did not; the score is the log-likelihood ratio
      log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²).
    * Offline: only OUT references, and the paper's *one-sided* test
      (the offline variant of its Algorithm 1):
      a member's φ is unusually *high*, so the p-value is
      1 − Φ((φ − μ_out)/σ_out) and the score is −log of it
      (``-norm.logsf``, exact far into the tail). An example whose φ is far
      *below* μ_out scores near 0, least member-like. TF Privacy's
      ``compute_score_lira(option='out')`` and the paper's released
      ``plot.py`` use the two-sided density instead, which calls such an
      example a member.

    μ is the mean over the example's references (the Gaussian maximum
    likelihood fit; with the few references affordable in CI the median the
    paper's code takes is the mean or nearly so). σ:

    * ``fixed_variance=True`` (the paper's variant for fewer than about 64
      references, where a per-example σ is too noisy): one σ_in and one
      σ_out for all examples, the pooled within-example standard deviation
      sqrt(Σ_n Σ_k (φ_kn − μ_n)² / Σ_n (m_n − 1)) over examples with
      m_n ≥ 2 references of that kind. That is the model's
      φ_kn ~ N(μ_n, σ²) estimate, as TF Privacy computes it (deviations from
      each example's centre), but with the degrees of freedom counted: with
      two references, one IN and one OUT per example, TF Privacy's pooled
      deviations are all 0. The paper's ``plot.py`` takes ``np.std`` of the
      raw statistics instead, which adds the spread of difficulty between
      examples (and uses the IN one for σ_out as well).
    * ``fixed_variance=False``: each example's own standard deviation
      (ddof 1), or the pooled one where it has fewer than two references.

    If no example has two references of a kind, σ of that kind is the other
    kind's pooled σ, and if neither can be pooled (K = 1, or one IN and one
    OUT for every example), the standard deviation of all reference
    statistics: an overestimate, so scores are less extreme, never NaN.

    Missing references (few K): an example with no IN reference gets
    μ_in = μ_out + Δ, an example with no OUT reference μ_out = μ_in − Δ,
    where Δ is the mean of μ_in − μ_out over the examples that have both
    (or, if none has, the mean of all IN statistics minus the mean of all
    OUT ones). Its score stays a log-likelihood ratio on the same scale as
    the others', which mixing in another test's score would not give. A
    ValueError is raised when no reference left any example out, or, online,
    when none trained on any. The result is always finite.
    """
    phi = _finite(target_stat, "target_stat", ndim=1)
    stats_, ins = _reference_arrays(ref_stats, ref_in, len(phi), "ref_stats")
    outs = ~ins
    if not outs.any():
        raise ValueError("LiRA needs OUT references: every reference model trained on every example")
    if online and not ins.any():
        raise ValueError(
            "online LiRA needs IN references (no reference model trained on any example); use online=False"
        )

    mu_in, m_in, ss_in = _group_moments(stats_, ins)
    mu_out, m_out, ss_out = _group_moments(stats_, outs)
    # Offline LiRA reads μ_in only to stand in for a missing μ_out.
    if (online and (m_in == 0).any()) or (m_out == 0).any():
        shift = _in_out_shift(stats_, ins, mu_in, mu_out, m_in, m_out)
        mu_in = np.where(m_in > 0, mu_in, mu_out + shift)
        mu_out = np.where(m_out > 0, mu_out, mu_in - shift)

    pooled_in, pooled_out = _pooled_sigmas(stats_, ss_in, m_in, ss_out, m_out)
    if fixed_variance:
        sigma_in, sigma_out = pooled_in, pooled_out
    else:
        sigma_in = _own_sigma(ss_in, m_in, pooled_in)
        sigma_out = _own_sigma(ss_out, m_out, pooled_out)

    if not online:
        return -stats.norm.logsf(phi, mu_out, sigma_out)
    return stats.norm.logpdf(phi, mu_in, sigma_in) - stats.norm.logpdf(phi, mu_out, sigma_out)


def _group_moments(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per example: mean of the masked references (NaN if none), their count, Σ squared deviations."""
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    deviations = np.where(mask, values - np.where(count > 0, mean, 0.0), 0.0)
    return mean, count, (deviations**2).sum(axis=0)


def _in_out_shift(
    values: np.ndarray,
    ins: np.ndarray,
    mu_in: np.ndarray,
    mu_out: np.ndarray,
    m_in: np.ndarray,
    m_out: np.ndarray,
) -> float:
    """Δ = mean μ_in − μ_out over examples with both kinds, else pooled IN mean − pooled OUT mean.

    The paired form cancels each example's difficulty; the pooled form is
    what is left when no example has both (K = 1), unbiased when the
    reference splits are random.
    """
    both = (m_in > 0) & (m_out > 0)
    if both.any():
        return float(np.mean(mu_in[both] - mu_out[both]))
    return float(values[ins].mean() - values[~ins].mean())


def _pooled_sigmas(
    values: np.ndarray, ss_in: np.ndarray, m_in: np.ndarray, ss_out: np.ndarray, m_out: np.ndarray
) -> tuple[float, float]:
    """Pooled within-example σ_in and σ_out (ddof counted), with the fallbacks of :func:`lira`."""

    def pooled(ss: np.ndarray, m: np.ndarray) -> float | None:
        dof = np.sum(np.maximum(m - 1, 0))
        return float(np.sqrt(ss.sum() / dof)) if dof > 0 else None

    s_in, s_out = pooled(ss_in, m_in), pooled(ss_out, m_out)
    if s_in is None and s_out is None:
        s_in = s_out = float(np.std(values))
    s_in = s_out if s_in is None else s_in
    s_out = s_in if s_out is None else s_out
    return max(s_in, _MIN_SIGMA), max(s_out, _MIN_SIGMA)


def _own_sigma(ss: np.ndarray, m: np.ndarray, pooled: float) -> np.ndarray:
    """Each example's σ (ddof 1) where it has two references or more, else the pooled σ."""
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.sqrt(ss / (m - 1))
    return np.maximum(np.where(m >= 2, own, pooled), _MIN_SIGMA)


# ---------------------------------------------------------------------- RMIA


def rmia(
    target_probs_y: np.ndarray,
    ref_probs_y: np.ndarray,
    ref_in: np.ndarray,
    population_index: np.ndarray,
    *,
    offline: bool,
    a: float = RMIA_OFFLINE_A,
    gamma: float = 1.0,
) -> np.ndarray:
    """RMIA membership scores in [0, 1]: the fraction of population z that x beats.

    Zarifzadeh et al. 2024: for x, LR(x) = Pr(x|θ) / Pr(x),
    where Pr(x|θ) is the target model's probability of x's label
    (``target_probs_y``, ``(N,)``, see :func:`true_label_probability`) and
    Pr(x) its average over reference models (``ref_probs_y``, ``(K, N)``):

    * online: the mean over all K references, IN and OUT (Pr(x) is the
      probability under a model trained on a random half of the
      population, which is what the references are);
    * offline: only OUT references, with the paper's linear approximation
      Pr(x) ≈ ½((1 + a)·Pr_OUT(x) + (1 − a)) (from
      Pr_IN ≈ a·Pr_OUT + (1 − a); default ``a`` :data:`RMIA_OFFLINE_A`).

    The population z are the examples at ``population_index`` (e.g. the
    non-members, or a random subset), with LR(z) computed the same way. The
    score of x is the fraction of z ≠ x with LR(x)/LR(z) ≥ ``gamma`` (the
    paper's score; ml_privacy_meter's ``run_rmia``, modules/mia/attacks/
    rmia.py, counts ``>``, the same on continuous ratios). x is left out of
    its own comparison set: LR(x)/LR(x) = 1 ≥ γ for γ ≤ 1 would give every
    x in the population a free win that the others do not get (the paper's
    code, research/2024_rmia/main.py, also corrects population examples'
    scores, "to avoid overlapping cases"). ``gamma`` defaults to 1,
    ml_privacy_meter's current default; the paper's experiments use 2.
    Pr(x) is a plain mean, as in ml_privacy_meter's current code (the
    paper's code trims 20 % on each side, which needs many references).

    Offline, an example with no OUT reference (K small) gets Pr_OUT from the
    same linear model inverted, Pr_OUT ≈ (Pr_IN − (1 − a)) / a, clipped to
    [0, 1] (ml_privacy_meter does the same when it has one reference model),
    and Pr_OUT = Pr_IN when a = 0, where the model says nothing about it.

    Ratios are compared as log-ratios, sorted once: the count for every x
    is one ``searchsorted`` (O((N + Z) log Z)), never an N × Z matrix.
    Probabilities are floored at the smallest normal float before their log,
    so that underflowed ones give finite ratios.
    """
    target = _probabilities(target_probs_y, "target_probs_y", ndim=1)
    probs, ins = _reference_arrays(ref_probs_y, ref_in, len(target), "ref_probs_y")
    _probabilities(probs, "ref_probs_y", ndim=2)
    if not 0 <= a <= 1:
        raise ValueError(f"a must be in [0, 1], got {a}")
    if not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be positive and finite, got {gamma}")
    population = _population(population_index, len(target))

    prob_x = _rmia_reference_probability(probs, ins, offline, a)
    log_ratio = np.log(np.maximum(target, _TINY)) - np.log(np.maximum(prob_x, _TINY))

    # LR(x)/LR(z) ≥ γ  ⇔  log LR(z) ≤ log LR(x) − log γ.
    threshold = log_ratio - np.log(gamma)
    z_sorted = np.sort(log_ratio[population])
    wins = np.searchsorted(z_sorted, threshold, side="right").astype(np.float64)
    size = np.full(len(target), float(len(population)))
    # The same comparison, x against itself, is what searchsorted counted for x.
    self_win = log_ratio[population] <= threshold[population]
    wins[population] -= self_win.astype(np.float64)
    size[population] -= 1
    return wins / size


def _rmia_reference_probability(probs: np.ndarray, ins: np.ndarray, offline: bool, a: float) -> np.ndarray:
    """Pr(x) from the references: online mean of all, offline the linear approximation on OUT."""
    if not offline:
        return probs.mean(axis=0)
    outs = ~ins
    m_out = outs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_out = np.where(outs, probs, 0.0).sum(axis=0) / m_out
        p_in = np.where(ins, probs, 0.0).sum(axis=0) / ins.sum(axis=0)
        inverted = np.clip((p_in - (1 - a)) / a, 0.0, 1.0) if a > 0 else p_in
    p_out = np.where(m_out > 0, p_out, inverted)
    return 0.5 * ((1 + a) * p_out + (1 - a))


def _population(population_index: np.ndarray, n: int) -> np.ndarray:
    """Distinct example indices, at least two (x is left out of its own set)."""
    index = np.asarray(population_index)
    if index.dtype == bool:
        raise ValueError("population_index takes indices, not a boolean mask (use np.flatnonzero(mask))")
    if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"population_index must be a 1-d array of integers, got {index.dtype} {index.shape}")
    if len(index) < 2:
        raise ValueError(f"RMIA needs at least 2 population examples, got {len(index)}")
    if index.min() < 0 or index.max() >= n:
        raise ValueError(f"population_index must lie in [0, {n}), got [{index.min()}, {index.max()}]")
    if len(np.unique(index)) != len(index):
        raise ValueError("population_index has repeated indices")
    return index


# ---------------------------------------------------------------- validation


def _logits_and_labels(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if z.ndim not in (2, 3):
        raise ValueError(f"logits must be (N, C) or (K, N, C), got shape {z.shape}")
    if z.shape[-1] < 2:
        raise ValueError(f"logits need at least 2 classes, got {z.shape[-1]}")
    if y.ndim != 1 or y.shape[0] != z.shape[-2]:
        raise ValueError(f"labels must be (N,) with N = {z.shape[-2]}, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= z.shape[-1]):
        raise ValueError(f"labels must lie in [0, {z.shape[-1]})")
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite")
    return z, y


def _finite(values: np.ndarray, name: str, ndim: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array


def _probabilities(values: np.ndarray, name: str, ndim: int) -> np.ndarray:
    array = _finite(values, name, ndim)
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError(f"{name} must be probabilities in [0, 1]")
    return array


def _reference_arrays(
    values: np.ndarray, ref_in: np.ndarray, n: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    array = _finite(values, name, ndim=2)
    ins = np.asarray(ref_in)
    if ins.dtype != bool:
        raise ValueError(f"ref_in must be boolean, got {ins.dtype}")
    if array.shape[0] < 1 or array.shape[1] != n or ins.shape != array.shape:
        raise ValueError(
            f"{name} and ref_in must both be (K, N) with K >= 1, N = {n}; got {array.shape} and {ins.shape}"
        )
    return array, ins
