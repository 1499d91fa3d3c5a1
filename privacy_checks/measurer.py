"""Measuring lazily, once: the data set, each model's training, each snapshot's attacks.

Every expensive step runs at most once per session and only when a check
needs it: the data set is loaded on first use, each model is trained on the
first check of that model, and each snapshot is attacked on the first check
of that (model, epoch). Results come from the cache when it has them and go
into it when it does not. Failures are remembered too, so that a model whose
training diverged fails each of its checks with the same message instead of
being retrained for every one.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Hashable, Iterable, TypeVar

import numpy as np

from privacy_checks import cache, tasks
from privacy_checks.train import quiet, references
from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.attack.codelab import evaluate
from privacy_checks.attack.reference_evaluation import evaluate_references
from privacy_checks.data.dataset import Dataset, DatasetRejected
from privacy_checks.data.load import LoadData, load
from privacy_checks.executors import Executor, InProcess, Timed, done
from privacy_checks.spec.vocabulary import REFERENCE_ATTACKS
from privacy_checks.settings import CheckFailed, Settings
from privacy_checks.train.fit import MakeModel, preflight, train
from privacy_checks.train.snapshot import Snapshot, TrainingRun
from privacy_checks.spec.cases import CaseKey

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class UserHooks:
    """What a project's pytest hooks make instead of the profile's paths (:mod:`privacy_checks.hookspec`)."""

    #: A model for (profile, spec), or None to use the spec's builder.
    make_model: MakeModel | None = None
    #: Members and non-members for (profile, data_dir), or None to use the profile's data source.
    load_data: LoadData | None = None
    #: The hook implementations' module files: the cache key covers them.
    files: tuple[Path, ...] = ()


class Measurer:
    """Produces and remembers one run's data, trainings and evaluations (errors too).

    Attacks go to an :mod:`~privacy_checks.executors` executor as soon as a
    snapshot exists, so that with worker processes they run while training
    goes on; while a check waits for an attack, the next model of the plan
    trains. With an executor that trains too (Ray), every planned training
    and reference model is submitted at the first need (:meth:`prefetch`),
    and while a check waits, finished trainings are gathered and their
    attacks submitted. A user's ``pytest_privacy_build_model`` hook keeps
    training in this process: a hook cannot be sent to a worker.
    """

    def __init__(
        self,
        settings: Settings,
        versions: dict[str, str],
        progress: Callable[[str], None] | None = None,
        executor: Executor | None = None,
        hooks: UserHooks | None = None,
    ) -> None:
        self.settings = settings
        self.hooks = hooks or UserHooks()
        self.profile = settings.profile
        self.versions = versions
        self.executor = executor if executor is not None else InProcess()
        self._progress = progress
        self._results: dict[Hashable, object] = {}
        self._trainings: dict[str, TrainingRun | Exception] = {}
        self._evaluations: dict[tuple[str, int], Evaluation | Exception] = {}
        self._pending: dict[tuple[str, int], Future] = {}
        self._references: dict[str, References | Exception] = {}
        self._reference_evaluations: dict[tuple[str, int], Evaluation | Exception] = {}
        self._pending_references: dict[tuple[str, int], Future] = {}
        #: (model, epoch) pairs that checks will ask for; None: all of the profile's.
        self._planned: frozenset[tuple[str, int]] | None = None
        #: (model, epoch) pairs whose reference-model attacks checks will ask for; None: all.
        self._planned_references: frozenset[tuple[str, int]] | None = None
        self._costs: dict[str, _Cost] = {}
        #: Trainings are tasks of the executor (they leave this process).
        self._remote = bool(getattr(self.executor, "trains", False)) and self.hooks.make_model is None
        self._prefetched = False
        #: The data set as tasks receive it (:meth:`Executor.share`), made once; shared with other seeds.
        self._shared: dict[str, object] = {}
        self._training_futures: dict[str, Future] = {}
        self._reference_futures: dict[tuple[str, int], Future] = {}
        #: Models whose training or references this process is gathering now (not to be gathered twice).
        self._gathering: set[tuple[str, ...]] = set()
        self._cache_names: dict[tuple[str, int | None], str] = {}
        self.cache_hits: dict[str, int] = {"trainings": 0, "attack runs": 0, "reference models": 0}
        self.cache_error: str | None = None
        self._source: str | None = None
        self._checked_models = False
        self.started = time.perf_counter()
        self._training_started = self.started

    def plan(self, keys: Iterable[CaseKey]) -> None:
        """Tells what the checks of this run will ask for: only that is trained and attacked ahead."""
        keys = list(keys)
        self._planned = frozenset((key.model, key.epoch) for key in keys)
        self._planned_references = frozenset(
            (key.model, key.epoch) for key in keys if key.attack in REFERENCE_ATTACKS
        )

    def _wanted(self, model: str, epoch: int) -> bool:
        return self._planned is None or (model, epoch) in self._planned

    def _wanted_references(self, model: str) -> list[int]:
        """The report epochs of ``model`` whose reference-model attacks checks will ask for."""
        if not self.profile.references:
            return []
        return [
            epoch for epoch in self.profile.report_epochs
            if self._planned_references is None or (model, epoch) in self._planned_references
        ]

    @staticmethod
    def _remember(store: dict, key: Hashable, produce: Callable[[], T], failed: str | Callable[[Exception], str]) -> T:
        """``produce()`` once per key; its exception is remembered and raised as
        :class:`CheckFailed` (``failed``, or what it says of the error, + the error) on every
        later call too.

        Before the first one, TensorFlow and TF Privacy are imported without their
        start-up warnings (:mod:`privacy_checks.quiet`): every step needs them in this
        process (training, or TF Privacy's results from an attack or the cache)."""
        if key not in store:
            quiet.import_stack()
            try:
                store[key] = produce()
            except CheckFailed:
                raise
            except Exception as error:  # remembered: every check that needs it reports it
                store[key] = error
        result = store[key]
        if isinstance(result, Exception):
            headline = failed(result) if callable(failed) else failed
            raise CheckFailed(f"{headline}: {result}", headline=headline)
        return result

    def dataset(self) -> Dataset:
        return self._remember(self._results, "dataset", self._load, _data_failure)

    def _load(self) -> Dataset:
        dataset = load(self.profile, data_dir=self.settings.data_dir, hook=self.hooks.load_data)
        self._source = dataset.source
        return dataset

    def training(self, model: str) -> TrainingRun:
        return self._remember(
            self._trainings, model, lambda: self._cached_training(model) or self._train(model),
            f"training {model} failed",
        )

    def _train(self, model: str) -> TrainingRun:
        dataset = self.dataset()
        self._check_models(dataset)
        failed = self._trainings.get(model)
        if isinstance(failed, Exception):
            raise failed
        if self._remote:
            self.prefetch()
            gathering = ("training", model, str(self.profile.seed))
            self._gathering.add(gathering)
            try:
                run = self._wait_for(self._training_future(model)).value
            finally:
                self._gathering.discard(gathering)
            for snapshot in run.snapshots:
                self._schedule(snapshot)
            self._say(f"{model}: trained in {run.seconds:.1f}s {self.executor.describe()}")
        else:
            self._training_started = time.perf_counter()
            run = train(self.profile, self.profile.model(model), dataset, self._on_snapshot, self.hooks.make_model)
        self._cost(model).training = run.seconds
        self._store(cache.save_training, self._cache_name(model), run, dataset.source)
        return run

    def _check_models(self, dataset: Dataset) -> None:
        """Before the first training: builds every planned model once; a model that cannot be
        trained as declared fails its own checks with the reason, before any training time is spent."""
        if self._checked_models:
            return
        self._checked_models = True
        for spec in self.profile.models:
            if spec.name in self._trainings or not self._wanted_model(spec.name):
                continue
            try:
                preflight(self.profile, spec, dataset, self.hooks.make_model)
            except Exception as error:  # remembered: the model's checks report it
                self._trainings[spec.name] = error
                if self._progress is not None:
                    self._progress(f"{spec.name}: not trained: {error}")

    # -- trainings as tasks (an executor that trains: Ray) -----------------------

    def prefetch(self) -> None:
        """Submits every planned training and reference model the cache lacks, at once, so that
        the executor runs them side by side. Does nothing unless trainings are tasks."""
        if not self._remote or self._prefetched:
            return
        self._prefetched = True
        try:
            dataset = self.dataset()
        except CheckFailed:
            return  # every check reports the data set's error
        self._check_models(dataset)
        for spec in self.profile.models:
            if (self._wanted_model(spec.name) and spec.name not in self._trainings
                    and not self._cached(self._cache_name(spec.name))):
                self._training_future(spec.name)
        for spec in self.profile.models:
            if not self._wanted_references(spec.name) or spec.name in self._references:
                continue
            if isinstance(self._trainings.get(spec.name), Exception):
                continue  # its references would fail with it
            design = self._design(dataset)
            for k in range(design.references):
                if not self._cached(self._reference_name(spec.name, k)):
                    self._reference_future(spec.name, k, design)

    def _cached(self, name: str) -> bool:
        return self.settings.cache_dir is not None and cache.exists(self.settings.cache_dir, name)

    def _dataset_handle(self) -> object:
        if "dataset" not in self._shared:
            self._shared["dataset"] = self.executor.share(self.dataset())
        return self._shared["dataset"]

    def _training_future(self, model: str) -> Future:
        if model not in self._training_futures:
            self._training_futures[model] = self._submit_training(
                tasks.train_model, self.profile.plain(), model, self._dataset_handle()
            )
        return self._training_futures[model]

    def _reference_future(self, model: str, k: int, design: references.Design) -> Future:
        if (model, k) not in self._reference_futures:
            self._reference_futures[(model, k)] = self._submit_training(
                tasks.train_reference, self.profile.plain(), model, self._dataset_handle(), design.trains_on[k], k
            )
        return self._reference_futures[(model, k)]

    def _submit_training(self, task: Callable, *args: object) -> Future:
        """A training asks for the CPUs its TensorFlow threads use, and the executor's GPUs."""
        return self.executor.submit(
            task, *args, cpus=self.profile.intra_op_threads, gpus=getattr(self.executor, "gpus", 0), training=True
        )

    def _wait_for(self, future: Future) -> Timed:
        """``future``'s outcome. Meanwhile this process trains the plan's next models (worker
        processes) or gathers the trainings that finished and submits their attacks (Ray)."""
        if self._remote:
            while not future.done():
                running = [f for f in (*self._training_futures.values(), *self._reference_futures.values())
                           if not f.done()]
                concurrent.futures.wait([future, *running], return_when=concurrent.futures.FIRST_COMPLETED)
                self._gather_finished()
        elif self.executor.overlaps:
            self._train_ahead_while(lambda: not future.done())
        return future.result()

    def _gather_finished(self) -> None:
        """Takes in the trainings (and complete sets of reference models) that finished, so that
        their attacks are submitted now rather than when a check first asks for them."""
        for model, future in list(self._training_futures.items()):
            if (future.done() and model not in self._trainings
                    and ("training", model, str(self.profile.seed)) not in self._gathering):
                self._quietly(self.training, model)
        for model in sorted({model for model, _ in self._reference_futures}):
            done_all = all(f.done() for (m, _), f in list(self._reference_futures.items()) if m == model)
            if (done_all and model not in self._references and model in self._trainings
                    and ("references", model) not in self._gathering):
                self._quietly(self.references, model)

    @staticmethod
    def _quietly(produce: Callable[[str], object], model: str) -> None:
        try:
            produce(model)
        except CheckFailed:
            pass  # remembered: the model's checks report it

    def _say(self, line: str) -> None:
        if self._progress is not None:
            self._progress(f"{line} (elapsed {time.perf_counter() - self.started:.0f}s)")

    def _wanted_model(self, model: str) -> bool:
        return any(self._wanted(model, epoch) for epoch in self.profile.report_epochs)

    def _cached_training(self, model: str) -> TrainingRun | None:
        if self.settings.cache_dir is None:
            return None
        found = cache.load_training(self.settings.cache_dir, self._cache_name(model))
        if found is None:
            return None
        run, self._source = found
        self.cache_hits["trainings"] += 1
        for snapshot in run.snapshots:
            self._schedule(snapshot)
        return run

    def _cache_name(self, model: str, epoch: int | None = None) -> str:
        """The cache key of a training (or of a snapshot's attacks), computed once: it reads the code."""
        if (model, epoch) not in self._cache_names:
            self._cache_names[(model, epoch)] = cache.key(
                self.profile, model, self.versions, epoch, self.hooks.files
            )
        return self._cache_names[(model, epoch)]

    def _store(self, save, name: str, *args) -> None:
        """Caches a result; a cache that cannot be written only costs the next run time."""
        if self.settings.cache_dir is None:
            return
        try:
            save(self.settings.cache_dir, name, *args)
        except OSError as error:
            self.cache_error = f"privacy cache not written: {error}"

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        """Hands the snapshot's attacks to the executor; a progress line with what is left."""
        self._schedule(snapshot)
        if self._progress is None:
            return
        now = time.perf_counter()
        per_epoch = (now - self._training_started) / snapshot.epoch
        left = per_epoch * (self.profile.epochs - snapshot.epoch)
        self._progress(
            f"{snapshot.model}: epoch {snapshot.epoch}/{self.profile.epochs}, "
            f"train accuracy {snapshot.train_accuracy:.3f}, "
            f"test accuracy {snapshot.test_accuracy:.3f}, "
            f"elapsed {now - self.started:.0f}s, about {left:.0f}s left for {snapshot.model}"
        )

    def _schedule(self, snapshot: Snapshot, needed: bool = False) -> None:
        """Submits the attacks on a planned (or ``needed``) snapshot, unless the cache has them."""
        key = (snapshot.model, snapshot.epoch)
        if not self.profile.tf_privacy_attacks:
            return
        if key in self._pending or key in self._evaluations or not (needed or self._wanted(*key)):
            return
        name = self._cache_name(snapshot.model, snapshot.epoch)
        cached = None
        if self.settings.cache_dir is not None:
            cached = cache.load_evaluation(self.settings.cache_dir, name, snapshot)
        if cached is not None:
            self.cache_hits["attack runs"] += 1
            self._pending[key] = done(cached)
            return
        self._pending[key] = self.executor.submit(evaluate, snapshot, self.profile.plain())
        self._cost(snapshot.model).submitted += 1

    def evaluation(self, model: str, epoch: int) -> Evaluation:
        return self._remember(
            self._evaluations, (model, epoch), lambda: self._evaluate(model, epoch),
            f"attacks on {model} at epoch {epoch} failed",
        )

    def _evaluate(self, model: str, epoch: int) -> Evaluation:
        snapshot = self.training(model).at(epoch)
        key = (model, epoch)
        self._schedule(snapshot, needed=True)
        outcome = self._wait_for(self._pending.pop(key))
        if outcome.seconds is not None:  # attacked now, not found in the cache
            self._store(cache.save_evaluation, self._cache_name(model, epoch), outcome.value)
            self._attacked(model, outcome.seconds)
        return outcome.value

    def _train_ahead_while(self, waiting: Callable[[], bool]) -> None:
        """Trains the plan's next models, then their reference models (submitting their
        attacks), while ``waiting()``. Failures are remembered: their checks report them."""
        work = [
            (self.training, self._trainings, self._wanted_model),
            (self.references, self._references, self._wanted_references),
        ]
        for produce, store, wanted in work:
            for spec in self.profile.models:
                if not waiting():
                    return
                if spec.name in store or not wanted(spec.name):
                    continue
                try:
                    produce(spec.name)
                except CheckFailed:
                    pass

    # -- reference models ----------------------------------------------------

    def references(self, model: str) -> "References":
        """``model``'s reference models (:mod:`privacy_checks.references`), trained once or from the cache."""
        return self._remember(
            self._references, model, lambda: self._train_references(model),
            f"reference models of {model} not available",
        )

    def _train_references(self, model: str) -> "References":
        self._gathering.add(("references", model))
        try:
            return self._gather_references(model)
        finally:
            self._gathering.discard(("references", model))

    def _gather_references(self, model: str) -> "References":
        self.training(model)  # the model under test first: its checks need it, and its failure is theirs
        dataset = self.dataset()
        design = self._design(dataset)
        spec = self.profile.model(model)
        runs, seconds = [], 0.0
        for k in range(design.references):
            name = self._reference_name(model, k)
            found = None if self.settings.cache_dir is None else cache.load_training(self.settings.cache_dir, name)
            if found is not None:
                self.cache_hits["reference models"] += 1
                runs.append(found[0])
                continue
            if self._remote:
                run = self._wait_for(self._reference_future(model, k, design)).value
            else:
                run = train(
                    references.reference_profile(self.profile, k), spec,
                    references.reference_dataset(dataset, design.trains_on[k]), None, self.hooks.make_model,
                )
            self._store(cache.save_training, name, run, dataset.source)
            runs.append(run)
            seconds += run.seconds
            self._say(f"{model}: reference model {k + 1}/{design.references} trained in {run.seconds:.1f}s")
        self._cost(model).references = seconds
        found = References(design, tuple(runs))
        for epoch in self._wanted_references(model):
            self._schedule_references(model, epoch, found)
        return found

    def _design(self, dataset: Dataset) -> references.Design:
        return references.design(self.profile, len(dataset.y_members), len(dataset.y_non_members))

    def _reference_name(self, model: str, k: int) -> str:
        return cache.key(self.profile, model, self.versions, None, self.hooks.files, reference=k)

    def _schedule_references(self, model: str, epoch: int, refs: "References") -> None:
        key = (model, epoch)
        if key in self._pending_references or key in self._reference_evaluations:
            return
        self._pending_references[key] = self.executor.submit(
            evaluate_references, self.training(model).at(epoch), refs.logits(epoch),
            refs.design.trains_on, refs.design.population, self.profile.plain(),
        )
        self._cost(model).submitted += 1

    def reference_evaluation(self, model: str, epoch: int) -> Evaluation:
        """The reference-model attacks on ``model`` at ``epoch``."""
        return self._remember(
            self._reference_evaluations, (model, epoch), lambda: self._evaluate_references(model, epoch),
            f"reference-model attacks on {model} at epoch {epoch} failed",
        )

    def _evaluate_references(self, model: str, epoch: int) -> Evaluation:
        refs = self.references(model)
        self._schedule_references(model, epoch, refs)
        outcome = self._wait_for(self._pending_references.pop((model, epoch)))
        self._attacked(model, outcome.seconds or 0.0)
        return outcome.value

    def _cost(self, model: str) -> "_Cost":
        return self._costs.setdefault(model, _Cost())

    def _attacked(self, model: str, seconds: float) -> None:
        """Adds an attack's time; the model's last one prints where its time went."""
        cost = self._cost(model)
        cost.attacks += seconds
        cost.gathered += 1
        references_to_come = self._wanted_references(model) and model not in self._references
        if cost.gathered == cost.submitted and not references_to_come and self._progress is not None:
            self._progress(
                f"{model}: done at {time.perf_counter() - self.started:.0f}s: training "
                f"{cost.training:.1f}s, "
                + (f"reference models {cost.references:.1f}s, " if cost.references else "")
                + f"attacks {cost.attacks:.1f}s on {cost.gathered} snapshots "
                f"({self.executor.describe()})"
            )

    def evaluations(self) -> list[Evaluation]:
        """The evaluations that succeeded this session, each snapshot's attacks in one."""
        found = {key: e for key, e in self._evaluations.items() if isinstance(e, Evaluation)}
        for key, extra in self._reference_evaluations.items():
            if isinstance(extra, Evaluation):
                found[key] = found[key].merged(extra) if key in found else extra
        return list(found.values())

    def histories(self) -> dict[str, tuple[dict[str, float], ...]]:
        """Keras's per-epoch logs of each model trained this session."""
        return {
            model: run.history
            for model, run in self._trainings.items()
            if isinstance(run, TrainingRun)
        }

    def record(self, key: CaseKey) -> AttackRecord | None:
        """The attack result for ``key``; None if the attack skipped the slice."""
        if key.attack in REFERENCE_ATTACKS:
            return self.reference_evaluation(key.model, key.epoch).record(key.attack, key.slice)
        return self.evaluation(key.model, key.epoch).record(key.attack, key.slice)

    def members(self, model: str, epoch: int) -> int:
        """How many members the model was trained on (its training must have run)."""
        return len(self.training(model).at(epoch).labels_members)

    def member_count(self) -> int:
        """How many members every model trains on: from a training this run has, else the data set
        (so that a DP model's epsilon is known without training it)."""
        for run in self._trainings.values():
            if isinstance(run, TrainingRun) and run.snapshots:
                return len(run.snapshots[0].labels_members)
        return len(self.dataset().y_members)

    def with_seed(self, seed: int, models: Iterable[str] | None = None) -> "Measurer":
        """A measurer of the same profile under another seed (same members), for calibration;
        ``models``: only those are trained ahead (None: the plan's)."""
        settings = dataclasses.replace(
            self.settings, profile=self.profile.with_seed(seed), update_baselines=False, calibrate=0
        )
        other = Measurer(settings, self.versions, prefixed(self._progress, seed), self.executor, self.hooks)
        planned = self._planned
        if models is not None:
            chosen = set(models)
            every = {(m.name, e) for m in self.profile.models for e in self.profile.report_epochs}
            planned = frozenset(k for k in (every if planned is None else planned) if k[0] in chosen)
        other._planned = planned
        other._planned_references = self._planned_references
        # The same members, so the same references (:mod:`privacy_checks.references`): trained once.
        other._references = self._references
        other._reference_futures = self._reference_futures
        other._shared = self._shared
        other._gathering = self._gathering
        other._checked_models = self._checked_models  # the same models: built and checked once
        return other

    @property
    def data_source(self) -> str:
        """What the models were trained on (known from the data set or the cache)."""
        return self._source or self.profile.dataset


def _data_failure(error: Exception) -> str:
    """A data set that was loaded and refused is "rejected"; one that could not be loaded "not available"."""
    return "data set rejected" if isinstance(error, DatasetRejected) else "data set not available"


def prefixed(progress: Callable[[str], None] | None, seed: int) -> Callable[[str], None] | None:
    """Progress lines of a calibration seed's run: ``seed 1236: 2_layers: epoch ...``."""
    return None if progress is None else (lambda line: progress(f"seed {seed}: {line}"))


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


@dataclasses.dataclass
class _Cost:
    """Where one model's time went, for its closing progress line."""

    training: float = 0.0
    references: float = 0.0
    attacks: float = 0.0
    submitted: int = 0
    gathered: int = 0
