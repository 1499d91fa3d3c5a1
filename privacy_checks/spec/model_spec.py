"""One model of a study (:class:`ModelSpec`), its DP-SGD training (:class:`DPSGD`), how far its
metrics may rise (:class:`Tolerance`), and the ``package.module:function`` spelling of a builder.

Plain frozen values, no TensorFlow: :mod:`privacy_checks.train` builds the models they describe.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Mapping

from privacy_checks.spec.vocabulary import DEFAULT_DELTA, metric_fpr


@dataclasses.dataclass(frozen=True)
class DPSGD:
    """DP-SGD training of one model (TF Privacy's DP Adam), and what its accountant assumes.

    Every example is its own microbatch (``num_microbatches`` = batch size), so
    each example's gradient is clipped to ``l2_norm_clip`` before the Gaussian
    noise (``noise_multiplier`` x clip) is added. With larger microbatches the
    sensitivity doubles, which TF Privacy's RDP accountant does not account
    for; one example per microbatch keeps the reported epsilon honest.
    """

    l2_norm_clip: float
    noise_multiplier: float
    #: Noisy, clipped gradients want larger steps than the non-private model's.
    learning_rate: float
    #: Below 1 / members: the chance that the guarantee fails outright.
    delta: float = DEFAULT_DELTA
    #: The team's privacy budget: the accountant's epsilon at a report epoch above it
    #: fails that epoch's check, and no re-recording accepts it. None: no budget.
    #: Not part of the fingerprint (it judges, it does not change what is measured).
    max_epsilon: float | None = None

    def problems(self) -> list[str]:
        found = []
        if not self.l2_norm_clip > 0:
            found.append(
                f"l2_norm_clip must be > 0, got {self.l2_norm_clip}: set it to the largest gradient norm an "
                "example may have, e.g. 1.0."
            )
        if not self.noise_multiplier > 0:
            found.append(
                f"noise_multiplier must be > 0 for a finite epsilon, got {self.noise_multiplier}: set it to the "
                "noise's standard deviation in units of l2_norm_clip, e.g. 1.1."
            )
        if not self.learning_rate > 0:
            found.append(f"learning_rate must be > 0, got {self.learning_rate}: set DP-SGD's step size, e.g. 0.01.")
        if not 0 < self.delta < 1:
            found.append(f"delta must lie in (0, 1), got {self.delta}: set it below 1 / members, e.g. 1e-5.")
        if self.max_epsilon is not None and not self.max_epsilon > 0:
            found.append(
                f"max_epsilon must be > 0, got {self.max_epsilon}: set the largest epsilon the model may "
                "reach, e.g. 8, or leave it out for no budget."
            )
        return found

    def accounted(self) -> dict[str, float]:
        """The fields that decide what is trained and accounted (the fingerprint's part): no budget."""
        fields = dataclasses.asdict(self)
        fields.pop("max_epsilon")
        return fields


#: What a model's last layer gives: logits (the codelab's) or softmax probabilities.
OUTPUTS: tuple[str, ...] = ("logits", "probabilities")

#: ``"package.module:function"``: how a builder or data function is named in a profile.
_DOTTED = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def check_dotted(path: str, what: str) -> str:
    """Validates the spelling ``package.module:function``; returns it or raises ``ValueError``."""
    if not isinstance(path, str) or not _DOTTED.fullmatch(path):
        raise ValueError(
            f"{what} {path!r} is not of the form 'package.module:function' "
            "(an importable module, a colon, a callable in it): write it so, e.g. 'my_package.my_module:my_function'."
        )
    return path


def callable_name(function: Callable[..., Any] | str) -> str:
    """A builder or data function as a profile names it: ``package.module:function``."""
    if isinstance(function, str):
        return function
    module = getattr(function, "__module__", None) or "<unknown>"
    return f"{module}:{getattr(function, '__qualname__', repr(function))}"


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of a study: a user's builder, or the codelab's ``small_cnn`` with ``num_conv`` conv layers.

    A ``builder`` (``"package.module:function"``, or a callable when the profile
    is registered from Python) is called as ``builder(input_shape, num_classes,
    **params)`` and returns a ``tf.keras.Model``: compiled by its author (their
    loss, optimizer and metrics), or not, and then compiled by the suite with
    the profile's Adam learning rate, or with DP-SGD when ``dp`` is set.
    Without a builder the model is the codelab CNN, described by ``num_conv``,
    ``activation``, ``filters`` and ``dense_units``.
    """

    name: str  #: identifier used in test ids and file names, e.g. ``2_layers``
    label: str  #: the plots' ``model_variant_label``, e.g. ``2 Layers``
    #: Conv layers of the built-in codelab CNN (without a builder only).
    num_conv: int | None = None
    activation: str = "relu"
    #: Train with DP-SGD; the model then also gets epsilon checks.
    dp: DPSGD | None = None
    #: A non-private model of the profile whose entire-dataset AUC this DP model
    #: must not exceed (beyond the AUC tolerance) at any report epoch.
    compare_to: str | None = None
    #: Filters of each conv layer; None: the tutorial's 32.
    filters: int | None = None
    #: Units of the hidden dense layer; None: the tutorial's 64.
    dense_units: int | None = None
    #: ``"package.module:function"`` or a callable returning a ``tf.keras.Model``;
    #: None: the built-in codelab CNN.
    builder: str | Callable[..., Any] | None = None
    #: Keyword arguments of the builder (plain values: numbers, strings, lists).
    params: Mapping[str, Any] | None = None
    #: What the model outputs: ``logits`` or ``probabilities`` (softmax). The
    #: attacks see probabilities either way; None means ``logits``.
    outputs: str | None = None
    #: Declared by the user for what the cache cannot see (weights or files the
    #: builder reads); changing it retrains.
    version: str | None = None

    @property
    def output_kind(self) -> str:
        return self.outputs or "logits"

    @property
    def builder_name(self) -> str | None:
        return None if self.builder is None else callable_name(self.builder)

    def problems(self) -> list[str]:
        """What is wrong with this model's description (empty if nothing)."""
        found = []
        if self.builder is None:
            if not (isinstance(self.num_conv, int) and self.num_conv >= 1):
                found.append(
                    f"got num_conv={self.num_conv!r} and no builder: give a builder ('package.module:function' "
                    "returning a tf.keras.Model) or num_conv >= 1 for the built-in codelab CNN."
                )
            if self.params:
                found.append("params are the builder's arguments: set builder too, or remove params.")
        else:
            if isinstance(self.builder, str):
                try:
                    check_dotted(self.builder, "builder")
                except ValueError as error:
                    found.append(str(error))
            elif not callable(self.builder):
                found.append(
                    f"builder must be 'package.module:function' or a callable, got {self.builder!r}: "
                    "pass the function that builds the model, or its path."
                )
            codelab = [k for k in ("num_conv", "filters", "dense_units") if getattr(self, k) is not None]
            if codelab:
                found.append(
                    f"{', '.join(codelab)} describe the built-in codelab CNN; "
                    "pass your builder's arguments in params."
                )
        if self.params is not None and not isinstance(self.params, Mapping):
            found.append(
                f"params must be a table of keyword arguments, got {self.params!r}: "
                "give a mapping of the builder's argument names to values, e.g. {'hidden': 64}."
            )
        if self.outputs is not None and self.outputs not in OUTPUTS:
            found.append(
                f"outputs must be one of {', '.join(OUTPUTS)}, got {self.outputs!r}: "
                "set it to 'logits' or to 'probabilities' (a softmax at the end)."
            )
        return found

    def fingerprint(self) -> dict[str, Any]:
        """The fields that change the numbers, as JSON; fields added later are left out while unset."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["dp"] = None if self.dp is None else self.dp.accounted()
        fields["builder"] = self.builder_name
        fields["params"] = dict(self.params) if self.params else None
        if self.outputs == "logits":
            fields["outputs"] = None
        return {key: value for key, value in fields.items() if value is not None}


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """How much a metric may rise above its baseline before the check fails.

    Absolute, one-sided: only *more* leakage fails. ``tpr`` applies to the TPR
    at every checked FPR.
    """

    auc: float
    attacker_advantage: float
    tpr: float

    def for_metric(self, metric: str) -> float:
        return self.tpr if metric_fpr(metric) is not None else float(getattr(self, metric))
