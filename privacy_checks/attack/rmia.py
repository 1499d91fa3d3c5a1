"""RMIA's membership scores from each example's true-label probability on the target and on reference
models: Zarifzadeh, Liu, Shokri & Shokri, "Low-Cost High-Power Membership Inference Attacks",
ICML 2024 (arXiv:2312.03262). Shapes and conventions: :mod:`privacy_checks.attack.reference_inputs`."""

from __future__ import annotations

import numpy as np

from privacy_checks.attack.reference_inputs import probabilities, reference_arrays


#: RMIA's offline coefficient: Pr_IN(x) ≈ a·Pr_OUT(x) + (1 − a). 0.3 is the
#: value the paper's code uses for CIFAR-10 and CINIC-10
#: (privacytrustlab/ml_privacy_meter, research/2024_rmia/attack_configs at
#: d327341: 0.6 for CIFAR-100, 0.2 for Purchase-100) and the default of
#: ml_privacy_meter's ``get_out_ref_signals``. Both tune it per dataset by
#: attacking one reference model with the others (``tune_offline_a``).
RMIA_OFFLINE_A = 0.3


#: Probabilities are floored here before their logarithm, so that a
#: probability that underflowed to 0 gives a finite log-ratio instead of NaN.
_TINY = np.finfo(np.float64).tiny


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
    target = probabilities(target_probs_y, "target_probs_y", ndim=1)
    probs, ins = reference_arrays(ref_probs_y, ref_in, len(target), "ref_probs_y")
    probabilities(probs, "ref_probs_y", ndim=2)
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
