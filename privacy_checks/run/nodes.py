"""How each node of a plan is made: its cache entry, its task, its progress line and its cost.

:class:`NodeWork` is what :class:`privacy_checks.run.runner.Runner` builds on:
the cache names of trainings, reference models and attack runs; trainings in
this process; the tasks an executor runs (:mod:`privacy_checks.run.tasks`);
and the progress lines that say where the time goes. It decides nothing about
order: that is the runner's.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

import numpy as np

from privacy_checks.attack.codelab import evaluate
from privacy_checks.attack.reference_evaluation import evaluate_references
from privacy_checks.data.dataset import Dataset, DatasetRejected
from privacy_checks.data.load import LoadData
from privacy_checks.run import cache, tasks
from privacy_checks.run.executors import Executor, done
from privacy_checks.run.plan import Attacks, Reference, ReferenceAttacks, Training
from privacy_checks.run.settings import Settings
from privacy_checks.spec.profile import Profile
from privacy_checks.train import references
from privacy_checks.train.fit import MakeModel, train
from privacy_checks.train.snapshot import Snapshot, TrainingRun


@dataclasses.dataclass(frozen=True)
class UserHooks:
    """What a project's pytest hooks make instead of the profile's paths (:mod:`privacy_checks.plugin.hookspec`)."""

    #: A model for (profile, spec), or None to use the spec's builder.
    make_model: MakeModel | None = None
    #: Members and non-members for (profile, data_dir), or None to use the profile's data source.
    load_data: LoadData | None = None
    #: The hook implementations' module files: the cache key covers them.
    files: tuple[Path, ...] = ()


@dataclasses.dataclass(frozen=True)
class References:
    """A model's reference models: their training sets and their training runs."""

    design: references.Design
    runs: tuple[TrainingRun, ...]

    def logits(self, epoch: int) -> np.ndarray:
        """Every reference's logits on every example at ``epoch``: (K, N, C), global order."""
        return np.stack(
            [references.global_logits(run.at(epoch), self.design.trains_on[k]) for k, run in enumerate(self.runs)]
        )


def data_failure(error: Exception) -> str:
    """A data set that was loaded and refused is "rejected"; one that could not be loaded "not available"."""
    return "data set rejected" if isinstance(error, DatasetRejected) else "data set not available"


@dataclasses.dataclass
class Cost:
    """Where one training's time went, for its closing progress line."""

    training: float = 0.0
    references: float = 0.0
    attacks: float = 0.0
    submitted: int = 0
    gathered: int = 0


class NodeWork:
    """The making of nodes (module doc); the runner chooses when."""

    def __init__(
        self,
        settings: Settings,
        versions: dict[str, str],
        progress: Callable[[str], None] | None,
        executor: Executor,
        hooks: Any,
    ) -> None:
        self.settings = settings
        self.profile = settings.profile
        self.versions = versions
        self.executor = executor
        self.hooks = hooks or UserHooks()
        self._progress = progress
        self.cache_hits: dict[str, int] = {"trainings": 0, "attack runs": 0, "reference models": 0}
        self.cache_error: str | None = None
        #: What the models were trained on, once known (the data set, or a cached training's record).
        self.source: str | None = None
        self.started = time.perf_counter()
        self._training_started = self.started
        self._names: dict[object, str] = {}
        self._costs: dict[tuple[str, int], Cost] = {}

    def at(self, seed: int) -> Profile:
        """The profile a training under ``seed`` runs: the run's own, or another seed with the same members."""
        return self.profile if seed == self.profile.seed else self.profile.with_seed(seed)

    # -- the cache ---------------------------------------------------------------------

    def training_name(self, node: Training) -> str:
        return self._name(node, lambda: cache.key(self.at(node.seed), node.model, self.versions, None, self.hooks.files))

    def attack_name(self, node: Attacks) -> str:
        return self._name(node, lambda: cache.key(self.at(node.seed), node.model, self.versions, node.epoch,
                                                  self.hooks.files))

    def reference_name(self, node: Reference) -> str:
        return self._name(node, lambda: cache.key(self.profile, node.model, self.versions, None, self.hooks.files,
                                                  reference=node.k))

    def _name(self, node: object, make: Callable[[], str]) -> str:
        """A cache key, computed once per node: it reads the code."""
        if node not in self._names:
            self._names[node] = make()
        return self._names[node]

    def cached(self, name: str) -> bool:
        return self.settings.cache_dir is not None and cache.exists(self.settings.cache_dir, name)

    def cached_training(self, node: Training) -> TrainingRun | None:
        if self.settings.cache_dir is None:
            return None
        found = cache.load_training(self.settings.cache_dir, self.training_name(node))
        if found is None:
            return None
        run, self.source = found
        self.cache_hits["trainings"] += 1
        return run

    def store(self, save: Callable[..., None], name: str, *args: object) -> None:
        """Caches a result; a cache that cannot be written only costs the next run time."""
        if self.settings.cache_dir is None:
            return
        try:
            save(self.settings.cache_dir, name, *args)
        except OSError as error:
            self.cache_error = f"privacy cache not written: {error}"

    # -- making ------------------------------------------------------------------------

    def design(self, dataset: Dataset) -> references.Design:
        return references.design(self.profile, len(dataset.y_members), len(dataset.y_non_members))

    def train_here(self, node: Training, dataset: Dataset, on_snapshot: Callable[[Snapshot], None]) -> TrainingRun:
        profile = self.at(node.seed)
        self._training_started = time.perf_counter()
        return train(profile, profile.model(node.model), dataset, on_snapshot, self.hooks.make_model)

    def train_reference_here(self, node: Reference, dataset: Dataset, design: references.Design) -> TrainingRun:
        return train(
            references.reference_profile(self.profile, node.k), self.profile.model(node.model),
            references.reference_dataset(dataset, design.trains_on[node.k]), None, self.hooks.make_model,
        )

    def submit_training(self, node: Training | Reference, shared: object, design: references.Design) -> Future:
        """A training as a task: it asks for the CPUs its TensorFlow threads use, and the executor's GPUs."""
        if isinstance(node, Training):
            task, args = tasks.train_model, (self.at(node.seed).plain(), node.model, shared)
        else:
            task, args = tasks.train_reference, (self.profile.plain(), node.model, shared, design.trains_on[node.k], node.k)
        return self.executor.submit(
            task, *args, cpus=self.profile.intra_op_threads, gpus=getattr(self.executor, "gpus", 0), training=True
        )

    def submit_attacks(self, node: Attacks, snapshot: Snapshot) -> Future:
        """The codelab's attacks on ``snapshot``: from the cache, or an executor's task."""
        if self.settings.cache_dir is not None:
            cached = cache.load_evaluation(self.settings.cache_dir, self.attack_name(node), snapshot)
            if cached is not None:
                self.cache_hits["attack runs"] += 1
                return done(cached)
        self.cost(node.model, node.seed).submitted += 1
        return self.executor.submit(evaluate, snapshot, self.at(node.seed).plain())

    def submit_reference_attacks(self, node: ReferenceAttacks, snapshot: Snapshot, refs: References) -> Future:
        self.cost(node.model, node.seed).submitted += 1
        return self.executor.submit(
            evaluate_references, snapshot, refs.logits(node.epoch), refs.design.trains_on, refs.design.population,
            self.at(node.seed).plain(),
        )

    # -- saying where the time goes ------------------------------------------------------

    def cost(self, model: str, seed: int) -> Cost:
        return self._costs.setdefault((model, seed), Cost())

    def say_plain(self, line: str) -> None:
        if self._progress is not None:
            self._progress(line)

    def say(self, seed: int, line: str) -> None:
        self.say_plain(f"{self._prefix(seed)}{line} (elapsed {time.perf_counter() - self.started:.0f}s)")

    def _prefix(self, seed: int) -> str:
        """Progress lines of a calibration seed's run: ``seed 1236: 2_layers: epoch ...``."""
        return "" if seed == self.profile.seed else f"seed {seed}: "

    def say_epoch(self, seed: int, snapshot: Snapshot) -> None:
        if self._progress is None:
            return
        now = time.perf_counter()
        per_epoch = (now - self._training_started) / snapshot.epoch
        left = per_epoch * (self.profile.epochs - snapshot.epoch)
        self.say_plain(
            f"{self._prefix(seed)}{snapshot.model}: epoch {snapshot.epoch}/{self.profile.epochs}, "
            f"train accuracy {snapshot.train_accuracy:.3f}, test accuracy {snapshot.test_accuracy:.3f}, "
            f"elapsed {now - self.started:.0f}s, about {left:.0f}s left for {snapshot.model}"
        )

    def attacked(self, model: str, seed: int, seconds: float, references_to_come: bool) -> None:
        """Adds an attack's time; the model's last one prints where its time went."""
        cost = self.cost(model, seed)
        cost.attacks += seconds
        cost.gathered += 1
        if cost.gathered == cost.submitted and not references_to_come:
            self.say_plain(
                f"{self._prefix(seed)}{model}: done at {time.perf_counter() - self.started:.0f}s: training "
                f"{cost.training:.1f}s, "
                + (f"reference models {cost.references:.1f}s, " if cost.references else "")
                + f"attacks {cost.attacks:.1f}s on {cost.gathered} snapshots ({self.executor.describe()})"
            )
