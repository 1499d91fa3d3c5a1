"""Named, frozen descriptions of what a privacy run measures.

A profile is the single source of truth for one study: data, member split,
models, epochs, attacks, slicing and seed. Everything that changes the measured
numbers goes into :meth:`Profile.fingerprint`, which is stored with each
baseline together with its hash. When they differ, :func:`fingerprint_changes`
says what changed. A change of *data* (:data:`DATA_FIELDS`) makes the numbers
incomparable and fails the checks; any other change (epochs, members, model
width, seed, ...) is exactly what a privacy regression test exists to judge,
so the run compares against the recorded numbers and says which setup they
came from. Tolerances are *not* part of the fingerprint: loosening a check
does not change what was measured.

This module imports neither TensorFlow nor TF Privacy, so that option parsing,
collection and ``pytest --help`` stay fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any, Mapping

from privacy_checks.metrics import check_fprs, metric_fpr, tpr_metric

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


DATASET_KINDS: tuple[str, ...] = ("digits", "cifar10", "imagefolder")


def dataset_kind(dataset: str) -> str:
    """``imagefolder:/any/path`` -> ``imagefolder``; other names unchanged."""
    return dataset.split(":", 1)[0]


def check_dataset(dataset: str) -> str:
    """Validates a data source spelling; returns it unchanged or raises ``ValueError``."""
    kind = dataset_kind(dataset)
    if kind not in DATASET_KINDS or (kind == "imagefolder") != (":" in dataset):
        raise ValueError(
            f"unknown dataset {dataset!r}; use digits, cifar10 or imagefolder:<dir> "
            "(<dir>/train/<class>/*, <dir>/test/<class>/*)"
        )
    if kind == "imagefolder" and not dataset.split(":", 1)[1]:
        raise ValueError("imagefolder: needs a directory, e.g. imagefolder:data/cifar10")
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

    def problems(self) -> list[str]:
        found = []
        if not self.l2_norm_clip > 0:
            found.append(f"l2_norm_clip must be > 0, got {self.l2_norm_clip}")
        if not self.noise_multiplier > 0:
            found.append(f"noise_multiplier must be > 0 for a finite epsilon, got {self.noise_multiplier}")
        if not self.learning_rate > 0:
            found.append(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 < self.delta < 1:
            found.append(f"delta must lie in (0, 1), got {self.delta}")
        return found


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of a study: the tutorial's ``small_cnn`` with ``num_conv`` conv layers."""

    name: str  #: identifier used in test ids and file names, e.g. ``2_layers``
    label: str  #: the plots' ``model_variant_label``, e.g. ``2 Layers``
    num_conv: int
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


@dataclasses.dataclass(frozen=True)
class Profile:
    """Everything one privacy study measures, and how strictly it is checked."""

    name: str
    description: str
    dataset: str  #: ``digits``, ``cifar10`` or ``imagefolder:<path>``
    num_classes: int
    input_shape: tuple[int, int, int]
    members: int | None  #: size of the member (training) set; None: the source's train split
    models: tuple[ModelSpec, ...]
    epochs: int
    report_epochs: tuple[int, ...]
    batch_size: int
    learning_rate: float
    padding: str  #: Conv2D padding: ``valid`` as in the tutorial, ``same`` for 8x8 inputs
    attacks: tuple[str, ...]  #: keys of :data:`ATTACKS`
    by_class: bool
    seed: int
    tolerance: Tolerance  #: for the entire-dataset slice
    class_tolerance: Tolerance  #: for per-class slices (fewer examples, noisier)
    #: False-positive rates at which the attacks' true-positive rate is checked.
    fprs: tuple[float, ...] = DEFAULT_FPRS
    #: Seed of the member split; None: ``seed``. Set by :meth:`with_seed`, so that
    #: another training seed keeps the same members, as a team's data would.
    split_seed: int | None = None

    def __post_init__(self) -> None:
        problems = check_fprs(self.fprs)
        unknown = [a for a in self.attacks if a not in ATTACKS]
        if unknown:
            problems.append(f"unknown attacks {unknown}; choose from {sorted(ATTACKS)}")
        if not self.report_epochs or any(
            not 1 <= e <= self.epochs for e in self.report_epochs
        ):
            problems.append(f"report_epochs {self.report_epochs} must lie in 1..{self.epochs}")
        if list(self.report_epochs) != sorted(set(self.report_epochs)):
            problems.append("report_epochs must be strictly increasing")
        try:
            check_dataset(self.dataset)
        except ValueError as error:
            problems.append(str(error))
        names = [m.name for m in self.models]
        bad = [n for n in (self.name, *names) if not re.fullmatch(r"[A-Za-z0-9_.-]+", n) or n[0] == "."]
        if bad:
            problems.append(
                f"names {bad} are used in file names and test ids: use letters, digits, _ . -"
            )
        if len(set(names)) != len(names):
            problems.append(f"model names must be unique, got {names}")
        for model in self.models:
            problems += self._dp_problems(model, names)
        if problems:
            raise ValueError(f"profile {self.name!r}: " + "; ".join(problems))

    def _dp_problems(self, model: ModelSpec, names: list[str]) -> list[str]:
        found = []
        if model.dp is not None:
            found += [f"model {model.name}: {p}" for p in model.dp.problems()]
            if self.members is not None and self.members % self.batch_size:
                found.append(
                    f"model {model.name} trains with DP-SGD: members ({self.members}) must be "
                    f"a multiple of batch_size ({self.batch_size}), or the last batch "
                    "cannot be split into one microbatch per example"
                )
        if model.compare_to is not None:
            if model.dp is None:
                found.append(f"model {model.name}: compare_to is for DP models")
            if model.compare_to not in names or model.compare_to == model.name:
                found.append(
                    f"model {model.name}: compare_to {model.compare_to!r} is not another "
                    f"model of the profile ({', '.join(names)})"
                )
        return found

    @property
    def metrics(self) -> tuple[str, ...]:
        """What each check compares: AUC, attacker advantage, TPR at each FPR."""
        return METRICS + tuple(tpr_metric(fpr) for fpr in self.fprs)

    @property
    def dp_models(self) -> tuple[ModelSpec, ...]:
        return tuple(model for model in self.models if model.dp is not None)

    @property
    def slices(self) -> tuple[str, ...]:
        """The slices each attack runs on, in TF Privacy's order."""
        by_class = tuple(class_slice(c) for c in range(self.num_classes)) if self.by_class else ()
        return (ENTIRE_DATASET, *by_class)

    def model(self, name: str) -> ModelSpec:
        for spec in self.models:
            if spec.name == name:
                return spec
        raise KeyError(f"profile {self.name!r} has no model {name!r}")

    def tolerance_for(self, slice_name: str) -> Tolerance:
        return self.tolerance if slice_name == ENTIRE_DATASET else self.class_tolerance

    def fingerprint(self) -> dict[str, Any]:
        """The fields that determine the measured numbers (no name, text or tolerances)."""
        fields = dataclasses.asdict(self)
        for key in ("name", "description", "tolerance", "class_tolerance"):
            fields.pop(key)
        # Where an image folder lies differs per machine; what it holds is recorded
        # with the baseline as its data source.
        fields["dataset"] = dataset_kind(self.dataset)
        # Fields added after baselines were recorded are left out while unset, so
        # that existing profiles keep their hash.
        fields["models"] = [
            {key: value for key, value in model.items() if value is not None}
            for model in fields["models"]
        ]
        if fields["split_seed"] is None or fields["split_seed"] == fields["seed"]:
            del fields["split_seed"]  # the default: the split follows the seed
        # As JSON has it (tuples become lists), so that it equals a stored copy.
        return json.loads(json.dumps(fields))

    @property
    def data_seed(self) -> int:
        """The seed that draws the member split."""
        return self.seed if self.split_seed is None else self.split_seed

    def with_seed(self, seed: int) -> "Profile":
        """Another seed for initialisation, batch order and attacks; the same members.

        A team's regression test runs on fixed data; what varies from run to
        run is training. Keeping the split fixed also keeps baseline and new
        run on the same examples, so evaluation-set noise cancels in their
        difference.
        """
        return dataclasses.replace(self, seed=seed, split_seed=self.data_seed)

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.fingerprint(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


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

    old = {**old, "split_seed": split_seed_of(old)}
    new = {**new, "split_seed": split_seed_of(new)}

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


def _tutorial_models() -> tuple[ModelSpec, ...]:
    return (ModelSpec("2_layers", "2 Layers", 2), ModelSpec("3_layers", "3 Layers", 3))


#: The codelab's suggestion ("train one model with DPKerasAdamOptimizer so that
#: you can compare the results"): the 2-layer model with DP-SGD. Noise 5 x clip
#: on 200 members in batches of 50 gives epsilon of about 1.4 after 10 epochs
#: and 7.2 after 200 (delta 1e-5); lr 1e-2 instead of 1e-3 because the noisy
#: model barely learns at the smaller step.
DP_2_LAYERS = ModelSpec(
    "dp_2_layers",
    "2 Layers DP",
    2,
    dp=DPSGD(l2_norm_clip=1.0, noise_multiplier=5.0, learning_rate=1e-2),
    compare_to="2_layers",
)


DIGITS = Profile(
    name="digits",
    description=(
        "scikit-learn's 8x8 digits: 200 stratified members, the other 1,597 "
        "images as non-members, trained for 200 epochs: the 2- and 3-layer models, "
        "and the 2-layer one with DP-SGD. About two minutes on 2 cores; the member "
        "set is small enough to overfit, so leakage visibly grows."
    ),
    dataset="digits",
    num_classes=10,
    input_shape=(8, 8, 1),
    members=200,
    models=(*_tutorial_models(), DP_2_LAYERS),
    epochs=200,
    report_epochs=(10, 25, 50, 100, 150, 200),
    batch_size=50,
    learning_rate=1e-3,
    padding="same",
    attacks=("threshold", "logistic_regression"),
    by_class=True,
    seed=1234,
    # Used where a baseline has no calibrated spread (docs/metrics-and-tolerances.md):
    # a class slice has only 20 members, so its attacks are much noisier.
    tolerance=Tolerance(auc=0.03, attacker_advantage=0.05, tpr=0.05),
    class_tolerance=Tolerance(auc=0.10, attacker_advantage=0.15, tpr=0.25),
)

CIFAR10 = Profile(
    name="cifar10",
    description=(
        "TF Privacy's privacy report codelab exactly: tfds cifar10, 50 epochs, "
        "a report every 2 epochs, batch 50, Adam lr 1e-3."
    ),
    dataset="cifar10",
    num_classes=10,
    input_shape=(32, 32, 3),
    members=None,
    models=_tutorial_models(),
    epochs=50,
    report_epochs=tuple(range(2, 51, 2)),
    batch_size=50,
    learning_rate=1e-3,
    padding="valid",
    attacks=("threshold", "logistic_regression"),
    by_class=True,
    seed=1234,
    tolerance=Tolerance(auc=0.02, attacker_advantage=0.04, tpr=0.02),
    class_tolerance=Tolerance(auc=0.04, attacker_advantage=0.06, tpr=0.05),
)

CIFAR10_QUICK = dataclasses.replace(
    CIFAR10,
    name="cifar10-quick",
    description=(
        "The codelab on real CIFAR-10, cut to minutes for CI: a stratified "
        "10,000-image member set, the 10,000 test images as non-members, 10 epochs, "
        "a report every 2."
    ),
    members=10_000,
    epochs=10,
    report_epochs=(2, 4, 6, 8, 10),
)

SMOKE = dataclasses.replace(
    DIGITS,
    name="smoke",
    description=(
        "A few seconds of plumbing: digits, 100 members, 3 epochs, entire-dataset "
        "slice only. Exercises every part of the suite; its numbers mean little."
    ),
    members=100,
    models=_tutorial_models(),
    epochs=3,
    report_epochs=(1, 3),
    by_class=False,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (DIGITS, CIFAR10, CIFAR10_QUICK, SMOKE)}
DEFAULT_PROFILE = DIGITS.name


_BUILT_IN = frozenset(PROFILES)


def register_profile(profile: Profile, replace: bool = False) -> Profile:
    """Makes a project's own profile selectable by name; call it from a ``conftest.py``.

    A name may be registered again with an identical profile (conftest files
    can be imported more than once), or with a changed one when ``replace`` is
    true: a project that edits its study in place (the change its baselines
    then judge). Built-in names cannot be redefined.
    """
    known = PROFILES.get(profile.name)
    if known is not None and known != profile and (not replace or profile.name in _BUILT_IN):
        hint = (
            "built-in profiles cannot be redefined; give yours another name"
            if profile.name in _BUILT_IN
            else "pass replace=True to redefine it, or give yours another name"
        )
        raise ValueError(f"a different profile named {profile.name!r} is already registered; {hint}")
    PROFILES[profile.name] = profile
    return profile


def get_profile(name: str) -> Profile:
    """The named profile, or a ``KeyError`` that lists the valid names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(
            f"unknown privacy profile {name!r}; choose one of: {', '.join(sorted(PROFILES))}"
        ) from None
