"""Which stack this process trains on: the codelab lane or the current lane.

* The **codelab lane** is the seed's own stack: TensorFlow 2.15 with Keras 2
  (``tf.keras``) and TensorFlow Privacy 0.8.12, whose DP optimizer trains the
  DP models (with :mod:`privacy_checks.train.per_example`'s gradients). The
  built-in baselines hold its numbers. Python 3.10/3.11 only: TF Privacy
  cannot be installed elsewhere.
* The **current lane** is what teams start on now: TensorFlow 2.16+ with Keras 3
  (Python 3.10 to 3.13), where TF Privacy cannot be installed or imported; DP
  models train with the project's own DP-SGD (:mod:`privacy_checks.train.dp_sgd`).

The attacks are the project's own on both (:mod:`privacy_checks.attack.mia`,
TF Privacy's numbers bit for bit on the codelab lane). The lane is read from
the installed distributions, without importing TensorFlow: the codelab lane is
Keras 2 (TensorFlow below 2.16) with TF Privacy installed; anything else is
the current lane.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os

CODELAB, CURRENT = "codelab", "current"

#: Keras's backends the project trains on. Keras 3 can also run on JAX or PyTorch, but the
#: models are trained and their DP-SGD computed with TensorFlow ops.
SUPPORTED_BACKEND = "tensorflow"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _release(version: str | None) -> tuple[int, ...]:
    parts = []
    for part in (version or "0").split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


@functools.lru_cache(maxsize=None)
def lane() -> str:
    """:data:`CODELAB` or :data:`CURRENT` (module doc)."""
    tensorflow = _version("tensorflow") or _version("tensorflow-cpu")
    keras_2 = _release(tensorflow) < (2, 16)
    return CODELAB if keras_2 and _version("tensorflow-privacy") is not None else CURRENT


def keras_2() -> bool:
    """Whether ``tf.keras`` is Keras 2 (TensorFlow below 2.16): the codelab lane's Keras."""
    tensorflow = _version("tensorflow") or _version("tensorflow-cpu")
    return _release(tensorflow) < (2, 16)


def describe() -> str:
    """The lane and its stack in one phrase, for the header: ``current lane (TensorFlow 2.21.0, Keras 3.15.1)``."""
    tensorflow = _version("tensorflow") or _version("tensorflow-cpu") or "not installed"
    if lane() == CODELAB:
        return f"codelab lane (TensorFlow {tensorflow}, Keras 2, TF Privacy {_version('tensorflow-privacy')})"
    keras = "Keras 2" if keras_2() else f"Keras {_version('keras') or '?'}"
    return f"current lane (TensorFlow {tensorflow}, {keras})"


def backend_problem() -> str | None:
    """Why Keras's configured backend cannot train here, as a sentence with the fix; None if it can.

    Keras 3 reads ``KERAS_BACKEND`` (or ``~/.keras/keras.json``); the gate trains with TensorFlow.
    """
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen is None or keras_2():
        return None
    if chosen.strip().lower() == SUPPORTED_BACKEND:
        return None
    return (
        f"KERAS_BACKEND={chosen}: privacy_checks trains models and computes DP-SGD's per-example "
        "gradients with TensorFlow, and Keras 3 on another backend gives other numbers and no DP-SGD. "
        "Unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow for the privacy checks."
    )
