"""DP-SGD of the project's own, on Keras 3 (TensorFlow backend) and on tf.keras 2.15.

One step, for a batch of exactly ``batch_size`` examples (Abadi et al., "Deep
Learning with Differential Privacy", CCS 2016, Algorithm 1):

1. each example's gradient from that example alone (:func:`per_example_gradients`:
   ``tf.vectorized_map`` over one-example forward and backward passes);
2. each gradient, as one vector over all trainable variables, scaled down to
   global L2 norm ``l2_norm_clip`` if longer, then summed (:func:`clip_and_sum`);
3. Gaussian noise of standard deviation ``noise_multiplier * l2_norm_clip``
   added to every coordinate of the sum (:func:`add_noise`);
4. divided by ``batch_size``, and handed to the model's own optimizer (Adam at
   the DP learning rate when :func:`compile_private` compiled it).

These are the operations, in the same order, of TF Privacy 0.8.12's
``VectorizedDPKerasAdamOptimizer`` with one microbatch per example, so that
the accountant's epsilon (:func:`privacy_checks.attack.accounting.epsilon`) describes
what runs; ``tests/test_dp_sgd.py`` checks the clipped sums bit for bit
against TF Privacy and the noise's law statistically. TF Privacy itself
cannot run on Keras 3 (its DP optimizers subclass ``keras.optimizers.legacy``).

:func:`make_private` gives a compiled model this step as its ``train_step``,
so ``model.fit(x, y, batch_size=B, shuffle=True)`` trains privately and logs
``loss`` and the compiled metrics as usual. It refuses what it cannot
privatise honestly (:class:`NotPrivatisable`).
"""

from __future__ import annotations

import dataclasses
import types
from typing import TYPE_CHECKING, Any, Sequence

from privacy_checks.spec.model_spec import DPSGD

if TYPE_CHECKING:  # TensorFlow is imported only when a model trains.
    import tensorflow as tf

#: Gradients of all trainable variables, one tensor per variable (a leading example axis where stated).
Gradients = Sequence["tf.Tensor"]


class NotPrivatisable(ValueError):
    """The model, its compilation or its data cannot be trained with DP-SGD honestly; the message says what to do."""


def clip_and_sum(per_example_grads: Gradients, l2_norm_clip: float) -> "tuple[list[tf.Tensor], tf.Tensor]":
    """Each example's gradient clipped to global L2 norm ``l2_norm_clip``, summed over the examples.

    ``per_example_grads``: one tensor per trainable variable, row ``i`` of each
    being example ``i``'s gradient. An example's norm is taken over all its
    variables together (the global norm); a gradient longer than the clip is
    divided by ``norm / l2_norm_clip``, a shorter one is left as is (divided by
    exactly 1). That is TF Privacy's vectorized clip (``g / max(norm / C, 1)``),
    not ``tf.clip_by_global_norm``'s ``g * C / max(norm, C)``: the same
    mathematics, other rounding, and the cross-check asks for TF Privacy's bits.

    Returns the summed gradients (one per variable, without the example axis)
    and the examples' norms before clipping (shape ``[examples]``).
    """
    import tensorflow as tf

    squares = [tf.reduce_sum(tf.square(g), axis=list(range(1, g.shape.rank))) for g in per_example_grads]
    norms = tf.sqrt(tf.add_n(squares))
    divisors = tf.maximum(norms / l2_norm_clip, 1.0)
    summed = [
        tf.reduce_sum(g / tf.reshape(divisors, [-1] + [1] * (g.shape.rank - 1)), axis=0)
        for g in per_example_grads
    ]
    return summed, norms


def add_noise(
    summed: Gradients, l2_norm_clip: float, noise_multiplier: float, seed: "tf.Tensor | Sequence[int]"
) -> "list[tf.Tensor]":
    """``summed`` plus Gaussian noise of mean 0 and std ``noise_multiplier * l2_norm_clip`` per coordinate.

    ``seed`` is a stateless seed, two integers: :func:`step_seed` makes it from
    the training's seed and the step number. The noise is a pure function of
    (seed, shapes): the same seed gives the same noise, so a training is
    reproducible from its seed alone and an audit can draw again exactly the
    noise of step ``t``; a different step gives independent noise (TensorFlow's
    counter-based Philox generator, keyed by the seed). Each variable draws
    from its own key, split from ``seed`` (``stateless_split``). Stateful
    ``tf.random.normal`` (TF Privacy's) instead depends on the global seed and
    the order in which random ops were created, which any change to the graph
    shifts.
    """
    import tensorflow as tf

    stddev = noise_multiplier * l2_norm_clip
    keys = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=len(summed))
    return [
        g + tf.random.stateless_normal(tf.shape(g), seed=keys[i], stddev=stddev, dtype=g.dtype)
        for i, g in enumerate(summed)
    ]


def step_seed(seed: int, step: "tf.Tensor | int") -> "tf.Tensor":
    """The stateless seed of step ``step`` of a training seeded with ``seed``: ``[seed, step]``."""
    import tensorflow as tf

    return tf.stack([tf.constant(seed, tf.int64), tf.cast(step, tf.int64)])


def privatise(
    per_example_grads: Gradients, dp: DPSGD, batch_size: int, seed: "tf.Tensor | Sequence[int]"
) -> "tuple[list[tf.Tensor], tf.Tensor]":
    """One DP-SGD step's gradients: clip and sum, add noise, divide by ``batch_size``; and the norms."""
    import tensorflow as tf

    summed, norms = clip_and_sum(per_example_grads, dp.l2_norm_clip)
    noised = add_noise(summed, dp.l2_norm_clip, dp.noise_multiplier, seed)
    return [g / tf.cast(batch_size, g.dtype) for g in noised], norms


def per_example_gradients(
    model: Any, loss: Any, x: "tf.Tensor", y: "tf.Tensor"
) -> "tuple[list[tf.Tensor], tf.Tensor, tf.Tensor]":
    """Each example's gradient of its own loss, computed from that example alone.

    ``tf.vectorized_map`` over one-example forward and backward passes
    (``model(x[i:i+1], training=True)``): an example's gradient cannot depend
    on another example, whatever layer mixes a batch (batch normalisation is
    refused anyway, :func:`make_private`). A variable an example's loss does
    not reach gets a zero gradient. The vectorized kernels sum in another
    order than a one-example tape: a few float32 ulps apart (the tests' bound).
    Random layers stay private (each gradient still depends on its example
    alone) but, on Keras 3, ``Dropout`` then draws one mask for the whole
    batch (its seed generator is shared by the vectorized examples), not
    one per example as on tf.keras 2.15. Returns the gradients (one tensor per
    trainable variable, example axis first), the losses (``[examples]``) and
    the model's outputs (``[examples, ...]``), which the metrics reuse.
    """
    import tensorflow as tf

    variables = model.trainable_variables

    def one(example):
        xi, yi = example
        with tf.GradientTape() as tape:
            output = model(xi[None], training=True)
            value = loss(yi[None], output)
        grads = tape.gradient(value, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return list(grads), tf.reshape(value, []), output[0]

    return tf.vectorized_map(one, (x, y))


@dataclasses.dataclass(frozen=True)
class Private:
    """What :func:`make_private` attached to a model (``model.dp_sgd``)."""

    dp: DPSGD
    batch_size: int
    #: The noise's seed; the step number comes from the optimizer (``optimizer.iterations``).
    seed: int
    #: Keras 3 (``keras.Model`` with the TensorFlow backend) or tf.keras 2.
    keras3: bool


def make_private(model: Any, dp: DPSGD, batch_size: int, seed: int) -> Any:
    """Makes a compiled model's ``fit`` train with DP-SGD (module doc); returns the model.

    The model must be compiled with a loss object computing one loss per
    example (reduction ``None``/``'none'``) and an optimizer (the DP step
    hands it the private gradients: with :func:`compile_private`, Adam at
    ``dp.learning_rate``). The noise of optimizer step ``t`` is drawn from
    ``step_seed(seed, t)``, ``t`` being ``optimizer.iterations``: a training
    resumed with its optimizer's state goes on with fresh noise, and two
    trainings that must not share noise need different seeds.

    Raises :class:`NotPrivatisable` for batch normalisation, losses added by
    layers or regularisers, optimizers that accumulate gradients, and
    uncompiled or batch-reduced losses; sample weights and batches other than
    ``batch_size`` examples (a partial last batch) are refused when ``fit``
    meets them.
    """
    keras3 = _is_keras3(model)
    _refuse_model(model)
    loss = getattr(model, "loss", None)
    if not _per_example_loss(loss):
        raise NotPrivatisable(
            f"DP-SGD needs the model compiled with a loss object that returns one loss per example "
            f"(reduction None), got {loss!r}: compile with e.g. SparseCategoricalCrossentropy("
            "from_logits=True, reduction=None) ('none' on tf.keras 2), or use dp_sgd.compile_private"
        )
    if getattr(model, "optimizer", None) is None:
        raise NotPrivatisable("DP-SGD hands its gradients to the model's optimizer: compile the model first")
    if getattr(model.optimizer, "gradient_accumulation_steps", None):
        raise NotPrivatisable(
            "the optimizer accumulates gradients over steps (gradient_accumulation_steps): each DP-SGD "
            "step's noise is calibrated to one batch, so accumulate by raising batch_size instead"
        )
    if int(batch_size) < 1:
        raise NotPrivatisable(f"batch_size must be >= 1, got {batch_size}")
    if not 0 <= int(seed) < 2**63:
        raise NotPrivatisable(f"the noise seed must be an integer in [0, 2**63), got {seed}")
    private = Private(dp, int(batch_size), int(seed), keras3)
    model.dp_sgd = private
    model.train_step = types.MethodType(_train_step, model)
    model.fit = types.MethodType(_checked_fit(type(model).fit), model)
    model.train_function = None  # Keras caches the traced step; trace ours.
    return model


def compile_private(model: Any, dp: DPSGD, batch_size: int, seed: int, from_logits: bool = True) -> Any:
    """Compiles ``model`` as the suite compiles a DP model and makes it private (:func:`make_private`).

    Adam at ``dp.learning_rate``, sparse categorical cross-entropy per example
    (from logits or probabilities), accuracy; for ``keras.Model`` on Keras 3
    or ``tf.keras`` 2.15 alike.
    """
    import tensorflow as tf

    keras = _keras_of(model)
    none = None if _is_keras3(model) else tf.keras.losses.Reduction.NONE
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=none)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=dp.learning_rate), loss=loss, metrics=["accuracy"]
    )
    return make_private(model, dp, batch_size, seed)


def _train_step(self: Any, data: Any) -> dict:
    """One DP-SGD step on a batch of ``batch_size`` examples (module doc); ``fit``'s logs."""
    import tensorflow as tf

    private: Private = self.dp_sgd
    x, y, sample_weight = _keras_of(self).utils.unpack_x_y_sample_weight(data)
    if sample_weight is not None:
        raise NotPrivatisable(
            "DP-SGD got sample weights (sample_weight or class_weight in fit): a weighted example's "
            "gradient is not clipped to l2_norm_clip, so the guarantee would not hold; train without them"
        )
    if not isinstance(x, tf.Tensor) or not isinstance(y, tf.Tensor):
        raise NotPrivatisable("DP-SGD trains on one input and one target tensor per batch (x, y)")
    rows = x.shape[0]
    if rows is not None and rows != private.batch_size:
        raise NotPrivatisable(_batch_message(private.batch_size, f"a batch of {rows} examples"))
    check = tf.debugging.assert_equal(
        tf.shape(x)[0], private.batch_size, message=_batch_message(private.batch_size, "another batch size")
    )
    with tf.control_dependencies([check]):
        x = tf.identity(x)
    grads, losses, y_pred = per_example_gradients(self, self.loss, x, y)
    _refuse_added_losses(self)
    step = self.optimizer.iterations
    noised, _ = privatise(grads, private.dp, private.batch_size, step_seed(private.seed, step))
    self.optimizer.apply_gradients(zip(noised, self.trainable_variables))
    if private.keras3:
        self._loss_tracker.update_state(tf.reduce_mean(losses), sample_weight=tf.shape(losses)[0])
    else:  # Keras 2's loss metric is updated by the compiled loss (the per-example losses' mean).
        self.compiled_loss(y, y_pred, None, regularization_losses=[])
    return self.compute_metrics(x, y, y_pred, None)


def _checked_fit(fit):
    """``fit``, refusing up front a batch size or a number of examples that DP-SGD cannot use."""

    def checked(self, x=None, y=None, batch_size=None, *args, **kwargs):
        private: Private = self.dp_sgd
        if batch_size is not None and batch_size != private.batch_size:
            raise NotPrivatisable(_batch_message(private.batch_size, f"fit(batch_size={batch_size})"))
        rows = len(x) if hasattr(x, "shape") and hasattr(x, "__len__") else None
        if rows is not None and rows % private.batch_size:
            raise NotPrivatisable(
                _batch_message(private.batch_size, f"{rows} examples, leaving a partial last batch")
            )
        if kwargs.get("sample_weight") is not None or kwargs.get("class_weight") is not None:
            raise NotPrivatisable(
                "DP-SGD got sample weights (sample_weight or class_weight in fit): a weighted example's "
                "gradient is not clipped to l2_norm_clip, so the guarantee would not hold; train without them"
            )
        if batch_size is None and rows is not None:
            batch_size = private.batch_size  # Keras's default (32) would be refused by the step
        return fit(self, x, y, batch_size, *args, **kwargs)

    return checked


def _batch_message(batch_size: int, got: str) -> str:
    return (
        f"DP-SGD was made private for batches of exactly {batch_size} examples, got {got}: the noisy sum "
        f"is divided by {batch_size} and the accountant assumes that many examples a step. Pass "
        f"batch_size={batch_size} to fit and train on a multiple of {batch_size} examples"
    )


def _refuse_model(model: Any) -> None:
    """Batch normalisation and added losses, found before training."""
    keras = _keras_of(model)
    layers = list(model._flatten_layers(include_self=False, recursive=True))
    normalising = [layer.name for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    if normalising:
        raise NotPrivatisable(
            f"batch normalisation ({', '.join(normalising)}) mixes the examples of a batch, so clipping "
            "each example's gradient would not bound its influence: use LayerNormalization or "
            "GroupNormalization, or train without DP-SGD"
        )
    regularised = [layer.name for layer in layers if getattr(layer, "activity_regularizer", None) is not None]
    if regularised or model.losses:
        _refuse_added_losses(model, regularised or ["a layer"])


def _refuse_added_losses(model: Any, names: Sequence[str] | None = None) -> None:
    if names is None and not model.losses:
        return
    raise NotPrivatisable(
        f"{', '.join(names or ['a layer'])} adds a loss (a regulariser or add_loss): DP-SGD clips "
        "each example's own loss gradient and cannot bound a loss of the whole batch or of the weights. "
        "Remove the kernel/bias/activity regularisers and add_loss calls (weight decay can be the "
        "optimizer's, e.g. AdamW), or train without DP-SGD"
    )


def _per_example_loss(loss: Any) -> bool:
    reduction = getattr(loss, "reduction", "sum_over_batch_size")
    return callable(loss) and not isinstance(loss, str) and (reduction is None or str(reduction).lower() == "none")


def _is_keras3(model: Any) -> bool:
    """Whether ``model`` is a Keras 3 model (then the TensorFlow backend is required)."""
    try:
        import keras
    except ImportError:
        return False
    if int(keras.__version__.split(".")[0]) < 3 or not isinstance(model, keras.Model):
        return False
    if keras.backend.backend() != "tensorflow":
        raise NotPrivatisable(
            f"DP-SGD here runs on Keras 3's TensorFlow backend, not {keras.backend.backend()!r}: "
            "set KERAS_BACKEND=tensorflow"
        )
    return True


def _keras_of(model: Any) -> Any:
    """The Keras module ``model`` belongs to: ``keras`` 3, or ``tf.keras`` 2."""
    if _is_keras3(model):
        import keras

        return keras
    import tensorflow as tf

    return tf.keras
