"""The model under test: a plain Keras MLP, returned uncompiled (the suite compiles it).

Written against Keras 3's API (``import keras``), which Keras 2.15 also
serves: the same builder trains on the codelab lane (TensorFlow 2.15) and on
the current lane (TensorFlow 2.16+ with Keras 3), each against its own
baselines (``baselines/breast-cancer/`` and ``baselines/breast-cancer/current/``).
"""

from __future__ import annotations

import keras


def mlp(input_shape, num_classes, hidden=(128, 128), dropout=0.0):
    """Dense ReLU layers, then one logit per class."""
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for units in hidden:
        x = keras.layers.Dense(units, activation="relu")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    logits = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, logits, name="mlp")
