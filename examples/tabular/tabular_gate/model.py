"""The model under test: a plain Keras MLP, returned uncompiled (the suite compiles it)."""

from __future__ import annotations

import tensorflow as tf


def mlp(input_shape, num_classes, hidden=(128, 128), dropout=0.0):
    """Dense ReLU layers, then one logit per class."""
    inputs = tf.keras.Input(shape=tuple(input_shape))
    x = inputs
    for units in hidden:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
        if dropout:
            x = tf.keras.layers.Dropout(dropout)(x)
    logits = tf.keras.layers.Dense(num_classes)(x)
    return tf.keras.Model(inputs, logits, name="mlp")
