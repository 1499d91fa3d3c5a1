"""The white-box canary bound: valid (coverage) in simulation of the claimed mechanism, and how tight.

The simulation is the mechanism the accountant describes for the digits DP model, on the
canary coordinates alone: 800 steps, each in canary present in a step with probability
q = 0.25 (clipped value C = 1 there), Gaussian noise of sd 5 on every coordinate and step.
Its true epsilon at delta = 1e-5 is the PLD accountant's 6.70 (RDP: 7.23, the gate's).
A valid lower bound at confidence 1 - alpha exceeds 6.70 in at most a share alpha of seeds.
Then the real optimizers (ours on the current lane, TF Privacy's on the codelab lane) through
the probe: the bound on the digits DP model lies between half the accountant's epsilon and it.
"""

from __future__ import annotations

import numpy as np
import pytest

from privacy_checks.attack import accounting, canaries, dp_audit
from privacy_checks.spec.registry import DIGITS, DP_2_LAYERS

pytestmark = pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")

SIGMA, Q, STEPS, DELTA = 5.0, 0.25, 800, 1e-5
COUNT = 2000


def _simulate(seed: int, alpha: float, factor: float = 1.0) -> canaries.CanaryBound:
    design = canaries.design(COUNT, COUNT, Q, STEPS, seed)
    rng = np.random.default_rng([seed, 9])
    observations = rng.normal(0.0, SIGMA * factor, size=(STEPS, COUNT))
    for step in range(STEPS):
        observations[step, design.present(step)] += 1.0
    return canaries.bound(observations, design, 1.0, SIGMA, alpha, DELTA)


def test_the_bounds_cover_the_true_epsilon_and_the_gdp_one_reaches_half_the_accountants():
    """40 seeds at alpha = 0.05: at most 2 over the truth is asserted (expected <= 2; none seen)."""
    truth = dp_audit.pld_epsilon(SIGMA, Q, STEPS, DELTA)
    claimed = accounting.epsilon(DP_2_LAYERS.dp, 200, DIGITS.batch_size, DIGITS.epochs)
    assert truth == pytest.approx(6.70, abs=0.01) and claimed == pytest.approx(7.227, abs=0.01)
    found = [_simulate(seed, 0.05) for seed in range(40)]
    gdp = np.array([b.epsilon_gdp for b in found])
    one_run = np.array([b.one_run_epsilon for b in found])
    assert np.sum(gdp > truth) <= 2 and np.sum(one_run > truth) <= 2
    assert np.median(gdp) >= 0.5 * claimed  # the aim; measured median 5.7 (0.79)
    assert 0.2 * claimed < np.median(one_run) < 0.5 * claimed  # no independence assumed: it pays


def test_at_the_runs_guarantee_budget_the_bound_is_lower_and_still_covers():
    alpha = accounting.FAMILY_ALPHA / 37  # digits' share of each guarantee check
    truth = dp_audit.pld_epsilon(SIGMA, Q, STEPS, DELTA)
    found = np.array([_simulate(seed, alpha).epsilon_gdp for seed in range(10)])
    assert np.all(found < truth) and np.median(found) > 0.3 * truth


def test_the_bound_is_zero_when_no_canary_took_part():
    design = canaries.design(COUNT, COUNT, Q, STEPS, 0)
    noise = np.random.default_rng(1).normal(0.0, SIGMA, size=(STEPS, COUNT))
    found = canaries.bound(noise, design, 1.0, SIGMA, 0.05, DELTA)
    assert found.epsilon_gdp == 0.0 and found.one_run_epsilon == 0.0


def test_gdp_epsilon_inverts_gdp_delta():
    mu = canaries.gaussian_mu(SIGMA, Q, STEPS)
    assert mu == pytest.approx(1.43, abs=0.01)
    epsilon = canaries.gdp_epsilon(mu, DELTA)
    assert canaries.gdp_delta(mu, epsilon) == pytest.approx(DELTA, rel=1e-6)
    assert epsilon == pytest.approx(6.65, abs=0.02)


def test_the_canary_bound_of_the_optimizer_that_trains_lies_between_half_the_claim_and_the_claim():
    """The digits DP model, all 800 steps through its optimizer's own step, 2,000 canaries, alpha 0.05
    (about 17 s on 2 cores): measured 5.31 (ours) and 5.04 (TF Privacy's) against 7.23."""
    import tensorflow as tf

    from privacy_checks.attack import white_box
    from privacy_checks.data import load
    from privacy_checks.train import models

    digits = load.load(DIGITS)
    tf.keras.utils.set_random_seed(3)
    model = models.small_cnn(
        DIGITS.input_shape, DIGITS.num_classes, DP_2_LAYERS.num_conv, padding=DIGITS.padding,
        dp=DP_2_LAYERS.dp, batch_size=DIGITS.batch_size,
    )
    found = white_box.canary_audit(
        model, DP_2_LAYERS.dp, digits.x_members, digits.y_members, batch_size=DIGITS.batch_size,
        epochs=DIGITS.epochs, alpha=0.05,
    )
    assert found.bound.steps == STEPS and found.bound.canaries == COUNT
    assert 0.5 * found.accountant_epsilon < found.bound.epsilon_gdp < found.accountant_epsilon
    assert 0 < found.bound.one_run_epsilon < found.bound.epsilon_gdp
