"""One privacy run: plan the work, compare with the baselines, check DP guarantees, queue updates.

The front the pytest plugin (and any script) talks to, kept free of pytest.
It holds the run's verdicts and delegates the work to one part per job:

* :class:`~privacy_checks.run.runner.Runner` runs the plan of the selected
  checks (:mod:`privacy_checks.run.plan`): data, trainings, reference models
  and attack runs, each once, from the cache where it can, remembering failures;
* :class:`~privacy_checks.judge.book.BaselineBook` reads, judges, and at the end
  writes the baseline files, and chooses tolerances from them;
* :class:`~privacy_checks.run.seeds.Calibration` measures the other seeds
  when baselines are recorded with their spread;
* :mod:`~privacy_checks.judge.guarantees` checks a DP model's guarantees.

Baseline writes are queued and done once, at the end (:meth:`PrivacyRun.finish`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterable, Iterator

from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.data.dataset import Dataset
from privacy_checks.judge import calibration, guarantees, messages
from privacy_checks.judge.baselines import Baseline
from privacy_checks.judge.book import BaselineBook
from privacy_checks.judge.compare import compare
from privacy_checks.judge.recording import BaselineChange
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck
from privacy_checks.run.executors import Executor, executor as local_executor
from privacy_checks.run import plan as planning
from privacy_checks.run.nodes import UserHooks
from privacy_checks.run.runner import Runner
from privacy_checks.run.seeds import Calibration
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.spec.cases import ACCOUNTANT, Case, CaseKey
from privacy_checks.spec.environment import versions
from privacy_checks.spec.files import display_path
from privacy_checks.train.snapshot import TrainingRun


class PrivacyRun:
    """One session's verdicts, and the parts that measure, remember and write them."""

    def __init__(
        self,
        settings: Settings,
        progress: Callable[[str], None] | None = None,
        hooks: UserHooks | None = None,
        executor: Executor | None = None,
    ) -> None:
        """``executor``: where trainings and attacks run (default: ``settings.workers`` worker processes)."""
        self.settings = settings
        self.profile = settings.profile
        self.versions = versions()
        self.executor = executor if executor is not None else local_executor(settings.workers)
        self.runner = Runner(settings, self.versions, progress, self.executor, hooks)
        self.book = BaselineBook(settings, self.versions)
        self.calibration = Calibration(settings, self.runner)
        self.comparisons: dict[CaseKey, Comparison] = {}
        self.guarantees: dict[tuple[CaseKey, str], GuaranteeCheck] = {}
        #: Checks that could not be measured, by (key, check): the whole error behind each.
        self.unmeasured: dict[tuple[CaseKey, str], str] = {}
        #: Baseline checks whose slice the attack could not run (too few examples): skipped.
        self.skipped: set[CaseKey] = set()
        #: Each error told in full so far, and the check that told it.
        self._told: dict[str, str] = {}
        self.report_files: list[Path] = []
        self.report_error: str | None = None

    # -- checks ---------------------------------------------------------------

    def check(self, case: Case) -> Comparison | None:
        """Measures ``case`` and compares it; queues the new values in update mode.

        Returns None when the attack produced no result for the slice (too few
        examples); raises :class:`CheckFailed` when no verdict is possible.
        """
        with self._outcome(case):
            record = self.record(case)
            if record is None:
                self.skipped.add(case.key)
                return None
            obtained = {name: record.metric(name) for name in self.profile.metrics}
            expected = self.book.expected(case, self.data_source)
            comparison = compare(
                case.key, obtained, expected, self.book.tolerances(case, record, expected), record.intervals
            )
            if self.settings.update_baselines:
                self._queue(case, obtained)
            self.comparisons[case.key] = comparison
            return comparison

    def _queue(self, case: Case, obtained: dict[str, float]) -> None:
        """The new values of ``case`` and their spread (measured, kept or none), and a DP model's epsilon."""
        if self.book.calibration(case.model).measured:
            spread = self.calibration.spread(case.key, obtained)
        else:
            spread = self.book.recorded_spread(case, obtained)
        self.book.queue(case, obtained, spread)
        if self.profile.model(case.model).dp is not None:
            self.book.queue_epsilon(case.model, guarantees.accountant_epsilons(self.runner, case.model))

    def plan(self, selected: Iterable[Case]) -> str | None:
        """Plans the work of the selected checks before any of it starts (:mod:`privacy_checks.run.plan`):
        what they read, under the run's seed and, in an update, under the calibration seeds of the
        models being calibrated. Nothing else runs ahead.

        Returns what an update will calibrate and what it costs (said before it starts), if anything.
        """
        selected = list(selected)
        models = list(dict.fromkeys(case.model for case in selected))
        plans = [self.book.calibration(model) for model in models] if self.settings.update_baselines else []
        calibrated = {p.model: p.measured[1:] for p in plans if p.measured}
        self.runner.plan(planning.build(self.profile, selected, calibrated))
        return calibration.cost(plans)

    def check_guarantee(self, case: Case) -> GuaranteeCheck:
        """Measures one of a DP model's guarantees; raises :class:`CheckFailed` without a verdict."""
        with self._outcome(case):
            result = guarantees.check(case, self.settings, self.runner, self.book)
            if case.check == ACCOUNTANT and self.settings.update_baselines:
                self.book.queue_epsilon(case.model, guarantees.accountant_epsilons(self.runner, case.model))
            self.guarantees[(case.key, case.check)] = result
            return result

    @contextlib.contextmanager
    def _outcome(self, case: Case) -> Iterator[None]:
        """Remembers a check that could not be measured, and tells each error in full once:
        later checks failing for the same reason get a one-line reference to it."""
        try:
            yield
        except CheckFailed as error:
            self.unmeasured[(case.key, case.check)] = error.root
            if error.root in self._told:
                told = messages.told_before(error.headline, self._told[error.root])
                raise CheckFailed(told, root=error.root, headline=error.headline) from None
            self._told[error.root] = case.id
            raise

    def guarantee_message(self, check: GuaranteeCheck) -> str:
        """Why a guarantee check failed, with the command that accepts it where re-recording may."""
        if check.check == ACCOUNTANT:
            return messages.accountant_failed(check, display_path(self.baseline_path(check.model)), self.profile.name)
        return messages.guarantee_failed(check)

    def finish(self) -> list[BaselineChange]:
        """Writes the queued baseline updates, one atomic write per changed file."""
        return self.book.finish(self.data_source)

    # -- what was measured ----------------------------------------------------

    def checked(self) -> bool:
        """Whether any check ran this session (measured or not): then there is a summary to give."""
        return bool(self.comparisons or self.guarantees or self.unmeasured or self.skipped or self.evaluations())

    def training(self, model: str) -> TrainingRun:
        return self.runner.training(model)

    def evaluation(self, model: str, epoch: int) -> Evaluation:
        return self.runner.evaluation(model, epoch)

    def evaluations(self) -> list[Evaluation]:
        """The evaluations that succeeded this session."""
        return self.runner.evaluations()

    def histories(self) -> dict[str, tuple[dict[str, float], ...]]:
        return self.runner.histories()

    def dataset(self) -> Dataset:
        """The run's members and non-members (loaded on first use; :class:`CheckFailed` if they cannot be)."""
        return self.runner.dataset()

    def record(self, case: Case) -> AttackRecord | None:
        """The attack result for ``case``; None if TF Privacy skipped the slice."""
        return self.runner.record(case.key)

    @property
    def data_source(self) -> str:
        return self.runner.data_source

    @property
    def cache_hits(self) -> dict[str, int]:
        return self.runner.cache_hits

    @property
    def cache_error(self) -> str | None:
        return self.runner.cache_error

    def accountant_epsilon(self, model: str, epoch: int) -> float:
        return guarantees.accountant_epsilon(self.runner, model, epoch)

    # -- baselines ------------------------------------------------------------

    def baseline_path(self, model: str) -> Path:
        return self.book.path(model)

    def baseline(self, model: str) -> Baseline | None:
        return self.book.baseline(model)

    def loaded_baselines(self) -> dict[str, Baseline]:
        return self.book.loaded()

    @property
    def setup_changes(self) -> dict[str, list[str]]:
        return self.book.setup_changes

    @property
    def changes(self) -> list[BaselineChange]:
        return self.book.changes

    def unused_entries(self) -> tuple[list[CaseKey], list[CaseKey]]:
        """Baseline entries not checked this session: (stale, not run)."""
        return self.book.unused_entries(lambda key: key in self.comparisons)

    def orphan_baseline_files(self) -> list[Path]:
        return self.book.orphan_files()

    def version_warnings(self) -> list[str]:
        return self.book.version_warnings()
