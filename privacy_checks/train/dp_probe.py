"""A DP model's own privatisation step, run on gradient rows the auditor chooses: the white-box probe.

The white-box audit (:mod:`privacy_checks.attack.white_box`) measures what
a DP model's optimizer *does*, not what its settings say. :class:`Probe`
runs the very code that privatises each training step on per-example
gradient rows:

* current lane, the project's DP-SGD: :func:`~privacy_checks.train.dp_sgd.privatise`
  with the model's own settings (``model.dp_sgd``) and the noise seed of
  step t that training uses, so the noise measured is the noise that
  training drew at that step;
* codelab lane, TF Privacy's vectorized DP Adam: its ``_compute_gradients``
  (clip each row, sum, add ``tf.random.normal`` noise, divide by the
  microbatch count), handed the rows through a tape whose ``jacobian``
  returns them, as the model's ``train_step`` hands it the per-example
  gradients.

"Noise off" is the same code with noise multiplier 0: the model's settings
with ``noise_multiplier=0`` on the current lane, a twin of TF Privacy's
optimizer (same class, clip and microbatches) on the codelab lane. The
difference of the two is the noise alone. What the probe returns is what
the optimizer is handed (the noised sum divided by the optimizer's own
divisor), flat over all trainable variables; the audit, not the probe,
knows the claim.

Canaries (:meth:`Probe.canary_observations`) are extra rows appended to a
batch's rows inside the same step: a huge value at one coordinate each. The
probe never applies a gradient, so nothing here changes the model: the
audit costs privatisation steps, no training.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from privacy_checks.train import dp_sgd

if TYPE_CHECKING:
    import tensorflow as tf

OURS, TF_PRIVACY = "dp_sgd", "tf_privacy"


@dataclasses.dataclass(frozen=True)
class Configured:
    """What the optimizer's own settings say (read from it, for the report; the audit measures)."""

    optimizer: str
    l2_norm_clip: float
    noise_multiplier: float
    #: What the noised sum is divided by (batch size, or TF Privacy's microbatch count).
    divisor: int


class _RowsTape:
    """A tape for TF Privacy's ``_compute_gradients`` whose ``jacobian`` is the rows given."""

    def __init__(self, rows: Sequence["tf.Tensor"]) -> None:
        self._rows = list(rows)

    def __enter__(self) -> "_RowsTape":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def watch(self, *args: object) -> None:
        return None

    def jacobian(self, target: Any, sources: Any, **kwargs: Any) -> list:
        return list(self._rows)


def optimizer_kind(model: Any) -> str:
    """Which privatisation trains ``model``: the project's DP-SGD or TF Privacy's optimizer."""
    if getattr(model, "dp_sgd", None) is not None:
        return OURS
    if hasattr(getattr(model, "optimizer", None), "_l2_norm_clip"):
        return TF_PRIVACY
    raise ValueError(
        "The model trains with neither the project's DP-SGD (model.dp_sgd) nor TF Privacy's DP "
        "optimizer, so its DP step cannot be audited: give the model spec a dp setting and let the "
        "suite compile it (train.models.build)."
    )


class Probe:
    """Runs ``model``'s privatisation step on rows (module doc); nothing is trained or changed."""

    def __init__(self, model: Any) -> None:
        import tensorflow as tf

        self.model = model
        self.kind = optimizer_kind(model)
        self.variables = list(model.trainable_variables)
        self.sizes = [int(np.prod(v.shape)) for v in self.variables]
        self.dimension = int(sum(self.sizes))
        if self.kind == OURS:
            private = model.dp_sgd
            self.configured = Configured(
                OURS, private.dp.l2_norm_clip, private.dp.noise_multiplier, private.batch_size
            )
        else:
            optimizer = model.optimizer
            self._twin = type(optimizer)(
                l2_norm_clip=optimizer._l2_norm_clip, noise_multiplier=0.0,
                num_microbatches=optimizer._num_microbatches,
            )
            self.configured = Configured(
                f"{TF_PRIVACY}:{type(optimizer).__module__.rsplit('.', 1)[-1]}", float(optimizer._l2_norm_clip),
                float(optimizer._noise_multiplier), int(optimizer._num_microbatches or 0),
            )
        self._rows_fn = tf.function(lambda x, y: dp_sgd.per_example_gradients(model, model.loss, x, y)[0])
        self._step_fn = tf.function(self._flat_step)
        self._canary_fn = tf.function(self._canary_step, reduce_retracing=True)  # canaries present vary by step

    # --- the privatisation step, as the optimizer runs it -------------------------------------

    def _step(self, rows: Sequence["tf.Tensor"], step: "tf.Tensor", noisy: bool) -> list:
        import tensorflow as tf

        if self.kind == OURS:
            private = self.model.dp_sgd
            dp = private.dp if noisy else dataclasses.replace(private.dp, noise_multiplier=0.0)
            handed, _ = dp_sgd.privatise(rows, dp, private.batch_size, dp_sgd.step_seed(private.seed, step))
            return handed
        optimizer = self.model.optimizer if noisy else self._twin
        count = optimizer._num_microbatches or tf.shape(rows[0])[0]
        pairs = optimizer._compute_gradients(tf.zeros([count]), self.variables, tape=_RowsTape(rows))
        return [g for g, _ in pairs]

    def _flat_step(self, rows: Sequence["tf.Tensor"], step: "tf.Tensor", noisy: bool) -> "tf.Tensor":
        import tensorflow as tf

        return tf.concat([tf.reshape(g, [-1]) for g in self._step(rows, step, noisy)], axis=0)

    def _canary_step(
        self, rows: Sequence["tf.Tensor"], present: "tf.Tensor", coordinates: "tf.Tensor",
        value: "tf.Tensor", step: "tf.Tensor",
    ) -> "tf.Tensor":
        import tensorflow as tf

        count = tf.shape(present)[0]
        flat = tf.scatter_nd(
            tf.stack([tf.range(count), present], axis=1), tf.fill([count], value), [count, self.dimension]
        )
        parts = tf.split(flat, self.sizes, axis=1)
        canary_rows = [tf.reshape(p, tf.concat([[count], tf.shape(v)], 0)) for p, v in zip(parts, self.variables)]
        joined = [tf.concat([r, c], axis=0) for r, c in zip(rows, canary_rows)]
        return tf.gather(self._flat_step(joined, step, True), coordinates)

    # --- what the audit calls ------------------------------------------------------------------

    def rows(self, x: np.ndarray, y: np.ndarray) -> list:
        """Each example's gradient of its own loss at the model's current weights (the rows the
        optimizer clips), from :func:`~privacy_checks.train.dp_sgd.per_example_gradients`."""
        import tensorflow as tf

        return list(self._rows_fn(tf.convert_to_tensor(x), tf.convert_to_tensor(y)))

    def handed(self, rows: Sequence["tf.Tensor"], step: int, noisy: bool = True) -> np.ndarray:
        """What the optimizer is handed for ``rows`` at training step ``step``, flat (float64).
        ``step`` sets the noise seed on the current lane; TF Privacy draws fresh noise each call."""
        import tensorflow as tf

        return self._step_fn(list(rows), tf.constant(step, tf.int64), noisy).numpy().astype(np.float64)

    def contributions(self, rows: Sequence["tf.Tensor"]) -> np.ndarray:
        """Each row's contribution to the noise-free step, isolated as the difference of the step
        with and without that row (the row replaced by zeros): shape ``[rows, dimension]``, in the
        units the optimizer is handed."""
        import tensorflow as tf

        rows = list(rows)
        whole = self.handed(rows, 0, noisy=False)
        found = []
        for i in range(int(rows[0].shape[0])):
            keep = tf.reshape(tf.one_hot(i, int(rows[0].shape[0]), on_value=0.0, off_value=1.0), [-1, 1])
            without = [r * tf.reshape(keep, [-1] + [1] * (r.shape.rank - 1)) for r in rows]
            found.append(whole - self.handed(without, 0, noisy=False))
        return np.stack(found)


    def canary_observations(
        self, rows: Sequence["tf.Tensor"], present: np.ndarray, coordinates: np.ndarray, value: float, step: int
    ) -> np.ndarray:
        """The noised step of ``rows`` plus one canary row per coordinate in ``present`` (``value``
        there, zero elsewhere), read at every canary coordinate (``coordinates``), as handed."""
        import tensorflow as tf

        return self._canary_fn(
            list(rows), tf.constant(np.asarray(present, np.int32)), tf.constant(np.asarray(coordinates, np.int32)),
            tf.constant(value, tf.float32), tf.constant(step, tf.int64),
        ).numpy().astype(np.float64)


def raw_norms(rows: Sequence["tf.Tensor"]) -> np.ndarray:
    """Each row's global L2 norm over all variables, before clipping (float64)."""
    flat = np.concatenate([np.asarray(r, np.float64).reshape(int(r.shape[0]), -1) for r in rows], axis=1)
    return np.sqrt(np.sum(flat**2, axis=1))


def adversarial(x: np.ndarray, y: np.ndarray, num_classes: int, scale: float = 1000.0) -> tuple[np.ndarray, np.ndarray]:
    """The batch made adversarial: every input scaled by ``scale`` and every label moved to another
    class, so that raw gradients are far above any sensible clip. All of them, not one: a single
    scaled example can saturate the network to a zero gradient (seen on digits with some batches),
    and the audit keeps the one whose raw gradient is largest as "the adversarial example"."""
    return np.asarray(x) * scale, (np.asarray(y) + 1) % num_classes


def train_step_handed(model: Any, x: np.ndarray, y: np.ndarray, step: int) -> np.ndarray:
    """What the model's own ``train_step`` hands its optimizer on (x, y) at step ``step``, noise off,
    flat: its ``apply_gradients`` is replaced for the call by one that keeps the gradients and
    applies nothing. The audit compares it with :meth:`Probe.handed` on the same batch, which shows
    that the probe runs what training runs. The model, its weights and its optimizer are left as
    they were (its metrics are reset)."""
    import tensorflow as tf

    optimizer, kept = model.optimizer, {}
    kind = optimizer_kind(model)
    saved_iterations = int(optimizer.iterations.numpy())
    saved_private, saved_noise = getattr(model, "dp_sgd", None), getattr(optimizer, "_noise_multiplier", None)

    def spy(grads_and_vars: Any, *args: Any, **kwargs: Any) -> Any:
        kept["grads"] = [g for g, _ in grads_and_vars]
        return tf.no_op()

    optimizer.apply_gradients = spy
    try:
        if kind == OURS:
            model.dp_sgd = dataclasses.replace(saved_private, dp=dataclasses.replace(saved_private.dp, noise_multiplier=0.0))
        else:
            optimizer._noise_multiplier = 0.0
        optimizer.iterations.assign(step)

        @tf.function
        def run(x: "tf.Tensor", y: "tf.Tensor") -> list:
            model.train_step((x, y))
            return kept["grads"]

        grads = run(tf.convert_to_tensor(x), tf.convert_to_tensor(y))
    finally:
        del optimizer.apply_gradients
        if kind == OURS:
            model.dp_sgd = saved_private
        else:
            optimizer._noise_multiplier = saved_noise
        optimizer.iterations.assign(saved_iterations)
        model.reset_metrics()
    return np.concatenate([g.numpy().ravel() for g in grads]).astype(np.float64)
