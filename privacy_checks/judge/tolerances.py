"""How far a metric may rise above its baseline: explicit, calibrated, or the profile's default.

A fixed absolute tolerance is either flaky or blind: the threshold attack's
entire-dataset AUC moves by thousandths from seed to seed, a per-class
logistic-regression AUC by hundredths. The tolerance of each check is
therefore chosen, in this order:

1. **Explicit**: ``--privacy-tolerance`` / ``--privacy-class-tolerance`` or
   their ini twins. A team's decision always wins.
2. **Calibrated**: when the baseline was recorded with ``--privacy-calibrate N``
   it holds, per entry and metric, the standard deviation of the metric over N
   seeds. A seed changes the initialisation, the batch order and the attacks'
   own randomness, but not the members (:meth:`Profile.with_seed`): a team's
   data is fixed, and what varies between two runs of its suite is training.
   The noise of one check is the seed spread pooled over its group — all
   entries of the same model, attack, metric and slice kind (entire dataset,
   or any class); pooling over report epochs and classes turns N - 1 degrees
   of freedom per entry into dozens. A class slice whose report epoch is
   noisier than that pool (early epochs are) takes its epoch's own pool over
   the classes instead (:func:`spread_of`). The baseline and the new run are both one
   draw, so their difference has sd sqrt(2) sigma, and the tolerance is

       tolerance = max(floor, q * sqrt(2) * sigma),  q = Student's t quantile at the
                   one-sided level of Z = family_z(metric checks) >= 4, with the
                   pool's degrees of freedom (entries x (seeds - 1))

   sigma is estimated from a few seeds, so the difference over the estimate
   follows Student's t, not the normal: with 5 seeds and 6 report epochs (24
   degrees of freedom) its 2e-5 quantile is 5.00, not 4.10. Even that treats
   the pooled entries as independent, which the epochs of one training are
   not: on the default profile the 5-seed spreads of the 3-layer model's
   entire-dataset checks were up to 1.6 times below the spread of 50 seeds.
   With normal quantiles, 4 of 50 harmless seeds failed a check; with
   Student's, 1 (docs/detection-power.md). More calibration seeds buy
   tighter tolerances: 10 seeds (54 degrees of freedom) give 4.46.

   Baseline and run measure the *same* members and non-members, so the
   evaluation set's own sampling noise — what the bootstrap interval of
   :mod:`privacy_checks.attack.metrics` estimates — is common to both and cancels.
   It enters only when the run's member split differs from the baseline's
   (another ``split_seed``): then sigma^2 = seed spread^2 + bootstrap sd^2.

   Z is Bonferroni over the run's metric checks (:func:`family_z`): each
   check's one-sided error is at most 5 % / checks, so a run with only a new
   seed fails in at most about 5 % of cases if the checks were independent,
   and less since they are positively correlated; Z is never below 4 (a
   one-sided 4-sigma excursion, 3.2e-5). The default profile's 2,376 metric
   checks give Z = 4.10. The floor is one example's worth of
   resolution: 0.005 for AUC, and 1 / members of the slice (at least 0.005)
   for advantage and TPR, which move in steps of one member.
3. **The profile's default** otherwise (uncalibrated baselines, e.g. the
   CIFAR-10 profiles, whose calibration costs N full trainings).

TPR at a low FPR is not a smooth metric but a count: the members an attack
catches above a threshold that lets through at most ``FPR x non-members``
false positives (1.6 of 1,597 at 0.1 %), divided by the slice's members. It
is skewed, floored at zero and moves in whole members, so a Gaussian sd
pooled from five seeds does not bound it: baselines of 0 against a new run's
5 of 200 members (or 5 of a class's 20) failed on harmless seed changes. Its
tolerance (rules 2 and 3) is therefore never below what the counts
themselves allow: baseline and run are treated as two counts of caught
members, compared with the exact conditional test for two Poisson rates
(given k0 + k1 caught in all, the run's share is binomial with p = n1 / (n0
+ n1); Przyborowski and Wilenski 1940), with their variance scaled by the
dispersion ``phi`` the calibration seeds show beyond Poisson's (quasi-
Poisson; 1 without calibration). The tolerance is the rise to the smallest
count this test rejects at the same one-sided level as the 4-sigma rule
(:data:`CHECK_ALPHA`). From a baseline of 0 that is 15 members of 200
(phi = 1): a slice with 20 members cannot show a rise of TPR at 0.1 % FPR
short of 75 %, and the report says so rather than crying wolf.

What a pass rules out
---------------------
A check regresses when obtained > baseline + tolerance. A true rise ``delta``
of the metric moves the run's value to baseline + delta + noise, where the
noise of the difference of two runs has sd sqrt(2) sigma; the check catches
it with probability at least :data:`POWER` (80 %) when

    delta >= tolerance + z_0.8 * sqrt(2) * sigma,   z_0.8 = 0.8416

(:func:`detectable_rise`). A pass therefore rules out, at 80 % power, rises
larger than that. Where no sigma is known (explicit and profile tolerances,
and count tolerances raised from a profile default) the detectable rise is
the tolerance itself, and only a lower bound: the true one is larger by the
unknown noise term (:func:`detectable_rise_basis` says which).
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from privacy_checks.attack.metrics import interval_sd
from privacy_checks.judge.verdicts import FROM_NOISE, LOWER_BOUND, MetricTolerance
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import ENTIRE_DATASET, metric_fpr

if TYPE_CHECKING:
    from privacy_checks.judge.baselines import Entry


Z = 4.0
FLOOR = 0.005
#: The one-sided error of one metric check: a 4-sigma excursion (3.2e-5).
CHECK_ALPHA = NormalDist().cdf(-Z)
#: The false alarms one run's baseline checks may cost together, at most: one run
#: in twenty if the checks were independent (they are positively correlated, so fewer).
FAMILY_BUDGET = 0.05


def family_z(metric_checks: int) -> float:
    """The calibrated rule's Z for a run of ``metric_checks`` metric checks: Bonferroni.

    Each check's one-sided error is at most :data:`FAMILY_BUDGET` /
    ``metric_checks``, and Z never drops below :data:`Z`. More attacks (or
    slices, epochs, FPRs) mean more comparisons per run; a fixed Z would let
    the run's false-alarm rate grow with them. The default profile's 2,376
    metric checks (594 baseline cases x 4 metrics) give Z = 4.10; its 1,680 before the
    reference-model attack gave 4.01.
    """
    return max(Z, NormalDist().inv_cdf(1 - FAMILY_BUDGET / max(1, metric_checks)))

#: The probability with which a rise of :func:`detectable_rise` is caught, and its normal quantile.
POWER = 0.8
Z_POWER = NormalDist().inv_cdf(POWER)

#: Where a tolerance came from; ``counts``: the Poisson count test of a TPR
#: allowed more than the calibrated or profile rule would have.
EXPLICIT, CALIBRATED, PROFILE, COUNTS = "explicit", "calibrated", "profile", "counts"


def option_key(metric: str) -> str:
    """The name a tolerance option uses for a metric: every TPR shares ``tpr``."""
    return "tpr" if metric_fpr(metric) is not None else metric


def slice_kind(slice_name: str) -> str:
    return ENTIRE_DATASET if slice_name == ENTIRE_DATASET else "class"


def pooled(spreads: Iterable[float]) -> float | None:
    """Root mean square of per-entry standard deviations (pooled variance)."""
    values = list(spreads)
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else None


class Spread(NamedTuple):
    """A pooled seed sd and how many entries' spreads it pools (each has seeds - 1 degrees of freedom)."""

    sd: float
    entries: int

    def df(self, seeds: int) -> int:
        """Its degrees of freedom, counting the pooled entries as independent (:func:`calibrated`)."""
        return self.entries * max(1, seeds - 1)


def pooled_spreads(entries: Iterable["Entry"]) -> dict[tuple, Spread]:
    """Pooled seed sd per (attack, slice kind, metric) of one baseline's entries, and per
    (attack, "class", metric, epoch): the class slices of one report epoch (:func:`spread_of`)."""
    groups: dict[tuple, list[float]] = {}
    for entry in entries:
        kind = slice_kind(entry.slice)
        for metric, sd in entry.seed_sd.items():
            groups.setdefault((entry.attack, kind, metric), []).append(sd)
            if kind != ENTIRE_DATASET:
                groups.setdefault((entry.attack, kind, metric, entry.epoch), []).append(sd)
    return {group: Spread(pooled(values), len(values)) for group, values in groups.items()}


def spread_of(spreads: Mapping[tuple, Spread], attack: str, slice_name: str, metric: str, epoch: int) -> Spread | None:
    """The seed spread a check's tolerance rests on: its group's, pooled over report epochs; for a
    class slice, that epoch's own pool over the classes where it is larger.

    Pooling over epochs turns 4 degrees of freedom per entry into dozens, but it averages
    epochs whose noise differs: on the committed ``digits`` baselines the class slices'
    seed sd at epoch 10 is up to 1.2-1.6 times the pool (threshold AUC: 0.038 against 0.026
    at epochs 50-200), and both false alarms of six holdout seeds fell there. One epoch's
    class slices still pool 10 classes x (seeds - 1) degrees of freedom; an entire-dataset
    entry alone has 4, too few to trust above the pool, so it keeps the pool.
    """
    across = spreads.get((attack, slice_kind(slice_name), metric))
    if across is None or slice_kind(slice_name) == ENTIRE_DATASET:
        return across
    own = spreads.get((attack, slice_kind(slice_name), metric, epoch))
    return across if own is None or own.sd <= across.sd else own


def floor(metric: str, members: int) -> float:
    if metric == "auc" or members <= 0:
        return FLOOR
    return max(FLOOR, 1.0 / members)


def quantile(z: float, df: int | None) -> float:
    """The multiple of sqrt(2) sigma a calibrated tolerance uses: ``z``'s one-sided level, from
    Student's t with the spread's ``df`` (None: sigma known, the normal ``z`` itself)."""
    if df is None:
        return z
    from scipy import stats

    return float(stats.t.isf(NormalDist().cdf(-z), df))


def calibrated(
    metric: str,
    pooled_seed_sd: float,
    interval: Sequence[float] | None,
    members: int,
    z: float = Z,
    df: int | None = None,
) -> MetricTolerance:
    """The calibrated tolerance (rule 2 above); pass ``interval`` only when the splits differ,
    and ``df`` (the spread's degrees of freedom) for Student's quantile instead of ``z``."""
    bootstrap = interval_sd(interval) if interval is not None else 0.0
    sigma = math.hypot(pooled_seed_sd, bootstrap)
    return MetricTolerance(max(floor(metric, members), quantile(z, df) * math.sqrt(2) * sigma), CALIBRATED, sigma)


def count_p_value(k0: float, n0: int, k1, n1: int, dispersion: float = 1.0):
    """One-sided p-value that a run catching ``k1`` of ``n1`` members leaks more than a
    baseline catching ``k0`` of ``n0``: the exact conditional test of two Poisson rates,
    with both counts divided by ``dispersion`` (quasi-Poisson). ``k1`` may be an array."""
    from scipy import special

    k1 = np.asarray(k1, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        p = special.betainc(np.maximum(k1, 1e-12) / dispersion, k0 / dispersion + 1, n1 / (n0 + n1))
    p = np.where(k1 > 0, p, 1.0)
    return float(p) if p.ndim == 0 else p


def count_tolerance(
    baseline: float,
    members: int,
    baseline_members: int | None = None,
    dispersion: float = 1.0,
    alpha: float = CHECK_ALPHA,
) -> float:
    """How far a TPR may rise above ``baseline`` before its count is a significant rise.

    ``members`` and ``baseline_members`` are the slice's members in the run and
    in the baseline (the same unless the member set changed). The rise is to
    half a member below the smallest count that :func:`count_p_value` rejects
    at ``alpha`` (default :data:`CHECK_ALPHA`), so that count fails and the one below passes; 1 -
    ``baseline`` (nothing can fail) when no count of ``members`` is enough.
    """
    n1 = int(members)
    n0 = int(baseline_members or members)
    if n1 <= 0 or n0 <= 0:
        return FLOOR
    k0 = round(max(0.0, baseline) * n0)
    p = count_p_value(k0, n0, np.arange(n1 + 1), n1, dispersion)
    significant = np.flatnonzero(p < alpha)
    if not significant.size:
        return 1.0 - baseline
    return max(FLOOR, (significant[0] - 0.5) / n1 - baseline)


def dispersion(values: Mapping[str, float], spreads: Mapping[str, float], members: int) -> float:
    """Pooled variance over Poisson variance of a TPR's counts across calibration seeds (>= 1).

    ``values`` and ``spreads``: the baseline's TPRs and their seed sds over the
    entries of one group, by entry; ``members``: the slice's members (the
    group's slices are all entire-dataset or all classes of one stratified split).
    """
    variance = sum((spreads[key] * members) ** 2 for key in spreads)
    expected = sum(max(values[key] * members, 1.0) for key in spreads)
    return max(1.0, variance / expected) if expected else 1.0


def detectable_rise(tolerance: MetricTolerance) -> float:
    """The smallest true rise of the metric its check catches with probability :data:`POWER`.

    A check regresses when obtained > baseline + tolerance; baseline and run
    are two draws of noise sd ``sigma``, so their difference has sd sqrt(2)
    sigma, and a true rise ``delta`` is caught with probability >= 80 % when
    ``delta >= tolerance + z_0.8 * sqrt(2) * sigma`` (z_0.8 = 0.8416). Without
    a sigma (explicit or profile tolerances, or a count tolerance raised from
    a profile default) it is the tolerance itself, a lower bound
    (:func:`detectable_rise_basis` is then :data:`LOWER_BOUND`).
    """
    if tolerance.sigma is None:
        return tolerance.value
    return tolerance.value + Z_POWER * math.sqrt(2) * tolerance.sigma


def detectable_rise_basis(tolerance: MetricTolerance) -> str:
    """:data:`FROM_NOISE` when :func:`detectable_rise` is exact, :data:`LOWER_BOUND` when only a bound."""
    return LOWER_BOUND if tolerance.sigma is None else FROM_NOISE


def choose(
    metric: str,
    explicit: Mapping[str, float],
    pooled_seed_sd: float | None,
    interval: Sequence[float] | None,
    members: int,
    default: float,
    baseline: float | None = None,
    baseline_members: int | None = None,
    count_dispersion: float = 1.0,
    z: float = Z,
    df: int | None = None,
) -> MetricTolerance:
    """Explicit over calibrated over the profile's default; a TPR's never below its counts'.

    ``baseline``, ``baseline_members`` and ``count_dispersion`` feed
    :func:`count_tolerance` for TPR metrics (without a baseline there is no count to test).
    ``z``: the run's :func:`family_z`; the count test uses the same one-sided level.
    ``df``: the degrees of freedom of ``pooled_seed_sd`` (:func:`calibrated`).
    """
    key = option_key(metric)
    if key in explicit:
        return MetricTolerance(float(explicit[key]), EXPLICIT)
    if pooled_seed_sd is not None:
        chosen = calibrated(metric, pooled_seed_sd, interval, members, z, df)
    else:
        chosen = MetricTolerance(default, PROFILE)
    if metric_fpr(metric) is None or baseline is None:
        return chosen
    counted = count_tolerance(baseline, members, baseline_members, count_dispersion, NormalDist().cdf(-z))
    return dataclasses.replace(chosen, value=counted, source=COUNTS) if counted > chosen.value else chosen


def defaults(profile: Profile, slice_name: str) -> dict[str, MetricTolerance]:
    """The profile's fixed tolerance for every metric it checks on ``slice_name``."""
    fixed = profile.tolerance_for(slice_name)
    return {metric: MetricTolerance(fixed.for_metric(metric), PROFILE) for metric in profile.metrics}
