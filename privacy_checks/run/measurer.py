"""Measuring lazily, once: the data set, each model's training, each snapshot's attacks.

Every expensive step runs at most once per session and only when a check
needs it: the data set is loaded on first use, each model is trained on the
first check of that model, and each snapshot is attacked on the first check
of that (model, epoch). Results come from the cache when it has them and go
into it when it does not. Failures are remembered too, so that a model whose
training diverged fails each of its checks with the same message instead of
being retrained for every one.

The class is drawn in parts: :class:`~privacy_checks.run.trainings.Trainings` (the data set and
the trainings), :class:`~privacy_checks.run.reference_models.ReferenceModels` and
:class:`~privacy_checks.run.evaluations.Evaluations` (the attack runs); this module holds the state
they share, the plan and the rule that remembers failures.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Hashable, Iterable, TypeVar

from privacy_checks.attack.records import Evaluation
from privacy_checks.data.load import LoadData
from privacy_checks.run.evaluations import Cost, Evaluations
from privacy_checks.run.executors import Executor, InProcess
from privacy_checks.run.reference_models import ReferenceModels, References
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.run.trainings import Trainings
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import REFERENCE_ATTACKS
from privacy_checks.train import quiet
from privacy_checks.train.fit import MakeModel
from privacy_checks.train.snapshot import TrainingRun


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class UserHooks:
    """What a project's pytest hooks make instead of the profile's paths (:mod:`privacy_checks.plugin.hookspec`)."""

    #: A model for (profile, spec), or None to use the spec's builder.
    make_model: MakeModel | None = None
    #: Members and non-members for (profile, data_dir), or None to use the profile's data source.
    load_data: LoadData | None = None
    #: The hook implementations' module files: the cache key covers them.
    files: tuple[Path, ...] = ()


class Measurer(Trainings, ReferenceModels, Evaluations):
    """Produces and remembers one run's data, trainings and evaluations (errors too).

    Attacks go to an :mod:`~privacy_checks.run.executors` executor as soon as a
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
        self._costs: dict[str, Cost] = {}
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
        start-up warnings (:mod:`privacy_checks.train.quiet`): every step needs them in this
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
        # The same members, so the same references (:mod:`privacy_checks.train.references`): trained once.
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


def prefixed(progress: Callable[[str], None] | None, seed: int) -> Callable[[str], None] | None:
    """Progress lines of a calibration seed's run: ``seed 1236: 2_layers: epoch ...``."""
    return None if progress is None else (lambda line: progress(f"seed {seed}: {line}"))
