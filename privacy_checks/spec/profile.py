"""Named, frozen descriptions of what a privacy run measures.

A profile is the single source of truth for one study: data, member split,
models, epochs, attacks, slicing and seed. Everything that changes the measured
numbers goes into :meth:`Profile.fingerprint`, which is stored with each
baseline together with its hash. When they differ, :func:`~privacy_checks.spec.fingerprint.fingerprint_changes`
says what changed. A change of *data* (:data:`~privacy_checks.spec.fingerprint.DATA_FIELDS`) makes the numbers
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
import json
import re
from typing import Any, Mapping

from privacy_checks.spec import batching
from privacy_checks.spec.fingerprint import DEFAULT_THREADS
from privacy_checks.spec.model_spec import ModelSpec, Tolerance
from privacy_checks.spec.sources import check_dataset, dataset_kind, is_path_source
from privacy_checks.spec.vocabulary import (
    ATTACKS, DEFAULT_FPRS, ENTIRE_DATASET, METRICS, REFERENCE_ATTACKS, check_fprs, class_slice,
    reference_model_problems, tpr_metric,
)


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


def dp_batch_problem(profile: Profile, spec: ModelSpec, members: int) -> str | None:
    """Why ``spec`` cannot train with DP-SGD on ``members`` loaded members, as a whole sentence; None if it can.

    ``members`` is the count the data gave: a profile's ``members`` where the
    source had that many, else all of them, so it is also the pool to draw from.
    """
    if spec.dp is None or members % profile.batch_size == 0:
        return None
    return (
        f"profile {profile.name!r}, model {spec.name!r} (members, batch_size): the model trains with "
        f"DP-SGD, one microbatch per example, so its members must fill whole batches, but the data "
        f"gives {members} members and batch_size is {profile.batch_size} (a last batch of "
        f"{members % profile.batch_size}). To train on whole batches, "
        f"{batching.fixes(members, profile.batch_size, pool=members)}."
    )
