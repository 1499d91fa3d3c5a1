"""The model under test: a functional-API CNN, returned uncompiled (the suite compiles it).

It takes the input shape from the profile, so the same builder serves 32x32x3
CIFAR-10 images and 8x8x1 digits: each block halves the image with a
max-pool, and the head flattens what is left (8x8x64 or 2x2x64 features).
Batch normalisation uses momentum 0.9 instead of Keras' 0.99: with 1,000
images in batches of 32 an epoch is 32 steps, and with the default the moving
statistics that inference mode uses lagged so far behind that the model
scored 10 % on its own members after five epochs. The attacks see
inference-mode outputs.
"""

from __future__ import annotations

import tensorflow as tf


def cnn(input_shape, num_classes, filters=(32, 64), dense=128, dropout=0.3, bn_momentum=0.9):
    """Conv-BN-ReLU-max-pool blocks, then flatten, dropout, dense, dropout and one logit per class."""
    inputs = tf.keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for i, width in enumerate(filters):
        x = tf.keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = tf.keras.layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i}")(x)
        x = tf.keras.layers.Activation("relu", name=f"relu{i}")(x)
        x = tf.keras.layers.MaxPooling2D(name=f"pool{i}")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = tf.keras.layers.Dropout(dropout, name="dropout")(x)
    x = tf.keras.layers.Dense(dense, activation="relu", name="dense")(x)
    x = tf.keras.layers.Dropout(dropout, name="dropout_head")(x)
    logits = tf.keras.layers.Dense(num_classes, name="logits")(x)
    return tf.keras.Model(inputs, logits, name="cnn")
