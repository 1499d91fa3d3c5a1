"""The white-box DP audit of a DP model's optimizer: is its step the mechanism the accountant is told?

:func:`conformance` audits a compiled DP model as the suite builds it (either
lane) on batches of its real training data, through
:class:`privacy_checks.train.dp_probe.Probe` (the optimizer's own
privatisation code), and judges it against the *claim* (the profile's
:class:`~privacy_checks.spec.model_spec.DPSGD`, what the accountant is
told), never against the optimizer's own settings: why the audit exists is
that the two may differ. It measures clipping of every example and of an
adversarial one, the noise's scale and its freshness across steps
(statistical, at the alpha given), the probe against the model's own
``train_step`` (so that the probe runs what training runs), and the epsilon
under Poisson sampling and under shuffled batches
(:mod:`privacy_checks.attack.dp_audit`). :func:`canary_audit` runs gradient
canaries through the same step for all T steps of the training and states an
epsilon lower bound (:mod:`privacy_checks.attack.canaries`).

It neither trains or changes the model. On the current lane the noise that the
probe draws at step t is the noise training drew at step t (the same
stateless seed); TF Privacy's optimizer draws fresh noise from the same op.
No pytest here: the plugin's checks call these and read the frozen results.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from privacy_checks.attack import accounting, canaries, dp_audit
from privacy_checks.spec.model_spec import DPSGD
from privacy_checks.train import dp_probe

#: Batches of real members whose per-example gradients the audits use (cycled over the steps).
BATCHES = 4
#: Canaries of one canary audit: on digits' DP model (T = 800 steps) a median bound of 0.79 of the
#: accountant's epsilon in simulation (docs/dp.md).
CANARIES = 2000
#: How close the probe's noise-free step must be to the model's own train_step's (relative to the
#: step's largest coordinate): the same code, per-example gradients a few float32 ulps apart.
AGREEMENT = 1e-5


@dataclasses.dataclass(frozen=True)
class Conformance:
    """The DP step's conformance to the claim, measured (module doc)."""

    configured: dp_probe.Configured
    claim: DPSGD
    clipping: dp_audit.Clipping
    noise: dp_audit.NoiseScale
    freshness: dp_audit.Freshness
    sampling: dp_audit.Sampling
    #: Largest difference between the probe's noise-free step and the model's own train_step's,
    #: relative to the step's largest coordinate.
    train_step_difference: float
    #: The family-wise error of this audit's statistical tests (noise and freshness, half each).
    alpha: float
    seconds: float

    @property
    def passed(self) -> bool:
        return (
            self.clipping.passed and self.noise.passed and self.freshness.passed
            and self.train_step_difference <= AGREEMENT
        )

    def failures(self) -> list[str]:
        """Each departure from the claim, measured against claimed, one sentence each (empty when it passed)."""
        found = []
        clip, noise, fresh = self.clipping, self.noise, self.freshness
        if not clip.passed:
            found.append(
                f"an example's contribution to a step reached norm {max(clip.largest_contribution, clip.adversarial_contribution):.4g} "
                f"against the claimed l2_norm_clip {clip.claimed_clip:g}"
            )
        if not noise.passed:
            found.append(
                f"the noise's standard deviation measured {noise.measured_std:.4g} "
                f"(interval {noise.interval[0]:.4g} to {noise.interval[1]:.4g}) against the claimed "
                f"noise_multiplier x l2_norm_clip = {noise.claimed_std:.4g} (p = {noise.p_value:.2g})"
            )
        if not fresh.passed:
            what = f"steps {fresh.identical[0]} drew the same noise" if fresh.identical else (
                f"steps {fresh.pair} drew noise correlated at {fresh.largest_correlation:.3f} (p = {fresh.p_value:.2g})"
            )
            found.append(what)
        if self.train_step_difference > AGREEMENT:
            found.append(
                f"the audited step differs from the model's own train_step by {self.train_step_difference:.2g} "
                "of its largest coordinate"
            )
        return found


@dataclasses.dataclass(frozen=True)
class CanaryAudit:
    """A canary audit of the DP step (module doc) and the accountant's epsilon beside it."""

    configured: dp_probe.Configured
    claim: DPSGD
    bound: canaries.CanaryBound
    #: The accountant's (RDP, Poisson) epsilon that the gate checks.
    accountant_epsilon: float
    seconds: float


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` batches of ``batch_size`` members, drawn without replacement from a seeded shuffle."""
    order = np.random.default_rng([seed, 2]).permutation(len(x))
    count = max(1, min(count, len(x) // batch_size))
    return [(x[order[i * batch_size:(i + 1) * batch_size]], y[order[i * batch_size:(i + 1) * batch_size]])
            for i in range(count)]


def audited_steps(members: int, batch_size: int, epochs: int) -> tuple[int, ...]:
    """The training steps whose noise the conformance audit draws: the first two, the first two of
    the second epoch, the middle and the last (a draw repeated each epoch shows up too)."""
    total = accounting.steps(members, batch_size, epochs)
    per_epoch = max(1, members // batch_size)
    return tuple(sorted({s for s in (0, 1, per_epoch, per_epoch + 1, total // 2, total - 1) if 0 <= s < total}))


def conformance(
    model: Any, claim: DPSGD, x: np.ndarray, y: np.ndarray, *, batch_size: int, epochs: int,
    num_classes: int, alpha: float, seed: int = 0, batch_count: int = BATCHES,
) -> Conformance:
    """Measures ``model``'s DP step on its members ``x``, ``y`` against ``claim`` (module doc).

    ``alpha`` is this audit's family-wise error: the noise-scale and freshness tests get half each.
    Cost on digits' DP model: about two seconds (six steps' noise, 250 isolated contributions).
    """
    started = time.perf_counter()
    probe = dp_probe.Probe(model)
    drawn = batches(x, y, batch_size, batch_count, seed)
    rows = [probe.rows(bx, by) for bx, by in drawn]
    noiseless = [probe.handed(r, 0, noisy=False) for r in rows]
    bad_x, bad_y = dp_probe.adversarial(drawn[0][0], drawn[0][1], num_classes)
    bad_rows = probe.rows(bad_x, bad_y)
    raw = np.concatenate([dp_probe.raw_norms(bad_rows)] + [dp_probe.raw_norms(r) for r in rows])
    contributions = np.concatenate(
        [np.linalg.norm(probe.contributions(r), axis=1) for r in [bad_rows, *rows]]
    ) * batch_size
    worst = int(np.argmax(raw[:batch_size]))
    clipping = dp_audit.clipping(contributions, raw, claim.l2_norm_clip, worst, alpha / 2)
    steps = audited_steps(len(x), batch_size, epochs)
    noise = np.stack([
        (probe.handed(rows[i % len(rows)], step) - noiseless[i % len(rows)]) * batch_size
        for i, step in enumerate(steps)
    ])
    claimed_std = claim.noise_multiplier * claim.l2_norm_clip
    own = dp_probe.train_step_handed(model, drawn[0][0], drawn[0][1], 0)
    difference = float(np.max(np.abs(own - noiseless[0])) / max(np.max(np.abs(noiseless[0])), 1e-30))
    return Conformance(
        probe.configured, claim, clipping, dp_audit.noise_scale(noise, claimed_std, alpha / 2),
        dp_audit.freshness(noise, steps, alpha / 2), dp_audit.sampling(claim, len(x), batch_size, epochs),
        difference, alpha, time.perf_counter() - started,
    )


def canary_audit(
    model: Any, claim: DPSGD, x: np.ndarray, y: np.ndarray, *, batch_size: int, epochs: int, alpha: float,
    canary_count: int = CANARIES, seed: int = 0, batch_count: int = BATCHES,
) -> CanaryAudit:
    """Runs ``canary_count`` canaries through all the training's steps of ``model``'s DP step and
    bounds its epsilon at confidence 1 - ``alpha`` (:func:`privacy_checks.attack.canaries.bound`).

    Each step privatises one batch of real members (cycled) with the canaries present at that step
    appended as rows; what the optimizer is handed, times the batch, minus the batch's noise-free
    sum, is read at every canary's coordinate. Cost on digits' DP model (800 steps, 2,000
    canaries): about ten seconds on two cores, no training.
    """
    started = time.perf_counter()
    probe = dp_probe.Probe(model)
    members = len(x)
    steps = accounting.steps(members, batch_size, epochs)
    canary_count = min(canary_count, probe.dimension)  # one coordinate each: a small model holds fewer
    design = canaries.design(probe.dimension, canary_count, batch_size / members, steps, seed)
    drawn = batches(x, y, batch_size, batch_count, seed)
    rows = [probe.rows(bx, by) for bx, by in drawn]
    noiseless = [probe.handed(r, 0, noisy=False)[design.coordinates] for r in rows]
    value = canaries.CANARY_SCALE * claim.l2_norm_clip
    observations = np.empty((steps, canary_count))
    for step in range(steps):
        b = step % len(rows)
        seen = probe.canary_observations(rows[b], design.coordinates[design.present(step)], design.coordinates, value, step)
        observations[step] = (seen - noiseless[b]) * batch_size
    bound = canaries.bound(observations, design, claim.l2_norm_clip, claim.noise_multiplier, alpha, claim.delta)
    return CanaryAudit(
        probe.configured, claim, bound, accounting.epsilon(claim, members, batch_size, epochs),
        time.perf_counter() - started,
    )
