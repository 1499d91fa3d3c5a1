"""The models under test: the privacy report codelab's ``small_cnn``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from privacy_checks.profiles import DPSGD

if TYPE_CHECKING:  # TensorFlow is imported only when a model is built.
    import tensorflow as tf


def small_cnn(
    input_shape: tuple[int, int, int],
    num_classes: int,
    num_conv: int,
    activation: str = "relu",
    padding: str = "valid",
    learning_rate: float = 1e-3,
    dp: DPSGD | None = None,
    batch_size: int | None = None,
    filters: int = 32,
    dense_units: int = 64,
) -> "tf.keras.Model":
    """TF Privacy's codelab CNN: ``num_conv`` x (Conv 32 3x3 + max-pool), dense 64, logits.

    ``filters`` and ``dense_units`` widen it (a wider network memorises more:
    one of the regressions the suite is tested to catch).

    ``padding='valid'`` is the tutorial's; 8x8 inputs need ``'same'`` so that
    three conv/pool stages still leave a feature map. Compiled with Adam and a
    from-logits cross-entropy on integer labels (the tutorial's one-hot
    ``CategoricalCrossentropy`` computes the same loss).

    With ``dp``, the same network is trained with DP-SGD (:func:`dp_optimizer`);
    the loss is then per example (``reduction=NONE``), which the DP optimizer
    needs to clip each example's gradient.
    """
    import tensorflow as tf

    layers = [tf.keras.layers.Input(shape=input_shape)]
    for _ in range(num_conv):
        layers.append(tf.keras.layers.Conv2D(filters, (3, 3), activation=activation, padding=padding))
        layers.append(tf.keras.layers.MaxPooling2D())
    layers += [
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(dense_units, activation=activation),
        tf.keras.layers.Dense(num_classes),
    ]
    model = tf.keras.Sequential(layers)
    if dp is None:
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    else:
        if batch_size is None:
            raise ValueError("a DP-SGD model needs the batch size: one microbatch per example")
        loss = tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=tf.keras.losses.Reduction.NONE
        )
        optimizer = dp_optimizer(dp, batch_size)
    model.compile(loss=loss, optimizer=optimizer, metrics=["accuracy"])
    return model


def dp_optimizer(dp: DPSGD, batch_size: int):
    """TF Privacy's DP Adam, one microbatch per example.

    The vectorized variant computes the per-example gradients with
    ``tf.vectorized_map``: the same numbers as ``DPKerasAdamOptimizer`` (checked
    on digits), in half the time on a CPU.
    """
    from tensorflow_privacy import VectorizedDPKerasAdamOptimizer

    return VectorizedDPKerasAdamOptimizer(
        l2_norm_clip=dp.l2_norm_clip,
        noise_multiplier=dp.noise_multiplier,
        num_microbatches=batch_size,
        learning_rate=dp.learning_rate,
    )
