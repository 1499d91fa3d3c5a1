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

import copy
import dataclasses
import hashlib
import inspect
import json
import os
import re
from typing import Any, Mapping

from privacy_checks import batching
from privacy_checks.files import display_path
from privacy_checks.metrics import check_fprs, tpr_metric
from privacy_checks.specs import (  # re-exported: the vocabulary users import from here
    ATTACKS, METRICS, DEFAULT_FPRS, ENTIRE_DATASET, DEFAULT_DELTA, DATASET_KINDS, dataset_kind,
    dataset_location, with_location, check_dataset, derive_seed, class_slice, DPSGD, ModelSpec,
    Tolerance, DATA_FIELDS, split_seed_of, fingerprint_changes, DEFAULT_THREADS, OUTPUTS,
    check_dotted, callable_name, is_path_source, REFERENCE_ATTACKS, reference_model_problems,
)

__all__ = [
    "ATTACKS", "METRICS", "DEFAULT_FPRS", "ENTIRE_DATASET", "DEFAULT_DELTA", "DATASET_KINDS",
    "dataset_kind", "dataset_location", "with_location", "check_dataset", "derive_seed",
    "class_slice", "DPSGD", "ModelSpec", "Tolerance", "DATA_FIELDS", "split_seed_of",
    "fingerprint_changes", "Profile", "DIGITS", "CIFAR10", "CIFAR10_QUICK", "SMOKE",
    "DP_2_LAYERS", "PROFILES", "DEFAULT_PROFILE", "register_profile", "get_profile",
    "Origin", "origin_of", "unregister_profile", "set_project_file",
    "DEFAULT_THREADS", "OUTPUTS", "check_dotted", "callable_name", "is_path_source",
    "REFERENCE_ATTACKS", "DIGITS_STRONG", "CIFAR10_QUICK_STRONG", "is_built_in",
]


@dataclasses.dataclass(frozen=True)
class Profile:
    """Everything one privacy study measures, and how strictly it is checked."""

    name: str
    description: str
    dataset: str  #: ``digits``, ``cifar10`` or ``imagefolder:<path>``
    num_classes: int
    #: One example's shape without the batch axis: ``(8, 8, 1)``, ``(13,)``, ``(20, 300)``.
    input_shape: tuple[int, ...]
    members: int | None  #: size of the member (training) set; None: the source's train split
    models: tuple[ModelSpec, ...]
    epochs: int
    report_epochs: tuple[int, ...]
    batch_size: int
    learning_rate: float
    padding: str  #: the codelab CNN's Conv2D padding: ``valid`` as in the tutorial, ``same`` for 8x8 inputs
    attacks: tuple[str, ...]  #: keys of :data:`ATTACKS` and :data:`REFERENCE_ATTACKS`
    by_class: bool
    seed: int
    tolerance: Tolerance  #: for the entire-dataset slice
    class_tolerance: Tolerance  #: for per-class slices (fewer examples, noisier)
    #: False-positive rates at which the attacks' true-positive rate is checked.
    fprs: tuple[float, ...] = DEFAULT_FPRS
    #: Seed of the member split; None: ``seed``. Set by :meth:`with_seed`, so that
    #: another training seed keeps the same members, as a team's data would.
    split_seed: int | None = None
    #: TensorFlow's intra- and inter-op thread pools. With op determinism on, the
    #: same seed still gives other predictions with another thread count (1 and 2
    #: differ on digits), and TensorFlow sizes its pools by the machine's cores; so
    #: a profile fixes them. 2 and 2 are what the committed baselines were made
    #: with (a 2-core machine's defaults).
    intra_op_threads: int = DEFAULT_THREADS
    inter_op_threads: int = DEFAULT_THREADS
    #: Reference models per reference-model attack (:data:`REFERENCE_ATTACKS`),
    #: e.g. ``{"rmia": 2}``: each is one more training of every model with the
    #: same recipe, on a random half of the population. The models are shared:
    #: attacks with fewer use the first ones.
    reference_models: Mapping[str, int] = dataclasses.field(default_factory=dict)
    #: Seeds a new baseline is recorded with (``--privacy-update-baselines``) when no
    #: calibrated spread of the model's current setup exists: the profile's seed and
    #: the next ones, each one more training of the model. Tolerances then come from
    #: the measured spread instead of a guess. 0: record uncalibrated. Not part of the
    #: fingerprint: it changes how strictly a check judges, not what is measured.
    calibration_seeds: int = 5

    def __post_init__(self) -> None:
        # A plain, sorted dict whatever the caller gave (a frozen profile must not share a caller's dict).
        object.__setattr__(self, "reference_models", dict(sorted(dict(self.reference_models).items())))
        # Each problem is a whole sentence that ends with what to set or do.
        problems = [
            f"{problem}: set fprs to distinct false-positive rates between 0 and 1, e.g. fprs = [0.001, 0.01]."
            for problem in check_fprs(self.fprs)
        ]
        unknown = [a for a in self.attacks if a not in ATTACKS and a not in REFERENCE_ATTACKS]
        if unknown:
            problems.append(
                f"unknown attacks {unknown}; choose from {sorted(ATTACKS) + list(REFERENCE_ATTACKS)}."
            )
        problems += reference_model_problems(self.attacks, self.reference_models)
        if not (isinstance(self.calibration_seeds, int) and not isinstance(self.calibration_seeds, bool)
                and (self.calibration_seeds == 0 or self.calibration_seeds >= 2)):
            problems.append(
                f"calibration_seeds must be 0 (record uncalibrated) or at least 2, got "
                f"{self.calibration_seeds!r}: set calibration_seeds = 5 (the default), or 0 to opt out."
            )
        in_range = bool(self.report_epochs) and all(1 <= e <= self.epochs for e in self.report_epochs)
        if not in_range:
            problems.append(
                f"report_epochs {self.report_epochs} must lie in 1..{self.epochs}: set report_epochs to "
                f"epochs from 1 to {self.epochs}, the last of them {self.epochs}."
            )
        if list(self.report_epochs) != sorted(set(self.report_epochs)):
            problems.append(
                "report_epochs must be strictly increasing: write them in ascending order without "
                f"repeats (report_epochs = {sorted(set(self.report_epochs))})."
            )
        elif in_range and max(self.report_epochs) < self.epochs:
            # The model training produces is the one that ships: it must be measured.
            reports = list(self.report_epochs)
            problems.append(
                f"report_epochs {reports} end before the last epoch {self.epochs}: the model training "
                f"produces would never be attacked. Add {self.epochs} to report_epochs "
                f"(report_epochs = {reports + [self.epochs]}) or set epochs = {reports[-1]}."
            )
        try:
            check_dataset(self.dataset)
        except ValueError as error:
            problems.append(str(error))
        names = [m.name for m in self.models]
        bad = [n for n in (self.name, *names) if not re.fullmatch(r"[A-Za-z0-9_.-]+", n) or n[0] == "."]
        if bad:
            problems.append(
                f"names {bad} are used in file names and test ids: rename them with letters, digits, "
                "'_', '.' and '-' only (not starting with '.')."
            )
        if len(set(names)) != len(names):
            problems.append(f"model names must be unique, got {names}: rename the models that share one.")
        for model in self.models:
            problems += [f"model {model.name}: {p}" for p in model.problems()]
            problems += self._dp_problems(model, names)
        problems += [
            f"{name} must be a positive integer, got {value!r}: set it to a number of threads, e.g. 2."
            for name, value in (("intra_op_threads", self.intra_op_threads), ("inter_op_threads", self.inter_op_threads))
            if not (isinstance(value, int) and value > 0)
        ]
        if problems:
            raise ValueError(f"profile {self.name!r}: " + " ".join(problems))

    def _dp_problems(self, model: ModelSpec, names: list[str]) -> list[str]:
        found = []
        if model.dp is not None:
            found += [f"model {model.name}: {p}" for p in model.dp.problems()]
            if self.members is not None and self.members % self.batch_size:
                found.append(
                    f"model {model.name} trains with DP-SGD: members ({self.members}) must be "
                    f"a multiple of batch_size ({self.batch_size}), or the last batch "
                    f"cannot be split into one microbatch per example: "
                    f"{batching.fixes(self.members, self.batch_size)}."
                )
        if model.compare_to is not None:
            if model.dp is None:
                found.append(
                    f"model {model.name}: compare_to is for DP models: set dp on this model, or remove compare_to."
                )
            if model.compare_to not in names or model.compare_to == model.name:
                found.append(
                    f"model {model.name}: compare_to {model.compare_to!r} is not another "
                    f"model of the profile ({', '.join(names)}): set it to the name of the non-private "
                    "model to compare with, or remove compare_to."
                )
        return found

    @property
    def metrics(self) -> tuple[str, ...]:
        """What each check compares: AUC, attacker advantage, TPR at each FPR."""
        return METRICS + tuple(tpr_metric(fpr) for fpr in self.fprs)

    @property
    def tf_privacy_attacks(self) -> tuple[str, ...]:
        """The attacks TF Privacy's ``run_attacks`` runs (the others need reference models)."""
        return tuple(a for a in self.attacks if a in ATTACKS)

    @property
    def references(self) -> int:
        """How many reference models each model needs: the most any attack asks for (0: none)."""
        return max(self.reference_models.values(), default=0)

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
        for key in ("name", "description", "tolerance", "class_tolerance", "calibration_seeds"):
            fields.pop(key)
        # Where an image folder or .npz file lies differs per machine; what it holds
        # is recorded with the baseline as its data source (and its content goes
        # into the cache key). A tfds name or data function is the same everywhere.
        fields["dataset"] = dataset_kind(self.dataset) if is_path_source(self.dataset) else self.dataset
        # Fields added after baselines were recorded are left out while unset, so
        # that existing profiles keep their hash.
        fields["models"] = [model.fingerprint() for model in self.models]
        if fields["split_seed"] is None or fields["split_seed"] == fields["seed"]:
            del fields["split_seed"]  # the default: the split follows the seed
        for name in ("intra_op_threads", "inter_op_threads"):
            if fields[name] == DEFAULT_THREADS:
                del fields[name]  # the default, which every baseline before the field had
        if not fields["reference_models"]:
            del fields["reference_models"]
        # As JSON has it (tuples become lists), so that it equals a stored copy.
        return json.loads(json.dumps(fields))

    def plain(self) -> "Profile":
        """The same profile with builders given as callables replaced by their names.

        What worker processes receive: a callable from a conftest.py may not be
        importable there, and the attacks need only the model's name and label.
        """
        models = tuple(
            model if isinstance(model.builder, (str, type(None)))
            else dataclasses.replace(model, builder=model.builder_name)
            for model in self.models
        )
        if models == self.models:
            return self
        # Not re-validated: a lambda's name is no importable path, and need not be.
        plain = copy.copy(self)
        object.__setattr__(plain, "models", models)
        return plain

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
        "and the 2-layer one with DP-SGD; the codelab's attacks and RMIA with two "
        "reference models per model. About two minutes on 2 cores; the member "
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
    attacks=("threshold", "logistic_regression", "rmia"),
    # RMIA's point: a few references suffice. Two (one pair) cost two trainings per
    # model, and every example is judged against one reference that did not train on it.
    reference_models={"rmia": 2},
    by_class=True,
    seed=1234,
    # Used where a baseline has no calibrated spread (docs/metrics-and-tolerances.md):
    # a class slice has only 20 members, so its attacks are much noisier.
    tolerance=Tolerance(auc=0.03, attacker_advantage=0.05, tpr=0.05),
    class_tolerance=Tolerance(auc=0.10, attacker_advantage=0.15, tpr=0.25),
    # Ten, not the default five: a spread from five seeds was up to 1.6 times too small for the
    # 3-layer model, and Student's quantile for its few degrees of freedom costs power (docs/
    # detection-power.md: 0 alarms in 45 harmless runs, detectable AUC rises of 0.08-0.11).
    calibration_seeds=10,
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
    # Calibrating costs a full CIFAR-10 training per seed and model (hours for the
    # codelab's 50 epochs): recorded uncalibrated unless --privacy-calibrate=N asks.
    calibration_seeds=0,
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
    attacks=("threshold", "logistic_regression"),
    reference_models={},
    epochs=3,
    report_epochs=(1, 3),
    by_class=False,
    # The plugin's own tests record it many times; the ones about calibration ask for it.
    calibration_seeds=0,
)

#: The attacks of the audit profiles: the codelab's two, and the three reference-model attacks.
_STRONG_ATTACKS = ("threshold", "logistic_regression", "lira_offline", "lira_online", "rmia")

DIGITS_STRONG = dataclasses.replace(
    DIGITS,
    name="digits-strong",
    description=(
        "An audit of the default profile's models with the strongest attacks: offline and "
        "online LiRA and RMIA with 16 reference models per model (48 more trainings, "
        "about 10 minutes on 2 cores)."
    ),
    attacks=_STRONG_ATTACKS,
    reference_models={attack: 16 for attack in REFERENCE_ATTACKS},
)

CIFAR10_QUICK_STRONG = dataclasses.replace(
    CIFAR10_QUICK,
    name="cifar10-quick-strong",
    description=(
        "cifar10-quick audited with offline and online LiRA and RMIA, 16 reference models "
        "per model, each trained on a random half of the 20,000 images (32 more trainings, "
        "about 15 minutes on 2 cores)."
    ),
    attacks=_STRONG_ATTACKS,
    reference_models={attack: 16 for attack in REFERENCE_ATTACKS},
)

PROFILES: dict[str, Profile] = {
    p.name: p for p in (DIGITS, CIFAR10, CIFAR10_QUICK, SMOKE, DIGITS_STRONG, CIFAR10_QUICK_STRONG)
}
DEFAULT_PROFILE = DIGITS.name


_BUILT_IN = frozenset(PROFILES)


def is_built_in(name: str) -> bool:
    """Whether ``name`` is one of the profiles that ship with the plugin."""
    return name in _BUILT_IN


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a registered profile was defined: named in messages, and used to tell leftovers apart.

    A *declared* profile comes from a pyproject.toml table or a
    ``pytest_privacy_profiles`` hook: the plugin registers it for one pytest
    run and forgets it when the run ends, and no other definition may share
    its name (two places defining one name leave the reader guessing which
    one is measured).
    """

    #: As messages show it: ``conftest.py:12``, ``pyproject.toml [tool.privacy_checks.profiles.wine]``.
    where: str
    #: The defining file's absolute path, when known: a definition whose file belongs
    #: to no module loaded now and lies outside the rootdir is a leftover of an
    #: earlier in-process pytest run (pytester).
    file: str | None = None
    declared: bool = False

    def __str__(self) -> str:
        return self.where


#: Each registered name's profile and where it was defined. Kept beside
#: :data:`PROFILES` (which tests may replace or restore) and trusted only while
#: it describes the very profile registered under the name.
_ORIGINS: dict[str, tuple[Profile, Origin]] = {
    name: (profile, Origin("privacy_checks' built-in profiles", os.path.abspath(__file__)))
    for name, profile in PROFILES.items()
}

#: The pyproject.toml of the pytest run in progress (set by the plugin), so that an
#: unknown profile's message can say where the project could declare it.
_PROJECT_FILE: str | None = None


def origin_of(name: str) -> Origin | None:
    """Where the profile registered as ``name`` was defined; None if none is, or nobody said."""
    profile, origin = _ORIGINS.get(name, (None, None))
    return origin if profile is not None and PROFILES.get(name) is profile else None


def _caller_origin() -> Origin:
    """The ``file:line`` that called :func:`register_profile`."""
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame is not None and frame.f_back is not None else None
    if caller is None:
        return Origin("an unknown place")
    file = os.path.abspath(caller.f_code.co_filename)
    return Origin(f"{display_path(file)}:{caller.f_lineno}", file)


def _defined_twice(name: str, before: Origin | None, after: Origin) -> str:
    hint = (
        "built-in profiles cannot be redefined; give yours another name"
        if name in _BUILT_IN
        else "define it in one place only, or give one of them another name"
    )
    return f"profile {name!r} is defined twice: in {before or 'an unknown place'} and in {after}; {hint}"


def register_profile(profile: Profile, replace: bool = False, *, origin: Origin | str | None = None) -> Profile:
    """Makes a project's own profile selectable by name; call it from a ``conftest.py``.

    A name may be registered again with an identical profile (conftest files
    can be imported more than once), or with a changed one when ``replace`` is
    true: a project that edits its study in place (the change its baselines
    then judge). Built-in names cannot be redefined.

    ``origin`` says where the profile is defined (default: the caller's
    ``file:line``). A name a pyproject.toml table or a ``pytest_privacy_profiles``
    hook declares belongs to that declaration: defining it anywhere else too
    is an error that names both places, whichever comes first.
    """
    if not isinstance(origin, Origin):
        origin = _caller_origin() if origin is None else Origin(origin)
    known = PROFILES.get(profile.name)
    before = origin_of(profile.name) if known is not None else None
    if known is not None and (origin.declared or (before is not None and before.declared)) and before != origin:
        raise ValueError(_defined_twice(profile.name, before, origin))
    if known is not None and known != profile and (not replace or profile.name in _BUILT_IN):
        hint = (
            "built-in profiles cannot be redefined; give yours another name"
            if profile.name in _BUILT_IN
            else "pass replace=True to redefine it, or give yours another name"
        )
        raise ValueError(f"a different profile named {profile.name!r} is already registered; {hint}")
    PROFILES[profile.name] = profile
    _ORIGINS[profile.name] = (profile, origin)
    return profile


def unregister_profile(profile: Profile) -> None:
    """Forgets ``profile`` if it is the one registered under its name (built-ins stay).

    The plugin forgets what one pytest run declared when the run ends, and
    what an earlier in-process run (pytester) left behind, so that one
    process can host many runs of many projects.
    """
    if profile.name in _BUILT_IN:
        raise ValueError(f"built-in profile {profile.name!r} cannot be unregistered")
    if PROFILES.get(profile.name) is profile:
        del PROFILES[profile.name]
        _ORIGINS.pop(profile.name, None)


def set_project_file(path: str | None) -> str | None:
    """Tells :func:`get_profile` the running project's pyproject.toml (None: none); returns the previous one."""
    global _PROJECT_FILE
    previous, _PROJECT_FILE = _PROJECT_FILE, path
    return previous


def get_profile(name: str) -> Profile:
    """The named profile, or a ``KeyError`` that lists the valid names (and where to declare another)."""
    try:
        return PROFILES[name]
    except KeyError:
        hint = ""
        if _PROJECT_FILE is not None:
            key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)
            hint = (
                f". {display_path(_PROJECT_FILE)} declares no [tool.privacy_checks.profiles.{key}]: "
                "declare it there (docs/your-own-model.md), or register it from a conftest.py "
                "with privacy_checks.profiles.register_profile"
            )
        raise KeyError(
            f"unknown privacy profile {name!r}; choose one of: {', '.join(sorted(PROFILES))}{hint}"
        ) from None
