"""The models under test: the privacy report codelab's ``small_cnn``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # TensorFlow is imported only when a model is built.
    import tensorflow as tf


def small_cnn(
    input_shape: tuple[int, int, int],
    num_classes: int,
    num_conv: int,
    activation: str = "relu",
    padding: str = "valid",
    learning_rate: float = 1e-3,
) -> "tf.keras.Model":
    """TF Privacy's codelab CNN: ``num_conv`` x (Conv 32 3x3 + max-pool), dense 64, logits.

    ``padding='valid'`` is the tutorial's; 8x8 inputs need ``'same'`` so that
    three conv/pool stages still leave a feature map. Compiled with Adam and a
    from-logits cross-entropy on integer labels (the tutorial's one-hot
    ``CategoricalCrossentropy`` computes the same loss).
    """
    import tensorflow as tf

    layers = [tf.keras.layers.Input(shape=input_shape)]
    for _ in range(num_conv):
        layers.append(tf.keras.layers.Conv2D(32, (3, 3), activation=activation, padding=padding))
        layers.append(tf.keras.layers.MaxPooling2D())
    layers += [
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation=activation),
        tf.keras.layers.Dense(num_classes),
    ]
    model = tf.keras.Sequential(layers)
    model.compile(
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
    )
    return model
