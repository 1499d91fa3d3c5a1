"""Membership-inference metrics from attack scores: ROC, TPR at low FPR, bootstrap intervals.

TF Privacy reports an attack's AUC and attacker advantage. Both summarise the
whole ROC curve and are dominated by the many examples an attacker cannot
tell apart. Carlini et al., "Membership Inference Attacks From First
Principles" (IEEE S&P 2022), argue that what matters is whether *some*
members can be identified with confidence: the true-positive rate at a low
false-positive rate (0.1 %, 1 %). This module computes that from the same
membership scores TF Privacy's attacks return, and, for every metric, a
bootstrap confidence interval.

The bootstrap resamples members and non-members (with replacement, each side
keeping its size) and reuses the attack's scores: it measures how much a
metric moves because the evaluation set is finite, not how much it moves
when the model or the attack is retrained (that is the seed-to-seed spread
that calibration measures). Scores are sorted once; each resample is a vector
of counts, so a resample costs one cumulative sum instead of a sort.

AUC and TPR at low FPR get percentile intervals. Attacker advantage (in the
attack's direction, :func:`advantage`) does not:
it is a maximum over thresholds, and re-maximising on every resample picks
up the resample's noise, so the replicates sit above the estimate (on a
slice with little signal, often all of them: the interval then excluded the
measured value itself). Its interval resamples TPR - FPR at the threshold
the attack chose on the real scores, which measures the same evaluation-set
noise without that upward bias. The percentile, basic and BCa intervals
cannot help there: each takes its ends from replicates that all lie above
the estimate. Coverage, measured on Gaussian scores with a known shift
(``tests/test_metrics.py``): 200 members, 1,600 non-members, shift 0.5-2:
AUC 93-95 %, advantage 91-92 % (percentile: 80-86 %), TPR at 1 % FPR
95-96 %. With 20 members every interval undercovers (advantage 80-85 %,
TPR at 1 % FPR as low as 47 %): a 20-member slice resolves little.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from privacy_checks.spec.vocabulary import tpr_metric


#: Resamples per interval: enough for a 95 % percentile interval to be stable to
#: about a tenth of its width, cheap enough to run on every slice.
BOOTSTRAP_RESAMPLES = 200
CONFIDENCE = 0.95
_CHUNK = 25  # resamples per vectorised block: bounds memory on 60,000-example slices

AUC, ADVANTAGE = "auc", "attacker_advantage"


def roc_points(scores_in: np.ndarray, scores_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) at every distinct threshold, members positive, higher score = member.

    Unlike scikit-learn's default, no collinear point is dropped, so that the
    TPR at a given FPR is read from the full curve.
    """
    curves = _Curves(scores_in, scores_out)
    fpr, tpr = curves(np.ones((1, curves.n_in), np.int64), np.ones((1, curves.n_out), np.int64))
    return fpr[0], tpr[0]


class _Curves:
    """ROC curves of weighted samples of fixed scores, sorted once."""

    def __init__(self, scores_in: np.ndarray, scores_out: np.ndarray) -> None:
        self.n_in, self.n_out = len(scores_in), len(scores_out)
        scores = np.concatenate([np.asarray(scores_in, float), np.asarray(scores_out, float)])
        order = np.argsort(-scores, kind="stable")
        self.last_of_tie = np.r_[np.flatnonzero(np.diff(scores[order])), len(scores) - 1]
        is_member = order < self.n_in
        self.member_rank = order[is_member]  # example index, in score order
        self.non_member_rank = order[~is_member] - self.n_in
        self.is_member = is_member

    def __call__(self, counts_in: np.ndarray, counts_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One row of (fpr, tpr) per row of resample counts."""
        rows = len(counts_in)
        positives = np.zeros((rows, len(self.is_member)), np.int64)
        negatives = np.zeros_like(positives)
        positives[:, self.is_member] = counts_in[:, self.member_rank]
        negatives[:, ~self.is_member] = counts_out[:, self.non_member_rank]
        tp = np.cumsum(positives, axis=1)[:, self.last_of_tie]
        fp = np.cumsum(negatives, axis=1)[:, self.last_of_tie]
        start = np.zeros((rows, 1))
        tpr = np.concatenate([start, tp / counts_in.sum(axis=1, keepdims=True)], axis=1)
        fpr = np.concatenate([start, fp / counts_out.sum(axis=1, keepdims=True)], axis=1)
        return fpr, tpr


def _metrics(fpr: np.ndarray, tpr: np.ndarray, fprs: Sequence[float]) -> dict[str, np.ndarray]:
    """AUC, attacker advantage and TPR at each FPR, per row of curves."""
    found = {
        # Trapezoids: ties between a member and a non-member count one half, as in
        # scikit-learn's roc_auc_score and TF Privacy's RocCurve.get_auc.
        AUC: np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1),
        # In the attack's own direction (members score higher): max TPR - FPR over
        # thresholds (:func:`advantage`); TF Privacy's max |TPR - FPR| is two-sided.
        ADVANTAGE: np.max(tpr - fpr, axis=1),
    }
    for target in fprs:
        # The best TPR among thresholds whose FPR does not exceed the target (a
        # threshold is chosen, not interpolated between two).
        allowed = np.where(fpr <= target + 1e-12, tpr, 0.0)
        found[tpr_metric(target)] = allowed.max(axis=1)
    return found


def advantage(tpr: np.ndarray, fpr: np.ndarray) -> float:
    """Attacker advantage in the attack's own direction: max over thresholds of TPR - FPR, >= 0.

    TF Privacy reports max |TPR - FPR|, which also counts an attack whose scores
    rank members *below* non-members (AUC < 0.5): on a 20-member class slice the
    trained attacks do that often by chance (144 of the default run's 594 results
    had a larger advantage below the diagonal than above it, up to 0.59), and a
    regression gate that read that as leakage cried wolf (RMIA on a class slice with
    AUC 0.285 and "advantage" 0.467 against a baseline of 0.113). The attacks'
    direction is fixed (a higher score means member), so the gate judges
    TPR - FPR; the two-sided number stays in results.json, as the codelab's.
    """
    return float(max(0.0, np.max(np.asarray(tpr) - np.asarray(fpr))))


def point_metrics(
    scores_in: np.ndarray, scores_out: np.ndarray, fprs: Sequence[float]
) -> dict[str, float]:
    """AUC, attacker advantage and TPR at each of ``fprs``, from one attack's scores."""
    fpr, tpr = roc_points(scores_in, scores_out)
    return {name: float(values[0]) for name, values in _metrics(fpr[None], tpr[None], fprs).items()}


def tpr_at_fprs(
    scores_in: np.ndarray, scores_out: np.ndarray, fprs: Sequence[float]
) -> dict[str, float]:
    """Only the TPR metrics (AUC and advantage come from TF Privacy's own curve)."""
    found = point_metrics(scores_in, scores_out, fprs)
    return {tpr_metric(fpr): found[tpr_metric(fpr)] for fpr in fprs}


def bootstrap_intervals(
    scores_in: np.ndarray,
    scores_out: np.ndarray,
    fprs: Sequence[float],
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> dict[str, tuple[float, float]]:
    """Bootstrap interval of every metric, members and non-members resampled apart.

    Percentile intervals, except attacker advantage: resampled at the
    threshold chosen on the real scores (see the module's docstring).
    """
    rng = np.random.default_rng(seed)
    curves = _Curves(scores_in, scores_out)
    fpr, tpr = curves(np.ones((1, curves.n_in), np.int64), np.ones((1, curves.n_out), np.int64))
    chosen = int(np.argmax(tpr[0] - fpr[0]))  # the attack's advantage threshold
    samples: dict[str, list[np.ndarray]] = {}
    for start in range(0, resamples, _CHUNK):
        block = min(_CHUNK, resamples - start)
        counts_in = _resample_counts(rng, curves.n_in, block)
        counts_out = _resample_counts(rng, curves.n_out, block)
        fpr, tpr = curves(counts_in, counts_out)
        found = _metrics(fpr, tpr, fprs)
        found[ADVANTAGE] = tpr[:, chosen] - fpr[:, chosen]
        for name, values in found.items():
            samples.setdefault(name, []).append(values)
    tail = (1 - confidence) / 2 * 100
    return {
        name: (
            float(np.percentile(np.concatenate(values), tail)),
            float(np.percentile(np.concatenate(values), 100 - tail)),
        )
        for name, values in samples.items()
    }


def _resample_counts(rng: np.random.Generator, n: int, rows: int) -> np.ndarray:
    """How often each of ``n`` examples is drawn, for ``rows`` resamples of size ``n``."""
    drawn = rng.integers(0, n, size=(rows, n)) + np.arange(rows)[:, None] * n
    return np.bincount(drawn.ravel(), minlength=rows * n).reshape(rows, n)


def interval_sd(interval: Sequence[float], confidence: float = CONFIDENCE) -> float:
    """The standard deviation a normal distribution with this central interval has."""
    z = _normal_quantile(0.5 + confidence / 2)
    return (float(interval[1]) - float(interval[0])) / (2 * z)


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)
