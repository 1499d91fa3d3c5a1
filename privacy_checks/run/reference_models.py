"""Each model's reference models (:mod:`privacy_checks.train.references`), trained once or taken from the
cache, and the reference-model attacks on its snapshots (:class:`ReferenceModels`, a part of
:class:`~privacy_checks.run.measurer.Measurer`)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future

import numpy as np

from privacy_checks.attack.records import Evaluation
from privacy_checks.attack.reference_evaluation import evaluate_references
from privacy_checks.data.dataset import Dataset
from privacy_checks.run import cache, tasks
from privacy_checks.train import references
from privacy_checks.train.fit import train
from privacy_checks.train.snapshot import TrainingRun


class ReferenceModels:
    """The measurer's reference models and their attacks (its state is the
    :class:`~privacy_checks.run.measurer.Measurer`'s)."""

    def _reference_future(self, model: str, k: int, design: references.Design) -> Future:
        if (model, k) not in self._reference_futures:
            self._reference_futures[(model, k)] = self._submit_training(
                tasks.train_reference, self.profile.plain(), model, self._dataset_handle(), design.trains_on[k], k
            )
        return self._reference_futures[(model, k)]

    def references(self, model: str) -> "References":
        """``model``'s reference models (:mod:`privacy_checks.train.references`), trained once or from the cache."""
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
