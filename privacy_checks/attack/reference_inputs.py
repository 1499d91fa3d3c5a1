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

These modules (this one, :mod:`~privacy_checks.attack.lira`, :mod:`~privacy_checks.attack.rmia`)
hold only their math, on NumPy arrays, so that it imports in
well under a second and runs in worker processes without TensorFlow. Every
score it returns is one number per example and **higher means more likely a
member**, so the ROC code in :mod:`privacy_checks.attack.metrics` takes it as is.

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
from scipy import special


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


def finite(values: np.ndarray, name: str, ndim: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array


def probabilities(values: np.ndarray, name: str, ndim: int) -> np.ndarray:
    array = finite(values, name, ndim)
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError(f"{name} must be probabilities in [0, 1]")
    return array


def reference_arrays(
    values: np.ndarray, ref_in: np.ndarray, n: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    array = finite(values, name, ndim=2)
    ins = np.asarray(ref_in)
    if ins.dtype != bool:
        raise ValueError(f"ref_in must be boolean, got {ins.dtype}")
    if array.shape[0] < 1 or array.shape[1] != n or ins.shape != array.shape:
        raise ValueError(
            f"{name} and ref_in must both be (K, N) with K >= 1, N = {n}; got {array.shape} and {ins.shape}"
        )
    return array, ins
