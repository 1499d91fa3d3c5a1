"""LiRA's membership scores from a statistic of each example on the target and on reference models:
Carlini, Chien, Nasr, Song, Terzis & Tramèr, "Membership Inference Attacks From First
Principles", IEEE S&P 2022 (arXiv:2112.03570). Shapes and conventions:
:mod:`privacy_checks.attack.reference_inputs`."""

from __future__ import annotations

import numpy as np
from scipy import stats

from privacy_checks.attack.reference_inputs import finite, reference_arrays


#: Smallest standard deviation a Gaussian fit may have: reference statistics
#: that are all equal would otherwise give 0 and infinite (then NaN) scores.
_MIN_SIGMA = 1e-8


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
    phi = finite(target_stat, "target_stat", ndim=1)
    stats_, ins = reference_arrays(ref_stats, ref_in, len(phi), "ref_stats")
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
