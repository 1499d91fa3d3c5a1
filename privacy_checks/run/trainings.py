"""The data set and each model's training, once: in this process or as an executor's tasks, from the
cache where it has them, failures remembered (:class:`Trainings`, a part of
:class:`~privacy_checks.run.measurer.Measurer`)."""

from __future__ import annotations

import concurrent.futures
import time
from concurrent.futures import Future
from typing import Callable

from privacy_checks.data.dataset import Dataset, DatasetRejected
from privacy_checks.data.load import load
from privacy_checks.run import cache, tasks
from privacy_checks.run.executors import Timed
from privacy_checks.run.settings import CheckFailed
from privacy_checks.train.fit import preflight, train
from privacy_checks.train.snapshot import Snapshot, TrainingRun


class Trainings:
    """The measurer's data set and trainings (its state is the :class:`~privacy_checks.run.measurer.Measurer`'s)."""

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

    def histories(self) -> dict[str, tuple[dict[str, float], ...]]:
        """Keras's per-epoch logs of each model trained this session."""
        return {
            model: run.history
            for model, run in self._trainings.items()
            if isinstance(run, TrainingRun)
        }

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


def _data_failure(error: Exception) -> str:
    """A data set that was loaded and refused is "rejected"; one that could not be loaded "not available"."""
    return "data set rejected" if isinstance(error, DatasetRejected) else "data set not available"
