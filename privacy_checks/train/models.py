"""The models under test: a user's builder, or the privacy report codelab's ``small_cnn``.

Every model comes from a builder, ``builder(input_shape, num_classes,
**params) -> tf.keras.Model``; the codelab CNN is the built-in one
(:func:`codelab_cnn`). :func:`build` calls the builder, checks what it
returned against the profile before any training (a Keras model, one output
per class, logits or probabilities as declared, nothing DP-SGD cannot
bound), and compiles it when its author did not: with the profile's Adam
learning rate, or with DP-SGD when the model asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from privacy_checks.spec.dotted import UserCodeError, resolve
from privacy_checks.spec.model_spec import DPSGD, ModelSpec
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import derive_seed
from privacy_checks.train import dp_sgd, lane, per_example

if TYPE_CHECKING:  # TensorFlow is imported only when a model is built.
    import tensorflow as tf

#: How far a row of probabilities may sum from 1 (float32 softmax rounding).
_SUMS_TO_ONE = 1e-3


def codelab_cnn(
    input_shape: tuple[int, ...],
    num_classes: int,
    num_conv: int,
    activation: str = "relu",
    padding: str = "valid",
    filters: int = 32,
    dense_units: int = 64,
) -> "tf.keras.Model":
    """TF Privacy's codelab CNN, uncompiled: ``num_conv`` x (Conv 3x3 + max-pool), dense, logits.

    ``filters`` and ``dense_units`` widen it (a wider network memorises more:
    one of the regressions the suite is tested to catch). ``padding='valid'``
    is the tutorial's; 8x8 inputs need ``'same'`` so that three conv/pool
    stages still leave a feature map.
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
    return tf.keras.Sequential(layers)


def small_cnn(
    input_shape: tuple[int, ...],
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
    """The codelab CNN compiled as the codelab does (Adam, cross-entropy from logits), or with DP-SGD."""
    model = codelab_cnn(input_shape, num_classes, num_conv, activation, padding, filters, dense_units)
    compile_model(model, "logits", learning_rate, dp, batch_size)
    return model


def compile_model(
    model: "tf.keras.Model",
    outputs: str,
    learning_rate: float,
    dp: DPSGD | None = None,
    batch_size: int | None = None,
    seed: int = 0,
) -> None:
    """Adam and a cross-entropy on integer labels (from logits or probabilities), or DP-SGD.

    The tutorial's one-hot ``CategoricalCrossentropy`` computes the same loss.
    With ``dp`` the loss is per example (``reduction=NONE``), which the DP
    optimizer needs to clip each example's gradient. On the codelab lane that
    optimizer is TF Privacy's, with each example's gradient computed from that
    example alone where that gives the same bits
    (:mod:`privacy_checks.train.per_example`); on the current lane it is the
    project's own DP-SGD (:mod:`privacy_checks.train.dp_sgd`), whose noise
    follows ``seed`` and the step.
    """
    import tensorflow as tf

    from_logits = outputs == "logits"
    if dp is not None and lane.lane() == lane.CURRENT:
        if batch_size is None:
            raise ValueError("a DP-SGD model needs the batch size: one microbatch per example")
        dp_sgd.compile_private(model, dp, batch_size, seed, from_logits=from_logits)
        return
    if dp is None:
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    else:
        if batch_size is None:
            raise ValueError("a DP-SGD model needs the batch size: one microbatch per example")
        loss = tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=from_logits, reduction=tf.keras.losses.Reduction.NONE
        )
        optimizer = dp_optimizer(dp, batch_size)
    model.compile(loss=loss, optimizer=optimizer, metrics=["accuracy"])
    if dp is not None:
        per_example.speed_up(model)


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


def where(profile: Profile, spec: ModelSpec, key: str | None = None) -> str:
    """How a message names a model's setting: ``profile 'wine', model 'mlp' (builder)``."""
    return f"profile {profile.name!r}, model {spec.name!r}" + (f" ({key})" if key else "")


def builder_of(profile: Profile, spec: ModelSpec) -> Callable[..., Any]:
    """The callable that builds ``spec``: the user's, or the codelab CNN with the spec's settings."""
    if spec.builder is None:
        return lambda input_shape, num_classes: codelab_cnn(
            input_shape,
            num_classes,
            spec.num_conv,
            activation=spec.activation,
            padding=profile.padding,
            filters=spec.filters or 32,
            dense_units=spec.dense_units or 64,
        )
    return resolve(spec.builder, where(profile, spec, "builder"))


def is_compiled(model: "tf.keras.Model") -> bool:
    """Compiled by its builder: Keras 2 keeps ``_is_compiled``, Keras 3 ``compiled``."""
    return bool(
        getattr(model, "_is_compiled", False) or getattr(model, "compiled", False)
        or getattr(model, "optimizer", None) is not None
    )


def is_keras_model(made: object, tf: Any) -> bool:
    """A Keras model, whichever way its author imported Keras (``tf.keras``, ``keras``)."""
    if isinstance(made, tf.keras.Model):
        return True
    try:
        import keras
    except ImportError:
        return False
    return isinstance(made, keras.Model)


def all_layers(model: "tf.keras.Model") -> list:
    """Every layer inside ``model``, nested ones too (Keras 2's ``submodules``, Keras 3's ``_flatten_layers``)."""
    if hasattr(model, "_flatten_layers"):
        return list(model._flatten_layers(include_self=False, recursive=True))
    return list(model.submodules)


def build(profile: Profile, spec: ModelSpec, made: "tf.keras.Model | None" = None) -> "tf.keras.Model":
    """``spec``'s model, checked against the profile and compiled; ``made``: one a hook built instead.

    Raises :class:`~privacy_checks.spec.dotted.UserCodeError` with the profile key
    and what to do when the model cannot be trained and attacked as declared.
    """
    import tensorflow as tf

    if made is None:
        builder = builder_of(profile, spec)
        try:
            made = builder(tuple(profile.input_shape), profile.num_classes, **dict(spec.params or {}))
        except UserCodeError:
            raise
        except Exception as error:
            raise UserCodeError(
                f"{where(profile, spec, 'builder')}: {spec.builder_name} raised "
                f"{type(error).__name__}: {error}. It is called as builder(input_shape, num_classes, "
                "**params) with the profile's input_shape and num_classes and the model's params: fix "
                "the builder, or the params it is given."
            ) from None
    if not is_keras_model(made, tf):
        raise UserCodeError(
            f"{where(profile, spec, 'builder')}: {spec.builder_name} returned a "
            f"{type(made).__name__}, not a tf.keras.Model; return the model (compiled or not)."
        )
    check_model(profile, spec, made)
    if not is_compiled(made):
        compile_model(made, spec.output_kind, profile.learning_rate, spec.dp, profile.batch_size,
                      seed=derive_seed(profile.seed, "dp-sgd noise", spec.name))
    return made


def check_model(profile: Profile, spec: ModelSpec, model: "tf.keras.Model") -> None:
    """Refuses what the suite cannot train honestly or attack correctly (messages say why)."""
    import tensorflow as tf

    shape = model.output_shape
    if isinstance(shape, list) or len(shape) != 2 or shape[-1] != profile.num_classes:
        raise UserCodeError(
            f"{where(profile, spec, 'builder')}: the model's output shape is {shape}, but the profile "
            f"has num_classes = {profile.num_classes}: end the model with one output per class "
            f"(e.g. Dense({profile.num_classes})), or fix num_classes."
        )
    if spec.dp is not None:
        if is_compiled(model):
            raise UserCodeError(
                f"{where(profile, spec, 'dp')}: the builder returned a compiled model, but the model "
                "trains with DP-SGD: return it uncompiled, so that the suite compiles it with TF "
                "Privacy's DP optimizer and a per-example loss (the accountant's epsilon must "
                "describe exactly what ran)."
            )
        normalising = [
            layer.name for layer in all_layers(model) if isinstance(layer, tf.keras.layers.BatchNormalization)
        ]
        if normalising:
            raise UserCodeError(
                f"{where(profile, spec, 'dp')}: batch normalisation ({', '.join(normalising)}) mixes "
                "the examples of a batch, so clipping each example's gradient no longer bounds its "
                "influence and the DP guarantee would not hold: use LayerNormalization or "
                "GroupNormalization, or train this model without dp."
            )


def check_outputs(profile: Profile, spec: ModelSpec, model: "tf.keras.Model", x: np.ndarray) -> None:
    """Probabilities declared as logits (or the reverse), seen on a few examples before training.

    Attacks on probabilities taken for logits would softmax them a second
    time and flatten every score: the gate would pass on a model that leaks.
    """
    rows = np.asarray(model(x[:64], training=False), dtype=np.float64)
    if not np.isfinite(rows).all():
        return  # training reports diverged outputs with the epoch
    looks_like_probabilities = bool((rows >= 0).all() and np.allclose(rows.sum(axis=1), 1, atol=_SUMS_TO_ONE))
    if spec.output_kind == "logits" and looks_like_probabilities:
        raise UserCodeError(
            f"{where(profile, spec, 'outputs')}: every output row is non-negative and sums to 1: "
            "the model outputs probabilities (a softmax), but outputs is 'logits'. "
            "Set outputs = \"probabilities\" for this model, or end it without the softmax."
        )
    if spec.output_kind == "probabilities" and not looks_like_probabilities:
        raise UserCodeError(
            f"{where(profile, spec, 'outputs')}: outputs is 'probabilities', but the model's rows do "
            "not sum to 1 (or are negative): end the model with a softmax, or set outputs = \"logits\"."
        )


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Probabilities as logits for the attacks: softmax(log p) = p, zeros clipped to the smallest float."""
    tiny = np.finfo(np.float32).tiny
    return np.log(np.clip(probabilities, tiny, None)).astype(np.float32)
