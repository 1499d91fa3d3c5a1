"""Seconds per DP training epoch of the digits DP model: our DP-SGD, and TF Privacy's where it installs.

    PYTHONPATH=. python benchmarks/dp_sgd_speed.py [epochs per round] [rounds]

The digits profile's DP model (200 members, batch 50, the 2-layer codelab CNN,
DP_2_LAYERS' clip, noise and learning rate), trained as ``fit.train``
trains it (profile threads, op determinism, ``fit`` with shuffling): with
:mod:`privacy_checks.train.dp_sgd` on this lane's Keras, and, where TF Privacy
imports (the codelab lane), with its vectorized DP Adam plus the project's
per-example speed-up (``models.small_cnn(..., dp=..., batch_size=50)``); and
the same CNN without DP, for what ``fit`` itself costs an epoch on this lane.
The paths alternate in rounds; the first epoch (tracing) is reported apart,
the others' median and mean are the cost of an epoch, and one step timed
outside ``fit`` (same batch, ``tf.function(model.train_step)``) separates the
DP step from ``fit``'s per-epoch work. Prints one Markdown row per path;
numbers are measured, not asserted.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time


def _epoch_times(model, data, epochs: int) -> list[float]:
    import tensorflow as tf

    times: list[float] = []

    class Clock(tf.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(data.x_members, data.y_members, batch_size=50, epochs=epochs, shuffle=True, verbose=0,
              callbacks=[Clock()])
    return times


def _step_seconds(model, data, repeats: int = 40) -> float:
    """Median seconds of one training step on one batch, outside ``fit`` (no data pipeline, no callbacks)."""
    import tensorflow as tf

    step = tf.function(model.train_step)
    batch = (tf.constant(data.x_members[:50]), tf.constant(data.y_members[:50]))
    step(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(epochs: int = 10, rounds: int = 4) -> None:
    import keras
    import tensorflow as tf

    from privacy_checks.data import load
    from privacy_checks.spec.registry import DIGITS, DP_2_LAYERS
    from privacy_checks.train import dp_sgd, fit, models

    fit.configure_threads(DIGITS)
    tf.config.experimental.enable_op_determinism()
    data = load.load(DIGITS)
    shape = DIGITS.input_shape
    builds = {
        "no DP (fit's own cost)": lambda: models.small_cnn(shape, 10, 2, padding="same"),
        "privacy_checks.train.dp_sgd": lambda: dp_sgd.compile_private(
            models.codelab_cnn(shape, 10, 2, padding="same"), DP_2_LAYERS.dp, 50, seed=1
        ),
    }
    try:
        import tensorflow_privacy  # noqa: F401

        builds["TF Privacy + per_example"] = lambda: models.small_cnn(
            shape, 10, 2, padding="same", dp=DP_2_LAYERS.dp, batch_size=50
        )
    except ImportError:
        pass
    tf.keras.utils.set_random_seed(1)
    built = {name: build() for name, build in builds.items()}
    times: dict[str, list[float]] = {name: [] for name in built}
    # Rounds alternate the paths, so that a busy spell of the machine falls on all of them alike.
    for _ in range(rounds):
        for name, model in built.items():
            times[name] += _epoch_times(model, data, epochs)
    lane = f"Python {platform.python_version()}, TF {tf.__version__}, Keras {keras.__version__}"
    print("| lane | training | first epoch (s) | epoch median (s) | epoch mean (s) | epochs | step median (ms) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, model in built.items():
        first, rest = times[name][0], times[name][1:]
        print(f"| {lane} | {name} | {first:.3f} | {statistics.median(rest):.4f} | {statistics.mean(rest):.4f} "
              f"| {len(rest)} | {1000 * _step_seconds(model, data):.1f} |", flush=True)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
