"""The project's DP-SGD (privacy_checks.train.dp_sgd): TF Privacy's clipped sums bit for bit, its noise's law,
reproducible trainings on Keras 3 and tf.keras 2.15, and refusals.

Tests marked ``codelab`` compare with TF Privacy 0.8.12 and run where it is
installed (tf.keras 2.15, the codelab lane); the others run on both lanes.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

import numpy as np
import pytest

from privacy_checks.data import load
from privacy_checks.spec.model_spec import DPSGD
from privacy_checks.spec.registry import DIGITS, DP_2_LAYERS
from privacy_checks.train import dp_sgd, models

pytestmark = pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")


def _keras_major() -> int:
    try:
        return int(importlib.metadata.version("keras").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return 2


codelab = pytest.mark.skipif(
    _keras_major() >= 3 or importlib.util.find_spec("tensorflow_privacy") is None,
    reason="TF Privacy's DP optimizers need tf.keras 2 and tensorflow-privacy (the codelab lane)",
)

#: Significance of each statistical test below; the seeds are fixed, so a run is reproducible.
ALPHA = 0.001
#: Noise draws (optimizer steps) per source: 6 x 18,474 coordinates of the digits DP model.
STEPS = 6
#: The smallest departure the tests must catch with power > 0.99: a std 5 % short (or long).
SHORTFALL = 0.95


def _digits_model():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(3)
    model = models.codelab_cnn(DIGITS.input_shape, DIGITS.num_classes, DP_2_LAYERS.num_conv, padding=DIGITS.padding)
    return dp_sgd.compile_private(model, DP_2_LAYERS.dp, DIGITS.batch_size, seed=11)


@pytest.fixture(scope="module")
def digits():
    return load.load(DIGITS)


def _batches(data, count=4):
    size = DIGITS.batch_size
    return [(data.x_members[s:s + size], data.y_members[s:s + size]) for s in range(0, count * size, size)]


# --- clipping: TF Privacy's bits ---------------------------------------------------------------


@codelab
@pytest.mark.parametrize("clip", [DP_2_LAYERS.dp.l2_norm_clip, 3.0, 100.0], ids=["all-clipped", "some", "none"])
def test_clipped_sums_are_tf_privacys_bit_for_bit(digits, clip):
    """Ours against TF Privacy's vectorized DP Adam run end to end with noise 0 (its real Jacobian,
    clip, sum, zero noise, division by the microbatch count), and against its clip on our gradients."""
    import tensorflow as tf
    from tensorflow_privacy import VectorizedDPKerasAdamOptimizer
    from tensorflow_privacy.privacy.optimizers.dp_optimizer_keras_vectorized import clip_gradients_vmap

    model = _digits_model()
    variables = model.trainable_variables
    theirs = VectorizedDPKerasAdamOptimizer(
        l2_norm_clip=clip, noise_multiplier=0.0, num_microbatches=DIGITS.batch_size, learning_rate=1e-2
    )

    @tf.function
    def both(x, y):
        grads, _, _ = dp_sgd.per_example_gradients(model, model.loss, x, y)
        summed, norms = dp_sgd.clip_and_sum(grads, clip)
        clipped = tf.vectorized_map(lambda g: clip_gradients_vmap(g, clip), grads)
        their_clip = [tf.reduce_sum(g, axis=0) for g in clipped]
        with tf.GradientTape() as tape:
            losses = model.loss(y, model(x, training=True))
        their_step = [g for g, _ in theirs._compute_gradients(losses, variables, tape=tape)]
        our_step, _ = dp_sgd.privatise(grads, DPSGD(clip, 0.0, 1e-2), DIGITS.batch_size, dp_sgd.step_seed(0, 0))
        return summed, norms, their_clip, their_step, our_step

    clipped = 0
    for x, y in _batches(digits):
        summed, norms, their_clip, their_step, our_step = both(x, y)
        clipped += int(np.sum(norms.numpy() > clip))
        for ours, theirs_ in zip(summed, their_clip):
            assert np.array_equal(ours.numpy(), theirs_.numpy())
        for ours, theirs_ in zip(our_step, their_step):
            assert np.array_equal(ours.numpy(), theirs_.numpy())
    expected = {"all-clipped": clipped == 200, "some": 0 < clipped < 200, "none": clipped == 0}
    assert expected[{1.0: "all-clipped", 3.0: "some", 100.0: "none"}[clip]], clipped


# --- the noise's law ---------------------------------------------------------------------------


def _law_tests(z: np.ndarray) -> dict[str, float]:
    """p-values of z ~ N(0, 1) i.i.d.: mean (z-test), variance (chi-square, mean known), shape (KS)."""
    from scipy import stats

    n = len(z)
    chi2 = float(np.sum(z.astype(np.float64) ** 2))
    return {
        "mean": float(2 * stats.norm.sf(abs(z.mean(dtype=np.float64)) * np.sqrt(n))),
        "variance": float(2 * min(stats.chi2.cdf(chi2, n), stats.chi2.sf(chi2, n))),
        "ks": float(stats.kstest(z, "norm").pvalue),
    }


def _our_noise(summed, dp: DPSGD, seed: int, steps: int) -> list[np.ndarray]:
    """Step t's noise of our privatised gradients, isolated as noised sum - clipped sum, over all variables."""
    draws = []
    for step in range(steps):
        noised = dp_sgd.add_noise(summed, dp.l2_norm_clip, dp.noise_multiplier, dp_sgd.step_seed(seed, step))
        draws.append(np.concatenate([(a - b).numpy().ravel() for a, b in zip(noised, summed)]))
    return draws


def _clipped_sum(model, x, y, clip):
    import tensorflow as tf

    grads, _, _ = tf.function(lambda x, y: dp_sgd.per_example_gradients(model, model.loss, x, y))(x, y)
    return dp_sgd.clip_and_sum(grads, clip)[0]


def test_the_noise_tests_have_the_stated_power():
    """Each test below, at its ALPHA = 0.001 and its n, catches the departure it is for with power
    > 0.99, computed (no simulation): n = STEPS x 18,474 coordinates per source, 18,474 per step.

    - variance, chi-square with the mean known: a std 5 % short or long (exact chi-square law);
    - shape, one-sample KS: a std 5 % short, or a uniform law of the right variance: by the
      Dvoretzky-Kiefer-Wolfowitz-Massart inequality, P(sup|F_n - F| >= t) <= 2 exp(-2 n t^2), so
      the power is at least 1 - 2 exp(-2 n (d - c)^2), d the law's KS distance from N(0, 1), c the
      test's critical value (exact Kolmogorov law);
    - mean, z-test: a mean of 0.02 x std;
    - ours against TF Privacy's, F test of the variances: one std 5 % from the other (exact F law);
    - freshness, correlation of two steps' noise (Bonferroni over the pairs): a correlation of 0.05.
    """
    from scipy import stats

    coordinates = 18474
    n = STEPS * coordinates
    low, high = stats.chi2.ppf(ALPHA / 2, n), stats.chi2.ppf(1 - ALPHA / 2, n)
    for factor in (SHORTFALL, 2 - SHORTFALL):
        assert stats.chi2.cdf(low / factor**2, n) + stats.chi2.sf(high / factor**2, n) > 0.99
    grid = np.linspace(-6, 6, 120001)
    critical = stats.kstwo.ppf(1 - ALPHA, n)
    for cdf in (stats.norm(scale=SHORTFALL).cdf, stats.uniform(-np.sqrt(3), 2 * np.sqrt(3)).cdf):
        distance = np.abs(cdf(grid) - stats.norm.cdf(grid)).max()
        assert distance > critical and 1 - 2 * np.exp(-2 * n * (distance - critical) ** 2) > 0.99
    z = stats.norm.isf(ALPHA / 2)
    assert stats.norm.sf(z - 0.02 * np.sqrt(n)) > 0.99
    f_low, f_high = stats.f.ppf(ALPHA / 2, n, n), stats.f.ppf(1 - ALPHA / 2, n, n)
    assert stats.f.cdf(f_low / SHORTFALL**2, n, n) + stats.f.sf(f_high / SHORTFALL**2, n, n) > 0.99
    bound = _correlation_bound(coordinates, STEPS - 1)
    assert stats.norm.sf((bound - 0.05) * np.sqrt(coordinates) / (1 - 0.05**2)) > 0.99


def test_our_noise_is_gaussian_with_std_noise_multiplier_times_clip_and_fresh_each_step(digits):
    dp = DP_2_LAYERS.dp
    model = _digits_model()
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == 18474
    summed = _clipped_sum(model, *_batches(digits, 1)[0], dp.l2_norm_clip)
    draws = _our_noise(summed, dp, seed=11, steps=STEPS)
    z = np.concatenate(draws) / (dp.noise_multiplier * dp.l2_norm_clip)
    for name, p in _law_tests(z).items():
        assert p > ALPHA, name
    _assert_fresh(draws)
    again = _our_noise(summed, dp, seed=11, steps=2)
    assert all(np.array_equal(a, b) for a, b in zip(draws, again)), "the same seed and step: the same noise"
    other = _our_noise(summed, dp, seed=12, steps=1)[0]
    assert abs(np.corrcoef(draws[0], other)[0, 1]) < _correlation_bound(len(other), 1)


def _correlation_bound(n: int, pairs: int) -> float:
    """|r| of independent draws stays below this with probability 1 - ALPHA over ``pairs`` pairs (Bonferroni)."""
    from scipy import stats

    return float(stats.norm.isf(ALPHA / (2 * pairs)) / np.sqrt(n))


def _assert_fresh(draws: list[np.ndarray]) -> None:
    """Consecutive steps' noise uncorrelated (|r| ~ N(0, 1/n) under independence)."""
    bound = _correlation_bound(len(draws[0]), len(draws) - 1)
    for a, b in zip(draws, draws[1:]):
        assert abs(np.corrcoef(a, b)[0, 1]) < bound


@codelab
def test_our_noise_has_the_law_of_tf_privacys(digits):
    """TF Privacy's noise (its vectorized DP Adam, STEPS calls) against N(0, (nm x clip)^2) with the same
    tests as ours, then ours against theirs: two-sample KS and the F test of the variances."""
    import tensorflow as tf
    from scipy import stats
    from tensorflow_privacy import VectorizedDPKerasAdamOptimizer

    dp = DP_2_LAYERS.dp
    model = _digits_model()
    variables = model.trainable_variables
    x, y = _batches(digits, 1)[0]
    summed = _clipped_sum(model, x, y, dp.l2_norm_clip)
    theirs = VectorizedDPKerasAdamOptimizer(
        l2_norm_clip=dp.l2_norm_clip, noise_multiplier=dp.noise_multiplier,
        num_microbatches=DIGITS.batch_size, learning_rate=dp.learning_rate,
    )

    @tf.function
    def their_step(x, y):
        with tf.GradientTape() as tape:
            losses = model.loss(y, model(x, training=True))
        return [g for g, _ in theirs._compute_gradients(losses, variables, tape=tape)]

    tf.keras.utils.set_random_seed(5)
    their_draws = [
        np.concatenate([(g * DIGITS.batch_size - s).numpy().ravel() for g, s in zip(their_step(x, y), summed)])
        for _ in range(STEPS)
    ]
    sigma = dp.noise_multiplier * dp.l2_norm_clip
    z_theirs = np.concatenate(their_draws) / sigma
    for name, p in _law_tests(z_theirs).items():
        assert p > ALPHA, f"TF Privacy's noise, {name}"
    _assert_fresh(their_draws)
    z_ours = np.concatenate(_our_noise(summed, dp, seed=11, steps=STEPS)) / sigma
    assert stats.ks_2samp(z_ours, z_theirs).pvalue > ALPHA
    ratio = np.sum(z_ours.astype(np.float64) ** 2) / np.sum(z_theirs.astype(np.float64) ** 2)
    n = len(z_ours)
    assert 2 * min(stats.f.cdf(ratio, n, n), stats.f.sf(ratio, n, n)) > ALPHA


# --- training with fit, on either Keras ---------------------------------------------------------


def _tiny(seed: int, noise_seed: int, **dp_changes):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = models.codelab_cnn((8, 8, 1), 10, 1, padding="same", filters=4, dense_units=8)
    dp = DPSGD(**{"l2_norm_clip": 1.0, "noise_multiplier": 1.1, "learning_rate": 1e-2, **dp_changes})
    return dp_sgd.compile_private(model, dp, 25, seed=noise_seed)


def _train_tiny(digits, seed=1, noise_seed=2, epochs=2):
    model = _tiny(seed, noise_seed)
    history = model.fit(digits.x_members[:100], digits.y_members[:100], batch_size=25, epochs=epochs,
                        shuffle=True, verbose=0)
    return [w.copy() for w in model.get_weights()], history.history, model


def test_a_dp_training_with_fit_logs_loss_and_accuracy_and_is_reproducible(digits):
    weights, history, model = _train_tiny(digits)
    assert set(history) >= {"loss", "accuracy"} and len(history["loss"]) == 2
    assert all(np.isfinite(history["loss"]))
    assert int(model.optimizer.iterations.numpy()) == 8
    again, history_again, _ = _train_tiny(digits)
    assert history == history_again
    assert all(np.array_equal(a, b) for a, b in zip(weights, again)), "same seeds: identical weights"
    other, _, _ = _train_tiny(digits, noise_seed=3)
    assert not all(np.array_equal(a, b) for a, b in zip(weights, other)), "another noise seed: other weights"


def test_the_logged_loss_is_the_batches_mean_per_example_loss(digits):
    """One epoch of one batch: fit's loss is the mean of the per-example losses before the step."""
    import tensorflow as tf

    model = _tiny(1, 2)
    x, y = digits.x_members[:25], digits.y_members[:25]
    expected = float(tf.reduce_mean(model.loss(y, model(x, training=True))))
    logged = model.fit(x, y, batch_size=25, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    assert logged == pytest.approx(expected, rel=1e-6)


#: How far a vectorized per-example gradient may be from the one-example tape's, in units in the last
#: place of the variable's largest entry: vectorized_map runs each layer once on the stacked examples
#: (a batched convolution and matmul), whose float sums run in another order than the one-example
#: kernels'. Measured: at most 6 on the digits DP model (TF 2.15 and TF 2.21, oneDNN on or off).
ULPS = 16


@pytest.mark.parametrize("which", ["tiny", "digits dp"])
def test_a_per_example_gradient_is_that_examples_own_gradient(digits, which):
    import tensorflow as tf

    model = _tiny(1, 2) if which == "tiny" else _digits_model()
    variables = model.trainable_variables
    x, y = digits.x_members[:25], digits.y_members[:25]
    grads, losses, _ = tf.function(lambda x, y: dp_sgd.per_example_gradients(model, model.loss, x, y))(x, y)

    @tf.function
    def alone(xi, yi):
        with tf.GradientTape() as tape:
            value = model.loss(yi, model(xi, training=True))
        return tape.gradient(value, variables), value

    for i in range(0, 25, 4):
        expected, value = alone(x[i:i + 1], y[i:i + 1])
        assert float(losses[i]) == pytest.approx(float(value[0]), rel=1e-6)
        for ours, theirs in zip(grads, expected):
            theirs = theirs.numpy()
            tolerance = ULPS * np.spacing(np.abs(theirs).max())
            assert np.abs(ours[i].numpy() - theirs).max() <= tolerance
    # Another batch around example 0: its gradient does not change by a bit.
    shuffled = tf.concat([x[:1], digits.x_members[100:124]], 0), tf.concat([y[:1], digits.y_members[100:124]], 0)
    other, _, _ = tf.function(lambda x, y: dp_sgd.per_example_gradients(model, model.loss, x, y))(*shuffled)
    assert all(np.array_equal(a[0].numpy(), b[0].numpy()) for a, b in zip(grads, other))


# --- refusals ------------------------------------------------------------------------------------


def _keras():
    """The lane's Keras: ``keras`` 3, or ``tf.keras`` 2.15."""
    import tensorflow as tf

    if _keras_major() >= 3:
        import keras

        return keras
    return tf.keras


def _refused(build):
    keras = _keras()
    with pytest.raises(dp_sgd.NotPrivatisable) as refused:
        build(keras)
    return str(refused.value)


def _small(keras, *middle, **dense):
    model = keras.Sequential([keras.layers.Input((8, 8, 1)), keras.layers.Flatten(), *middle,
                              keras.layers.Dense(10, **dense)])
    return dp_sgd.compile_private(model, DP_2_LAYERS.dp, 25, seed=0)


def test_batch_normalisation_is_refused():
    message = _refused(lambda keras: _small(keras, keras.layers.Dense(8), keras.layers.BatchNormalization()))
    assert "batch normalisation" in message and "LayerNormalization" in message


@pytest.mark.parametrize("regulariser", ["kernel_regularizer", "bias_regularizer", "activity_regularizer"])
def test_regularisers_are_refused(regulariser):
    message = _refused(lambda keras: _small(keras, **{regulariser: "l2"}))
    assert "adds a loss" in message and "Remove the kernel/bias/activity regularisers" in message


def test_a_partial_last_batch_and_another_batch_size_are_refused(digits):
    model = _tiny(1, 2)
    x, y = digits.x_members, digits.y_members
    with pytest.raises(dp_sgd.NotPrivatisable, match="partial last batch.*multiple of 25"):
        model.fit(x[:110], y[:110], batch_size=25, verbose=0)
    with pytest.raises(dp_sgd.NotPrivatisable, match=r"fit\(batch_size=20\).*Pass batch_size=25"):
        model.fit(x[:100], y[:100], batch_size=20, verbose=0)
    with pytest.raises(dp_sgd.NotPrivatisable, match="sample weights"):
        model.fit(x[:100], y[:100], batch_size=25, sample_weight=np.ones(100), verbose=0)


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed:UserWarning")  # Keras 3, for any Dataset
def test_a_partial_batch_from_a_dataset_stops_the_training(digits):
    """fit cannot count a tf.data pipeline's examples: the step itself refuses a short batch."""
    import tensorflow as tf

    model = _tiny(1, 2)
    data = tf.data.Dataset.from_tensor_slices((digits.x_members[:30], digits.y_members[:30])).batch(25)
    with pytest.raises(tf.errors.InvalidArgumentError, match="exactly 25 examples"):
        model.fit(data, verbose=0)


def test_a_batch_reduced_loss_is_refused():
    def build(keras):
        model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(3)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        dp_sgd.make_private(model, DP_2_LAYERS.dp, 25, seed=0)

    assert "one loss per example" in _refused(build)
