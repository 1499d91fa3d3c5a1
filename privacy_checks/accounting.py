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

from privacy_checks.profiles import DPSGD

#: Significance of the measured lower bound: it holds with 95% confidence.
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


def epsilon_lower_bound(
    scores_members: np.ndarray | None,
    scores_non_members: np.ndarray | None,
    alpha: float = ALPHA,
) -> float | None:
    """The largest epsilon an attack's membership scores prove, with 1 - ``alpha`` confidence.

    TF Privacy's ``epsilon_lower_bound`` module with the Clopper-Pearson method
    (Jagielski, Ullman and Oprea, "Auditing Differentially Private Machine
    Learning: How Private is Private SGD?", NeurIPS 2020): at each threshold
    on the scores, a Clopper-Pearson lower bound of TPR over an upper bound of
    FPR (and the three mirrored ratios), in logs; the largest over thresholds.
    TF Privacy's own ``run_attacks`` reports the Bailey approximation instead,
    which is not a confidence bound.

    Two caveats make this bound a screening test rather than a proof to the
    last digit: the threshold is chosen on the same scores (the maximum over
    thresholds is optimistic), and delta is ignored (it is below one member
    in 1 / members, finer than the TPR can resolve). Returns None without
    scores, 0.0 when no threshold proves anything.
    """
    if scores_members is None or scores_non_members is None:
        return None
    if not len(scores_members) or not len(scores_non_members):
        return None
    from tensorflow_privacy.privacy.privacy_tests import epsilon_lower_bound as elb

    with np.errstate(divide="ignore", invalid="ignore"):
        bounds = elb.EpsilonLowerBound(
            np.asarray(scores_members, dtype=np.float64).ravel(),
            np.asarray(scores_non_members, dtype=np.float64).ravel(),
            alpha=alpha,
            two_sided_threshold=True,
        ).compute_epsilon_lower_bound(elb.BoundMethod.CLOPPER_PEARSON, k=1)
    bounds = bounds[np.isfinite(bounds)]
    return float(max(bounds.max(), 0.0)) if bounds.size else 0.0


def variant_label(label: str, dp: DPSGD | None, members: int, batch_size: int, epochs: int) -> str:
    """The plots' model label, with the final epsilon for a DP model: ``2 Layers DP ε=7.2``."""
    if dp is None:
        return label
    return f"{label} ε={epsilon(dp, members, batch_size, epochs):.1f}"
