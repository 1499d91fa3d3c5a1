"""Differential privacy on both sides: the accountant's epsilon and a measured lower bound.

A model trained with DP-SGD comes with an upper bound on its privacy loss,
computed by TF Privacy's RDP accountant from the noise, the sampling rate and
the number of steps. A membership inference attack gives a *lower* bound: no
(epsilon, delta)-DP training lets any attacker reach a true-positive rate above
``exp(epsilon) * FPR + delta``. A measured lower bound above the accountant's
epsilon is therefore proof that the DP training is broken (noise or clipping
off, a loss that is not per example, wrong accounting), never bad luck, up to
the stated confidence.

This module imports TF Privacy's pieces lazily; it is pure computation.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from privacy_checks.spec.cases import STATISTICAL_GUARANTEES, cases
from privacy_checks.spec.model_spec import DPSGD, ModelSpec
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import DEFAULT_DELTA

#: Significance of a lower bound computed on its own (the checks use
#: :func:`guarantee_alpha`, far stricter).
ALPHA = 0.05

#: The RDP orders TF Privacy's ``compute_dp_sgd_privacy`` searches.
_RDP_ORDERS = (
    [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5] + list(range(5, 64)) + [128, 256, 512]
)


def steps(members: int, batch_size: int, epochs: int) -> int:
    return int(math.ceil(epochs * members / batch_size))


@functools.lru_cache(maxsize=None)
def epsilon(dp: DPSGD, members: int, batch_size: int, epochs: int) -> float:
    """The accountant's epsilon after ``epochs`` epochs, at the profile's delta.

    The same computation as TF Privacy's ``compute_dp_sgd_privacy`` (RDP
    accountant, Poisson-sampled Gaussian mechanism, q = batch / members), done
    through ``dp_accounting`` directly as TF Privacy recommends. Like every
    DP-SGD report made this way it assumes Poisson sampling, while Keras draws
    shuffled fixed-size batches; see "How to DP-fy ML" (Ponomareva et al.,
    2023, sec. 5.6) for why this is the common, slightly optimistic, convention.
    """
    import dp_accounting

    accountant = dp_accounting.rdp.RdpAccountant(_RDP_ORDERS)
    accountant.compose(
        dp_accounting.SelfComposedDpEvent(
            dp_accounting.PoissonSampledDpEvent(
                sampling_probability=batch_size / members,
                event=dp_accounting.GaussianDpEvent(dp.noise_multiplier),
            ),
            steps(members, batch_size, epochs),
        )
    )
    return float(accountant.get_epsilon(dp.delta))


#: How far the accountant's epsilon may rise above its baseline's before the check fails,
#: relative: room for accountant releases and rounding (dp-accounting 0.4.3, which TF
#: Privacy pins, and 0.6 agree on the default DP model to the last digit), not for a
#: weaker training: 1 % less noise already moves it by 1.2 % (7.227 -> 7.314 at epoch 200).
EPSILON_RISE = 0.01

#: Above this epsilon a DP guarantee says little: the convention of "How to DP-fy ML"
#: (Ponomareva et al., JAIR 2023, arXiv:2303.00654), whose tiers are epsilon <= 1
#: (strong formal guarantees), <= 10 (reasonable) and > 10 (weak to none: what the
#: training's noise happens to give, not a guarantee worth stating). Such a model
#: passes with a note in the summary and the report.
MEANINGFUL_EPSILON = 10.0

#: Family-wise error of all DP guarantee checks of one run together: "broken" is a
#: proof claim, so it may be wrong in at most one run in a thousand.
FAMILY_ALPHA = 0.001

#: The share of each side's scores that chooses the threshold; the rest estimates.
SELECTION_SHARE = 0.3
#: Independent choose/estimate splits whose median bound is reported (odd).
SPLITS = 9
#: Thresholds tried on the selection part at most (its score quantiles).
MAX_THRESHOLDS = 1000


def guarantee_checks(profile: Profile) -> int:
    """How many statistical DP guarantee checks a profile makes: the epsilon bounds and the AUC
    comparisons (the accountant checks are exact and spend none of the budget)."""
    return sum(1 for case in cases(profile) if case.check in STATISTICAL_GUARANTEES)


def guarantee_alpha(profile: Profile) -> float:
    """The error each guarantee check of ``profile`` may have: :data:`FAMILY_ALPHA`
    split evenly (Bonferroni) over :func:`guarantee_checks`, at least one."""
    return FAMILY_ALPHA / max(1, guarantee_checks(profile))


def bound_delta(model: ModelSpec) -> float:
    """The delta an epsilon lower bound of ``model`` is stated at: its DP delta, else the default."""
    return model.dp.delta if model.dp is not None else DEFAULT_DELTA


def epsilon_lower_bound(
    scores_members: np.ndarray | None,
    scores_non_members: np.ndarray | None,
    alpha: float = ALPHA,
    delta: float = 0.0,
    seed: int = 0,
) -> float | None:
    """The largest epsilon an attack's membership scores prove, with 1 - ``alpha`` confidence.

    (epsilon, delta)-DP bounds every test that tells members from non-members:
    ``TPR <= exp(epsilon) * FPR + delta`` and ``TNR <= exp(epsilon) * FNR + delta``,
    and the same with members and non-members swapped (Kairouz et al. 2015;
    Jagielski, Ullman and Oprea, NeurIPS 2020). A lower confidence bound on the
    numerator rate and an upper one on the denominator rate (Clopper-Pearson,
    ``alpha / 2`` each, so both hold together with 1 - ``alpha``) therefore give
    ``epsilon >= log((numerator_low - delta) / denominator_high)``.

    That holds for *one* threshold fixed in advance. Taking the best of many
    thresholds on the same scores (what TF Privacy's ``EpsilonLowerBound`` and
    this function's earlier version did) is a maximum over many 95 % bounds,
    which is not a 95 % bound: on two identical score distributions it
    "proves" epsilon > 0 in about a quarter of runs (``tests/test_accounting.py``).
    Following Nasr et al. ("Tight Auditing of Differentially Private Machine
    Learning", USENIX Security 2023), the choice is separated from the
    estimate: a seeded 30 % of each side's scores chooses the threshold and
    which of the four ratios to bound (the one whose bound, projected to the
    other part's size, is largest), and only the other 70 %'s counts at that
    single threshold enter the bound.

    One split is luck: on the same scores, bounds from different splits
    ranged over a factor of four. The result is therefore the median of
    :data:`SPLITS` splits, each computed at ``alpha * (SPLITS + 1) / (2 *
    SPLITS)``: the median exceeds the true epsilon only if at least (SPLITS + 1)
    / 2 of the bounds do, and by Markov's inequality that happens with
    probability at most SPLITS * alpha' / ((SPLITS + 1) / 2) = ``alpha``.

    What it assumes: the membership guesses on different examples count as
    independent trials of one mechanism, which is what one-run auditing
    (Steinke, Nasr and Jagielski, NeurIPS 2023) justifies when examples are
    included in training independently at random. Here the member split is a
    seeded, stratified draw of a fixed size, close to but not exactly that;
    the bound is evidence about this training run, not about all runs.

    Returns None without scores, 0.0 when the scores prove nothing.
    """
    if scores_members is None or scores_non_members is None:
        return None
    members = np.asarray(scores_members, dtype=np.float64).ravel()
    non_members = np.asarray(scores_non_members, dtype=np.float64).ravel()
    if not len(members) or not len(non_members):
        return None
    if len(members) < 2 or len(non_members) < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    per_split = alpha * (SPLITS + 1) / (2 * SPLITS)
    bounds = [_split_bound(rng, members, non_members, per_split, delta) for _ in range(SPLITS)]
    return float(np.median(bounds))


def _split_bound(
    rng: np.random.Generator, members: np.ndarray, non_members: np.ndarray, alpha: float, delta: float
) -> float:
    """One choose/estimate split: the bound at the threshold and ratio the selection part picked."""
    choose_in, estimate_in = _parts(rng, members)
    choose_out, estimate_out = _parts(rng, non_members)
    pooled = np.concatenate([choose_in, choose_out])
    thresholds = np.unique(np.quantile(pooled, np.linspace(0, 1, MAX_THRESHOLDS))) if len(
        pooled
    ) > MAX_THRESHOLDS else np.unique(pooled)
    projected = _ratio_bounds(
        choose_in, choose_out, thresholds, alpha, delta, sizes=(len(estimate_in), len(estimate_out))
    )
    ratio, index = np.unravel_index(np.argmax(projected), projected.shape)
    bound = _ratio_bounds(estimate_in, estimate_out, thresholds[index : index + 1], alpha, delta)
    value = bound[ratio, 0]
    return float(max(value, 0.0)) if np.isfinite(value) else 0.0


def _parts(rng: np.random.Generator, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(scores))
    cut = max(1, min(len(scores) - 1, int(round(len(scores) * SELECTION_SHARE))))
    return scores[order[:cut]], scores[order[cut:]]


def _ratio_bounds(
    members: np.ndarray,
    non_members: np.ndarray,
    thresholds: np.ndarray,
    alpha: float,
    delta: float,
    sizes: tuple[int, int] | None = None,
) -> np.ndarray:
    """log((numerator_low - delta) / denominator_high) of the four ratios (rows) at each threshold.

    Rows: TPR / FPR, TNR / FNR (members score high), FPR / TPR, FNR / TNR
    (members score low); a member is guessed when its score is >= the
    threshold. ``sizes``: scale the counts to that many members and
    non-members first (what the bound would be on a part of that size).
    """
    from scipy import stats

    n_in, n_out = len(members), len(non_members)
    tp = n_in - np.searchsorted(np.sort(members), thresholds, side="left").astype(np.float64)
    fp = n_out - np.searchsorted(np.sort(non_members), thresholds, side="left").astype(np.float64)
    if sizes is not None:
        tp, fp = tp * sizes[0] / n_in, fp * sizes[1] / n_out
        n_in, n_out = sizes
    fn, tn = n_in - tp, n_out - fp

    def low(k: np.ndarray, n: int) -> np.ndarray:
        return np.where(k > 0, stats.beta.ppf(alpha / 2, np.maximum(k, 1e-9), n - k + 1), 0.0)

    def high(k: np.ndarray, n: int) -> np.ndarray:
        return np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1e-9)), 1.0)

    pairs = (
        (low(tp, n_in), high(fp, n_out)),
        (low(tn, n_out), high(fn, n_in)),
        (low(fp, n_out), high(tp, n_in)),
        (low(fn, n_in), high(tn, n_out)),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([np.log(np.maximum(num - delta, 0.0) / den) for num, den in pairs])


def variant_label(label: str, dp: DPSGD | None, members: int, batch_size: int, epochs: int) -> str:
    """The plots' model label, with the final epsilon for a DP model: ``2 Layers DP ε=7.2``."""
    if dp is None:
        return label
    return f"{label} ε={epsilon(dp, members, batch_size, epochs):.1f}"
