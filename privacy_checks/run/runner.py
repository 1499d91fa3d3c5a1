"""Running a plan: every node once, from the cache where it can, failures remembered.

The plan (:mod:`privacy_checks.run.plan`) says what the run needs; the runner
produces it, each node at most once, and keeps each result or error by node.
A check reads the nodes it needs and waits for those only:

* **On this machine** (worker processes, or none): this process trains, in
  the plan's order, handing each snapshot a check reads to the executor as
  soon as it exists, so that attacks run beside training; while a check waits
  for an attack, the plan's next training (then reference model) goes on.
* **With an executor that trains** (Ray): at the first need, every planned
  training and reference model the cache lacks is submitted at once; while a
  check waits, finished trainings are taken in and their attacks submitted. A
  project's ``pytest_privacy_build_model`` hook keeps training here: a hook
  cannot be sent to a worker.

The numbers do not depend on any of this: each node is seeded by what it is
(model, seed, epoch, reference), not by when or where it runs.
"""

from __future__ import annotations

import concurrent.futures
from concurrent.futures import Future
from typing import Callable, Hashable, TypeVar

from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.data.dataset import Dataset
from privacy_checks.data.load import load
from privacy_checks.run import cache
from privacy_checks.run.executors import Executor, InProcess, Timed
from privacy_checks.run.nodes import NodeWork, References, UserHooks, data_failure
from privacy_checks.run.plan import Attacks, Node, Plan, Reference, ReferenceAttacks, Training
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import REFERENCE_ATTACKS
from privacy_checks.train import quiet
from privacy_checks.train.fit import preflight
from privacy_checks.train.snapshot import Snapshot, TrainingRun

T = TypeVar("T")


class Runner(NodeWork):
    """One run's nodes: produced once each, remembered with their errors (module doc)."""

    def __init__(
        self,
        settings: Settings,
        versions: dict[str, str],
        progress: Callable[[str], None] | None = None,
        executor: Executor | None = None,
        hooks: UserHooks | None = None,
    ) -> None:
        super().__init__(settings, versions, progress, executor if executor is not None else InProcess(), hooks)
        self._plan = Plan()
        #: Whether a plan was given (without one, as in a script, every model is checked before training).
        self._selected = False
        #: Every node's result or error, and the data set's under "dataset".
        self._results: dict[Hashable, object] = {}
        #: Submitted work: a training or reference model running as a task, an attack run.
        self._futures: dict[Node, Future] = {}
        #: Nodes this process is producing now (a wait must not start them a second time).
        self._producing: set[Node] = set()
        #: Trainings are tasks of the executor (they leave this process).
        self._remote = bool(getattr(self.executor, "trains", False)) and self.hooks.make_model is None
        self._submitted_all = False
        self._checked_models = False
        #: Models that could not be built as declared (found before any training): their error.
        self._unbuildable: dict[str, Exception] = {}
        self._shared: object | None = None

    # -- the plan ------------------------------------------------------------------

    def plan(self, plan: Plan) -> None:
        """What the run's checks will read: only that is produced ahead."""
        self._plan, self._selected = plan, True

    def _planned(self, node: Node) -> None:
        """A node read outside the plan (a check that was not selected, a script): planned now."""
        self._plan = self._plan.including(node, self.profile.references)

    # -- results -------------------------------------------------------------------

    def dataset(self) -> Dataset:
        return self._remember("dataset", self._load, data_failure)

    def training(self, model: str, seed: int | None = None) -> TrainingRun:
        node = Training(model, self.profile.seed if seed is None else seed)
        self._planned(node)
        return self._remember(node, lambda: self._train(node), f"training {model} failed")

    def reference(self, node: Reference) -> TrainingRun:
        self._planned(node)
        return self._remember(node, lambda: self._train_reference(node),
                              f"reference models of {node.model} not available")

    def references(self, model: str) -> References:
        """``model``'s reference models, each trained once or taken from the cache."""
        self.training(model)  # the model under test first: its checks need it, and its failure is theirs
        dataset = self.dataset()
        design = self.design(dataset)
        found = References(design, tuple(self.reference(Reference(model, k)) for k in range(design.references)))
        for node in sorted(self._plan.reference_attacks):  # submitted now, attacked while training goes on
            run = self._results.get(Training(node.model, node.seed))
            if node.model == model and isinstance(run, TrainingRun) and node not in self._futures \
                    and node not in self._results:
                self._futures[node] = self.submit_reference_attacks(node, run.at(node.epoch), found)
        return found

    def evaluation(self, model: str, epoch: int, seed: int | None = None) -> Evaluation:
        node = Attacks(model, self.profile.seed if seed is None else seed, epoch)
        self._planned(node)
        return self._remember(node, lambda: self._attack(node), f"attacks on {model} at epoch {epoch} failed")

    def reference_evaluation(self, model: str, epoch: int, seed: int | None = None) -> Evaluation:
        node = ReferenceAttacks(model, self.profile.seed if seed is None else seed, epoch)
        self._planned(node)
        return self._remember(node, lambda: self._attack_references(node),
                              f"reference-model attacks on {model} at epoch {epoch} failed")

    def record(self, key: CaseKey, seed: int | None = None) -> AttackRecord | None:
        """The attack result for ``key`` (under ``seed``, default the run's); None if the attack skipped the slice."""
        if key.attack in REFERENCE_ATTACKS:
            return self.reference_evaluation(key.model, key.epoch, seed).record(key.attack, key.slice)
        return self.evaluation(key.model, key.epoch, seed).record(key.attack, key.slice)

    def evaluations(self) -> list[Evaluation]:
        """The run seed's evaluations that succeeded, each snapshot's attacks in one."""
        found: dict[tuple[str, int], Evaluation] = {}
        for kind in (Attacks, ReferenceAttacks):
            for node, value in self._results.items():
                if isinstance(node, kind) and node.seed == self.profile.seed and isinstance(value, Evaluation):
                    key = (node.model, node.epoch)
                    found[key] = found[key].merged(value) if key in found else value
        return list(found.values())

    def histories(self) -> dict[str, tuple[dict[str, float], ...]]:
        """Keras's per-epoch logs of each model the run seed trained."""
        return {
            node.model: value.history
            for node, value in self._results.items()
            if isinstance(node, Training) and node.seed == self.profile.seed and isinstance(value, TrainingRun)
        }

    def members(self, model: str, epoch: int) -> int:
        """How many members the model was trained on (its training must have run)."""
        return len(self.training(model).at(epoch).labels_members)

    def member_count(self) -> int:
        """How many members every model trains on: from a training this run has, else the data set
        (so that a DP model's epsilon is known without training it)."""
        for node, value in self._results.items():
            if isinstance(node, Training) and isinstance(value, TrainingRun) and value.snapshots:
                return len(value.snapshots[0].labels_members)
        return len(self.dataset().y_members)

    @property
    def data_source(self) -> str:
        """What the models were trained on (known from the data set or the cache)."""
        return self.source or self.profile.dataset

    # -- producing ------------------------------------------------------------------

    def _remember(self, key: Hashable, produce: Callable[[], T], failed: str | Callable[[Exception], str]) -> T:
        """``produce()`` once per key; its exception is remembered and raised as
        :class:`CheckFailed` (``failed``, or what it says of the error, + the error) on every
        later call too. Before the first, TensorFlow is imported quietly (:mod:`quiet`)."""
        if key not in self._results:
            quiet.import_stack()
            try:
                self._results[key] = produce()
            except CheckFailed:
                raise
            except Exception as error:  # remembered: every check that needs it reports it
                self._results[key] = error
        result = self._results[key]
        if isinstance(result, Exception):
            headline = failed(result) if callable(failed) else failed
            raise CheckFailed(f"{headline}: {result}", headline=headline)
        return result

    def _load(self) -> Dataset:
        dataset = load(self.profile, data_dir=self.settings.data_dir, hook=self.hooks.load_data)
        self.source = dataset.source
        return dataset

    def _check_models(self, dataset: Dataset) -> None:
        """Before the first training: builds every planned model once; a model that cannot be
        trained as declared fails its own checks with the reason, before any training time is spent."""
        if self._checked_models:
            return
        self._checked_models = True
        to_train = {t.model for t in self._plan.trainings if t not in self._results} if self._selected else {
            spec.name for spec in self.profile.models}
        for spec in self.profile.models:
            if spec.name not in to_train:
                continue
            try:
                preflight(self.profile, spec, dataset, self.hooks.make_model)
            except Exception as error:  # remembered: the model's checks report it
                self._unbuildable[spec.name] = error
                self.say_plain(f"{spec.name}: not trained: {error}")

    def _train(self, node: Training) -> TrainingRun:
        cached = self.cached_training(node)
        if cached is not None:
            self._schedule_all(node, cached)
            return cached
        dataset = self.dataset()
        self._check_models(dataset)
        if node.model in self._unbuildable:
            raise self._unbuildable[node.model]
        if self._remote:
            run = self._produce_remotely(node)
            self._schedule_all(node, run)
            self.say(node.seed, f"{node.model}: trained in {run.seconds:.1f}s {self.executor.describe()}")
        else:
            run = self.train_here(node, dataset, lambda snapshot: self._on_snapshot(node, snapshot))
        self.cost(node.model, node.seed).training = run.seconds
        self.store(cache.save_training, self.training_name(node), run, dataset.source)
        return run

    def _produce_remotely(self, node: Training | Reference) -> TrainingRun:
        """Submits every planned node (the executor then has all the work at once) and waits for
        ``node``'s, marking it as being produced meanwhile so that it is not submitted twice."""
        self._submit_all()
        self._producing.add(node)
        try:
            return self._wait_for(self._future(node)).value
        finally:
            self._producing.discard(node)

    def _train_reference(self, node: Reference) -> TrainingRun:
        name = self.reference_name(node)
        found = None if self.settings.cache_dir is None else cache.load_training(self.settings.cache_dir, name)
        if found is not None:
            self.cache_hits["reference models"] += 1
            return found[0]
        dataset = self.dataset()
        design = self.design(dataset)
        if self._remote:
            run = self._produce_remotely(node)
        else:
            run = self.train_reference_here(node, dataset, design)
        self.store(cache.save_training, name, run, dataset.source)
        self.cost(node.model, self.profile.seed).references += run.seconds
        self.say(self.profile.seed, f"{node.model}: reference model {node.k + 1}/{design.references} "
                 f"trained in {run.seconds:.1f}s")
        return run

    def _on_snapshot(self, node: Training, snapshot: Snapshot) -> None:
        self._schedule(Attacks(node.model, node.seed, snapshot.epoch), snapshot)
        self.say_epoch(node.seed, snapshot)

    def _schedule_all(self, node: Training, run: TrainingRun) -> None:
        for snapshot in run.snapshots:
            self._schedule(Attacks(node.model, node.seed, snapshot.epoch), snapshot)

    def _schedule(self, node: Attacks, snapshot: Snapshot, needed: bool = False) -> None:
        """Submits the attacks on a planned (or ``needed``) snapshot, unless the cache has them."""
        if not self.profile.tf_privacy_attacks:
            return
        if node in self._futures or node in self._results or not (needed or node in self._plan.attacks):
            return
        self._futures[node] = self.submit_attacks(node, snapshot)

    def _attack(self, node: Attacks) -> Evaluation:
        snapshot = self.training(node.model, node.seed).at(node.epoch)
        self._schedule(node, snapshot, needed=True)
        outcome = self._wait_for(self._futures.pop(node))
        if outcome.seconds is not None:  # attacked now, not found in the cache
            self.store(cache.save_evaluation, self.attack_name(node), outcome.value)
            self.attacked(node.model, node.seed, outcome.seconds, self._references_to_come(node.model))
        return outcome.value

    def _attack_references(self, node: ReferenceAttacks) -> Evaluation:
        snapshot = self.training(node.model, node.seed).at(node.epoch)
        refs = self.references(node.model)
        if node not in self._futures:
            self._futures[node] = self.submit_reference_attacks(node, snapshot, refs)
        outcome = self._wait_for(self._futures.pop(node))
        self.attacked(node.model, node.seed, outcome.seconds or 0.0, False)
        return outcome.value

    def _references_to_come(self, model: str) -> bool:
        return any(r.model == model for r in self._plan.references) and not all(
            r in self._results for r in self._plan.references_of(model)
        )

    # -- waiting ----------------------------------------------------------------------

    def _wait_for(self, future: Future) -> Timed:
        """``future``'s outcome. Meanwhile this process trains the plan's next models and reference
        models (worker processes), or takes in what finished and submits its attacks (Ray)."""
        if self._remote:
            while not future.done():
                running = [f for f in self._futures.values() if not f.done()]
                concurrent.futures.wait([future, *running], return_when=concurrent.futures.FIRST_COMPLETED)
                self._take_in_finished()
        elif self.executor.overlaps:
            for node in (*self._plan.trainings, *self._plan.references):
                if future.done():
                    break
                if node not in self._results and node not in self._producing:
                    self._quietly(node)
        return future.result()

    def _quietly(self, node: Training | Reference) -> None:
        try:
            self.training(node.model, node.seed) if isinstance(node, Training) else self.reference(node)
        except CheckFailed:
            pass  # remembered: its checks report it

    def _take_in_finished(self) -> None:
        """Takes in the trainings and reference models that finished, so that their attacks are
        submitted now rather than when a check first asks for them."""
        for node, future in list(self._futures.items()):
            if isinstance(node, (Training, Reference)) and future.done() and node not in self._results \
                    and node not in self._producing:
                self._quietly(node)

    def _submit_all(self) -> None:
        """Every planned training and reference model the cache lacks, as tasks, at once (Ray)."""
        if self._submitted_all:
            return
        self._submitted_all = True
        dataset = self.dataset()
        self._check_models(dataset)
        for node in self._plan.trainings:
            if node not in self._results and not self.cached(self.training_name(node)):
                self._future(node)
        for node in self._plan.references:
            if node.model in self._unbuildable:
                continue  # its references would fail with it
            if not self.cached(self.reference_name(node)):
                self._future(node)

    def _future(self, node: Training | Reference) -> Future:
        if node not in self._futures:
            if self._shared is None:
                self._shared = self.executor.share(self.dataset())
            self._futures[node] = self.submit_training(node, self._shared, self.design(self.dataset()))
        return self._futures[node]


