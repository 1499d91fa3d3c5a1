"""The words a profile is made of: attacks, metrics, slices, data sources, seeds, and the specs
of a model, its DP-SGD training and its tolerances; and how two profiles' fingerprints differ.

Plain values and pure functions, no TensorFlow: :mod:`privacy_checks.profiles`
builds profiles from them and re-exports them, so users import from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any, Callable, Mapping

from privacy_checks.metrics import metric_fpr

#: TF Privacy ``AttackType`` member names, by the short name used in test ids
#: and baseline keys.
ATTACKS: Mapping[str, str] = {
    "threshold": "THRESHOLD_ATTACK",
    "logistic_regression": "LOGISTIC_REGRESSION",
    "threshold_entropy": "THRESHOLD_ENTROPY_ATTACK",
    "mlp": "MULTI_LAYERED_PERCEPTRON",
    "random_forest": "RANDOM_FOREST",
    "knn": "K_NEAREST_NEIGHBORS",
}

#: Attacks that compare the model's outputs with those of reference models trained
#: the same way on random halves of the population (:mod:`privacy_checks.references`):
#: Carlini et al.'s LiRA (offline: OUT references only, one-sided; online: IN and
#: OUT) and Zarifzadeh et al.'s RMIA (offline). Each needs a number of reference
#: models, ``Profile.reference_models[attack]``.
REFERENCE_ATTACKS: tuple[str, ...] = ("lira_offline", "lira_online", "rmia")


def reference_model_problems(attacks: tuple[str, ...], reference_models: Mapping[str, int]) -> list[str]:
    """What is wrong with a profile's reference models per attack (empty if nothing).

    References come in complementary pairs (each example is IN for exactly
    half of them), so every K is even; an attack without references, or
    references for an attack the profile does not run, is a mistake.
    """
    found = []
    for attack, k in reference_models.items():
        if attack not in REFERENCE_ATTACKS:
            found.append(
                f"reference_models names {attack!r}, which is no reference-model attack; "
                f"use {', '.join(REFERENCE_ATTACKS)}."
            )
        elif attack not in attacks:
            found.append(
                f"reference_models names {attack!r}, which is not among the attacks {list(attacks)}: "
                f"add {attack!r} to attacks, or remove it from reference_models."
            )
        if not (isinstance(k, int) and not isinstance(k, bool) and k >= 2 and k % 2 == 0):
            found.append(
                f"reference_models[{attack!r}] must be an even number >= 2 (references come in "
                f"complementary pairs), got {k!r}: set it to an even number, e.g. 2 or 16."
            )
    missing = [a for a in attacks if a in REFERENCE_ATTACKS and a not in reference_models]
    if missing:
        found.append(
            f"attacks {missing} need reference models: set reference_models = "
            f"{{{', '.join(f'{a!r}: 4' for a in missing)}}} (an even number per attack)."
        )
    return found


#: Metrics every profile checks, named after TF Privacy's ``PrivacyMetric``; each
#: profile adds the true-positive rate at its low false-positive rates
#: (:attr:`Profile.metrics`).
METRICS: tuple[str, ...] = ("auc", "attacker_advantage")

#: The false-positive rates whose TPR is checked unless a profile says otherwise:
#: the two operating points of Carlini et al.'s "first principles" paper.
DEFAULT_FPRS: tuple[float, ...] = (0.001, 0.01)

ENTIRE_DATASET = "entire_dataset"

#: DP-SGD's delta unless a model says otherwise, and the delta at which the
#: epsilon lower bounds of non-private models are stated.
DEFAULT_DELTA = 1e-5


#: The kinds of data source a profile's ``dataset`` names (:func:`check_dataset` spells them out).
DATASET_KINDS: tuple[str, ...] = ("digits", "cifar10", "imagefolder", "tfds", "npz", "function")

#: Kinds whose location is a file or folder: relative paths are resolved by the
#: caller, and the path (which differs per machine) is not part of a fingerprint.
_PATH_KINDS: tuple[str, ...] = ("imagefolder", "npz")

#: The tfds splits of ``tfds:NAME`` without ``@MEMBER_SPLIT,NON_MEMBER_SPLIT``: as the codelab's cifar10.
DEFAULT_TFDS_SPLITS: tuple[str, str] = ("train", "test")

_DATASET_SPELLINGS = (
    "digits, cifar10 or imagefolder:<dir> (<dir>/train/<class>/*, <dir>/test/<class>/*); "
    "or a team's own data: tfds:<name>[@<member split>,<non-member split>], npz:<file.npz> "
    "(arrays x_members, y_members, x_non_members, y_non_members) or function:<package.module:function>"
)


def dataset_kind(dataset: str) -> str:
    """``imagefolder:/any/path`` -> ``imagefolder``; other names unchanged."""
    return dataset.split(":", 1)[0]


def dataset_location(dataset: str) -> str | None:
    """What follows the kind: ``npz:data/x.npz`` -> ``data/x.npz``; None for a source without one (``digits``)."""
    kind, sep, where = dataset.partition(":")
    return where if sep else None


def is_path_source(dataset: str) -> bool:
    """Whether the source's location is a path (``imagefolder:``, ``npz:``), which callers
    resolve against the project or config directory before loading."""
    return dataset_kind(dataset) in _PATH_KINDS and dataset_location(dataset) is not None


def with_location(dataset: str, where: object) -> str:
    """The same kind of source at another location: ``imagefolder:`` + ``where``."""
    return f"{dataset_kind(dataset)}:{where}"


def tfds_source(dataset: str) -> tuple[str, str, str]:
    """``tfds:NAME[@MEMBERS,NON_MEMBERS]`` -> (NAME, member split, non-member split); ``ValueError`` if malformed.

    Split at the last ``@``: a tfds name may itself hold ``/`` and ``:``
    (``mnist:3.0.1``, ``huggingface:...``), and split names hold neither ``@`` nor ``,``.
    """
    where = dataset_location(dataset) or ""
    name, at, splits = where.rpartition("@")
    if not at:
        name, splits = where, ",".join(DEFAULT_TFDS_SPLITS)
    members, comma, non_members = splits.partition(",")
    if not name or not members.strip() or not non_members.strip() or "," in non_members:
        raise ValueError(
            f"dataset {dataset!r}: write tfds:<name> or tfds:<name>@<member split>,<non-member split>, "
            "e.g. tfds:mnist or tfds:mnist:3.0.1@train,test."
        )
    return name, members.strip(), non_members.strip()


def check_dataset(dataset: str) -> str:
    """Validates a data source spelling; returns it unchanged or raises ``ValueError``."""
    if not isinstance(dataset, str):
        raise ValueError(f"dataset must be a string, got {dataset!r}; use {_DATASET_SPELLINGS}.")
    kind, where = dataset_kind(dataset), dataset_location(dataset)
    if kind not in DATASET_KINDS or (kind in ("digits", "cifar10")) != (where is None):
        raise ValueError(f"unknown dataset {dataset!r}; use {_DATASET_SPELLINGS}.")
    if kind in _PATH_KINDS and not where:
        example = {
            "imagefolder": "a directory: write the dataset as imagefolder:<dir>, e.g. imagefolder:data/cifar10",
            "npz": "a file: write the dataset as npz:<file>, e.g. npz:data/members.npz",
        }
        raise ValueError(f"{kind}: needs {example[kind]}.")
    if kind == "tfds":
        tfds_source(dataset)
    if kind == "function":
        check_dotted(where, f"dataset {dataset!r}: the data function")
    return dataset


def derive_seed(seed: int, *parts: object) -> int:
    """A stable 32-bit seed for one part of a run (e.g. ``"attack", "2_layers", 10``).

    Each model and each report epoch gets its own seed, so a result does not
    depend on which other tests ran before it (``-k`` selections, ordering).
    """
    text = "/".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def class_slice(label: int) -> str:
    """The slice name of one class (TF Privacy prints it as ``CLASS=3``)."""
    return f"class_{label}"


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


#: TensorFlow threads per pool unless a profile says otherwise (see ``Profile.intra_op_threads``).
DEFAULT_THREADS = 2

#: Fingerprint fields that say which data was measured: a baseline whose values
#: for these differ from the run's describes another data set.
DATA_FIELDS: tuple[str, ...] = ("dataset", "num_classes", "input_shape")


def split_seed_of(fingerprint: Mapping[str, Any]) -> Any:
    """The member split's seed a fingerprint records (it leaves out the default: ``seed``)."""
    return fingerprint.get("split_seed", fingerprint.get("seed"))


def fingerprint_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two fingerprints, as short lines: ``epochs 200 -> 600``."""

    def show(value: Any) -> str:
        return "unset" if value is None else json.dumps(value)

    defaults = {"intra_op_threads": DEFAULT_THREADS, "inter_op_threads": DEFAULT_THREADS}
    old = {**defaults, **old, "split_seed": split_seed_of(old)}
    new = {**defaults, **new, "split_seed": split_seed_of(new)}

    found = [
        f"{key} {show(old.get(key))} -> {show(new.get(key))}"
        for key in sorted(set(old) | set(new))
        if key != "models" and old.get(key) != new.get(key)
    ]
    old_models = {m.get("name"): m for m in old.get("models", []) if isinstance(m, dict)}
    new_models = {m.get("name"): m for m in new.get("models", []) if isinstance(m, dict)}
    for name in sorted(set(old_models) | set(new_models), key=str):
        if name not in new_models:
            found.append(f"model {name} removed")
        elif name not in old_models:
            found.append(f"model {name} added")
        else:
            a, b = old_models[name], new_models[name]
            found += [
                f"{name}.{key} {show(a.get(key))} -> {show(b.get(key))}"
                for key in sorted(set(a) | set(b))
                if a.get(key) != b.get(key)
            ]
    return found
