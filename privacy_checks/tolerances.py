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
   of freedom per entry into dozens. The baseline and the new run are both one
   draw, so their difference has sd sqrt(2) sigma, and the tolerance is

       tolerance = max(floor, Z * sqrt(2) * sigma),  Z = 4

   Baseline and run measure the *same* members and non-members, so the
   evaluation set's own sampling noise — what the bootstrap interval of
   :mod:`privacy_checks.metrics` estimates — is common to both and cancels.
   It enters only when the run's member split differs from the baseline's
   (another ``split_seed``): then sigma^2 = seed spread^2 + bootstrap sd^2.

   A one-sided 4-sigma excursion has probability 3.2e-5 under a normal model;
   with the roughly 1,600 metric checks of the default profile that is a false
   alarm in about 5 % of runs if the checks were independent, and less since
   they are positively correlated. The floor is one example's worth of
   resolution: 0.005 for AUC, and 1 / members of the slice (at least 0.005)
   for advantage and TPR, which move in steps of one member.
3. **The profile's default** otherwise (uncalibrated baselines, e.g. the
   CIFAR-10 profiles, whose calibration costs N full trainings).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from privacy_checks.metrics import interval_sd, metric_fpr
from privacy_checks.profiles import ENTIRE_DATASET, Profile

if TYPE_CHECKING:
    from privacy_checks.baselines import Entry

Z = 4.0
FLOOR = 0.005

EXPLICIT, CALIBRATED, PROFILE = "explicit", "calibrated", "profile"


@dataclasses.dataclass(frozen=True)
class MetricTolerance:
    """The tolerance of one metric check and where it came from."""

    value: float
    source: str  #: ``explicit``, ``calibrated`` or ``profile``
    sigma: float | None = None  #: the noise it was derived from (calibrated only)


def option_key(metric: str) -> str:
    """The name a tolerance option uses for a metric: every TPR shares ``tpr``."""
    return "tpr" if metric_fpr(metric) is not None else metric


def slice_kind(slice_name: str) -> str:
    return ENTIRE_DATASET if slice_name == ENTIRE_DATASET else "class"


def seed_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1) of one metric over the calibration seeds."""
    if len(values) < 2:
        raise ValueError("a spread needs at least two seeds")
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def pooled(spreads: Iterable[float]) -> float | None:
    """Root mean square of per-entry standard deviations (pooled variance)."""
    values = list(spreads)
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else None


def pooled_spreads(entries: Iterable["Entry"]) -> dict[tuple[str, str, str], float]:
    """Pooled seed sd per (attack, slice kind, metric) of one baseline's entries."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for entry in entries:
        for metric, sd in entry.seed_sd.items():
            groups.setdefault((entry.attack, slice_kind(entry.slice), metric), []).append(sd)
    return {group: pooled(values) for group, values in groups.items()}


def floor(metric: str, members: int) -> float:
    if metric == "auc" or members <= 0:
        return FLOOR
    return max(FLOOR, 1.0 / members)


def calibrated(
    metric: str,
    pooled_seed_sd: float,
    interval: Sequence[float] | None,
    members: int,
) -> MetricTolerance:
    """The calibrated tolerance (rule 2 above); pass ``interval`` only when the splits differ."""
    bootstrap = interval_sd(interval) if interval is not None else 0.0
    sigma = math.hypot(pooled_seed_sd, bootstrap)
    return MetricTolerance(max(floor(metric, members), Z * math.sqrt(2) * sigma), CALIBRATED, sigma)


def choose(
    metric: str,
    explicit: Mapping[str, float],
    pooled_seed_sd: float | None,
    interval: Sequence[float] | None,
    members: int,
    default: float,
) -> MetricTolerance:
    """Explicit over calibrated over the profile's default."""
    key = option_key(metric)
    if key in explicit:
        return MetricTolerance(float(explicit[key]), EXPLICIT)
    if pooled_seed_sd is not None:
        return calibrated(metric, pooled_seed_sd, interval, members)
    return MetricTolerance(default, PROFILE)


def defaults(profile: Profile, slice_name: str) -> dict[str, MetricTolerance]:
    """The profile's fixed tolerance for every metric it checks on ``slice_name``."""
    fixed = profile.tolerance_for(slice_name)
    return {metric: MetricTolerance(fixed.for_metric(metric), PROFILE) for metric in profile.metrics}
