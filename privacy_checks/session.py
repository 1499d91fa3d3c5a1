"""One privacy run: train lazily, attack once per snapshot, compare, queue updates.

This is the orchestration behind the pytest plugin, kept free of pytest so it
can be driven from a script too. Every expensive step runs at most once per
session and only when a check needs it: the data set is loaded on first use,
each model is trained on the first check of that model, and each snapshot is
attacked on the first check of that (model, epoch). Failures are remembered
too, so that a model whose training diverged fails each of its checks with
the same message instead of being retrained for every one.

Baseline writes are queued and done once, at the end (:meth:`PrivacyRun.finish`).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math
import platform
import time
from statistics import NormalDist
from pathlib import Path
from typing import Callable, Iterator, Mapping

from privacy_checks import accounting, baselines, cache, tolerances
from privacy_checks.attacks import AttackRecord, Evaluation, case_key, evaluate
from privacy_checks.baselines import Baseline, BaselineError, Comparison, Entry, Status
from privacy_checks.datasets import Dataset, load
from privacy_checks.metrics import interval_sd
from privacy_checks.profiles import (
    DATA_FIELDS,
    ENTIRE_DATASET,
    Profile,
    fingerprint_changes,
    split_seed_of,
)
from privacy_checks.tolerances import MetricTolerance
from privacy_checks.training import Snapshot, TrainingRun, train

#: Distributions whose versions are stored with baselines and shown in the header.
VERSIONED = ("tensorflow", "tensorflow-privacy", "numpy", "scikit-learn")


def versions() -> dict[str, str]:
    """Versions of Python and the packages that change the numbers (no imports needed)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


#: What a case checks: the baseline, or one of a DP model's two guarantees.
BASELINE, EPSILON, VS_NON_PRIVATE = "baseline", "epsilon_bound", "auc_vs_non_private"


@dataclasses.dataclass(frozen=True)
class Case:
    """One parametrized check: a (model, report epoch, attack, slice) and what is checked.

    Every model's cases compare AUC and attacker advantage with the baseline.
    A DP model also gets, per report epoch and attack on the entire dataset,
    ``epsilon_bound`` (the measured epsilon lower bound must not exceed the
    accountant's epsilon) and ``auc_vs_non_private`` (its AUC must not exceed
    the non-private model's); those need no baseline.
    """

    model: str
    epoch: int
    attack: str
    slice: str
    check: str = BASELINE

    @property
    def key(self) -> str:
        key = case_key(self.model, self.epoch, self.attack, self.slice)
        return key if self.check == BASELINE else f"{key}/{self.check}"

    @property
    def id(self) -> str:
        suffix = self.slice if self.check == BASELINE else self.check
        return f"{self.model}-epoch{self.epoch}-{self.attack}-{suffix}"

    @property
    def entry_key(self) -> str:
        return baselines.entry_key(self.epoch, self.attack, self.slice)


def cases(profile: Profile) -> list[Case]:
    """Every check a profile defines, in the order they run (model-major: train once)."""
    found = []
    for model in profile.models:
        found += [
            Case(model.name, epoch, attack, slice_name)
            for epoch in profile.report_epochs
            for attack in profile.attacks
            for slice_name in profile.slices
        ]
        if model.dp is not None:
            checks = (EPSILON,) + ((VS_NON_PRIVATE,) if model.compare_to else ())
            found += [
                Case(model.name, epoch, attack, ENTIRE_DATASET, check)
                for epoch in profile.report_epochs
                for attack in profile.attacks
                for check in checks
            ]
    return found


def baseline_keys(profile: Profile) -> set[str]:
    """The baseline entries a profile can produce."""
    return {case.key for case in cases(profile) if case.check == BASELINE}


@dataclasses.dataclass(frozen=True)
class GuaranteeCheck:
    """The verdict of one DP guarantee check: ``obtained`` must not exceed ``limit``."""

    key: str
    model: str
    epoch: int
    attack: str
    check: str  #: ``epsilon_bound`` or ``auc_vs_non_private``
    obtained: float
    limit: float
    detail: str  #: what ``limit`` is, for the failure message and the report
    #: The error this check may have, and how many guarantee checks share the run's budget.
    alpha: float = 0.0
    family: int = 1
    #: The attack tells members from non-members no better than chance on both models:
    #: a comparison of noise, which passes whatever the two AUCs are.
    at_chance: bool = False

    @property
    def passed(self) -> bool:
        return self.at_chance or self.obtained <= self.limit


@dataclasses.dataclass(frozen=True)
class Settings:
    """Resolved options of one run (CLI over ini over profile defaults)."""

    profile: Profile
    baselines_dir: Path
    report_dir: Path
    update_baselines: bool = False
    data_dir: str | None = None
    cache_dir: Path | None = None  #: where training and attack results persist; None: nowhere
    #: Explicit tolerances (``auc``, ``attacker_advantage``, ``tpr``) for the entire
    #: dataset and for class slices; they win over calibrated and profile ones.
    tolerance: Mapping[str, float] = dataclasses.field(default_factory=dict)
    class_tolerance: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: Record baselines with the seed-to-seed spread of this many seeds (0: off).
    calibrate: int = 0

    def explicit_tolerances(self, slice_name: str) -> Mapping[str, float]:
        return self.tolerance if slice_name == ENTIRE_DATASET else self.class_tolerance

    @property
    def calibration_seeds(self) -> tuple[int, ...]:
        """The profile's seed and the next ``calibrate - 1`` ones."""
        return tuple(self.profile.seed + i for i in range(self.calibrate))


class CheckFailed(Exception):
    """A check cannot give a verdict (training failed, bad baseline, ...)."""


@dataclasses.dataclass(frozen=True)
class BaselineChange:
    """What an update did to one baseline file."""

    path: Path
    added: int
    changed: int
    removed: int
    written: bool


class PrivacyRun:
    """State of one session: caches, comparisons and queued baseline updates."""

    def __init__(
        self, settings: Settings, progress: Callable[[str], None] | None = None
    ) -> None:
        self.settings = settings
        self.profile = settings.profile
        self.versions = versions()
        self._progress = progress
        self._dataset: Dataset | Exception | None = None
        self._trainings: dict[str, TrainingRun | Exception] = {}
        self._evaluations: dict[tuple[str, int], Evaluation | Exception] = {}
        self._baselines: dict[str, Baseline | None | BaselineError] = {}
        self.comparisons: dict[str, Comparison] = {}
        self.guarantees: dict[str, GuaranteeCheck] = {}
        self._pending: dict[str, dict[str, Entry]] = {}
        self.changes: list[BaselineChange] = []
        self.cache_hits: dict[str, int] = {"trainings": 0, "attack runs": 0}
        self._source: str | None = None
        self.report_files: list[Path] = []
        self.report_error: str | None = None
        self.cache_error: str | None = None
        self.started = time.perf_counter()
        self._training_started = self.started
        #: Per model: how the baseline's setup differs from this run's (compared anyway).
        self.setup_changes: dict[str, list[str]] = {}
        self._seed_runs: list[PrivacyRun] | None = None
        self._spreads: dict[str, dict[tuple[str, str, str], float]] = {}
        self._dispersions: dict[tuple, float] = {}

    # -- measuring ----------------------------------------------------------

    def dataset(self) -> Dataset:
        if self._dataset is None:
            try:
                self._dataset = load(self.profile, data_dir=self.settings.data_dir)
                self._source = self._dataset.source
            except Exception as error:  # remembered: every check reports it, once loaded
                self._dataset = error
        if isinstance(self._dataset, Exception):
            raise CheckFailed(f"data set not available: {self._dataset}")
        return self._dataset

    def training(self, model: str) -> TrainingRun:
        if model not in self._trainings:
            self._trainings[model] = self._cached_training(model) or self._train(model)
        result = self._trainings[model]
        if isinstance(result, Exception):
            raise CheckFailed(f"training {model} failed: {result}")
        return result

    def _train(self, model: str) -> TrainingRun | Exception:
        dataset = self.dataset()
        self._training_started = time.perf_counter()
        try:
            run = train(self.profile, self.profile.model(model), dataset, self._on_snapshot)
        except Exception as error:
            return error
        self._store(cache.save_training, cache.key(self.profile, model, self.versions), run, dataset.source)
        return run

    def _cached_training(self, model: str) -> TrainingRun | None:
        if self.settings.cache_dir is None:
            return None
        found = cache.load_training(self.settings.cache_dir, cache.key(self.profile, model, self.versions))
        if found is None:
            return None
        run, self._source = found
        self.cache_hits["trainings"] += 1
        return run

    def _store(self, save, name: str, *args) -> None:
        """Caches a result; a cache that cannot be written only costs the next run time."""
        if self.settings.cache_dir is None:
            return
        try:
            save(self.settings.cache_dir, name, *args)
        except OSError as error:
            self.cache_error = f"privacy cache not written: {error}"

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        """One progress line per report epoch, with a linear estimate of what is left."""
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

    def evaluation(self, model: str, epoch: int) -> Evaluation:
        key = (model, epoch)
        if key not in self._evaluations:
            snapshot = self.training(model).at(epoch)
            name = cache.key(self.profile, model, self.versions, epoch)
            cached = (
                cache.load_evaluation(self.settings.cache_dir, name, snapshot)
                if self.settings.cache_dir is not None
                else None
            )
            if cached is not None:
                self.cache_hits["attack runs"] += 1
                self._evaluations[key] = cached
            else:
                try:
                    self._evaluations[key] = evaluate(snapshot, self.profile)
                except Exception as error:
                    self._evaluations[key] = error
                else:
                    self._store(cache.save_evaluation, name, self._evaluations[key])
        result = self._evaluations[key]
        if isinstance(result, Exception):
            raise CheckFailed(f"attacks on {model} at epoch {epoch} failed: {result}")
        return result

    def evaluations(self) -> list[Evaluation]:
        """The evaluations that succeeded this session."""
        return [e for e in self._evaluations.values() if isinstance(e, Evaluation)]

    def histories(self) -> dict[str, tuple[dict[str, float], ...]]:
        """Keras's per-epoch logs of each model trained this session."""
        return {
            model: run.history
            for model, run in self._trainings.items()
            if isinstance(run, TrainingRun)
        }

    def record(self, case: Case) -> AttackRecord | None:
        """The attack result for ``case``; None if TF Privacy skipped the slice."""
        return self.evaluation(case.model, case.epoch).record(case.attack, case.slice)

    @property
    def data_source(self) -> str:
        """What the models were trained on (known from the data set or the cache)."""
        return self._source or self.profile.dataset

    # -- baselines ----------------------------------------------------------

    def baseline_path(self, model: str) -> Path:
        return baselines.baseline_path(self.settings.baselines_dir, self.profile.name, model)

    def baseline(self, model: str) -> Baseline | None:
        if model not in self._baselines:
            try:
                self._baselines[model] = baselines.load(self.baseline_path(model))
            except BaselineError as error:
                self._baselines[model] = error
        result = self._baselines[model]
        if isinstance(result, BaselineError):
            raise result
        return result

    def _expected(self, case: Case) -> dict[str, float] | None:
        try:
            baseline = self.baseline(case.model)
        except BaselineError as error:
            if self.settings.update_baselines:
                return None  # it is about to be rewritten
            raise CheckFailed(str(error)) from None
        if baseline is None or self.settings.update_baselines:
            return None if baseline is None else self._entry(baseline, case)
        path = baselines.display_path(self.baseline_path(case.model))
        if (baseline.profile, baseline.model) != (self.profile.name, case.model):
            raise CheckFailed(
                f"{path} holds the baseline of profile {baseline.profile!r}, model "
                f"{baseline.model!r}, not of profile {self.profile.name!r}, model "
                f"{case.model!r}: it was copied or renamed. Move it back, or re-record with "
                f"pytest -m privacy --privacy-profile={self.profile.name} {baselines.UPDATE_HINT}."
            )
        if baseline.profile_hash != self.profile.hash or baseline.data_source != self.data_source:
            self._judge_setup(case.model, baseline, path)
        return self._entry(baseline, case)

    def _judge_setup(self, model: str, baseline: Baseline, path: str) -> None:
        """A baseline from another setup: incomparable data fails, anything else is noted.

        Changing epochs, members, the model or the seed is what the suite
        exists to judge, so those are compared against the recorded numbers.
        """
        changes = fingerprint_changes(baseline.fingerprint, self.profile.fingerprint())
        data = [c for c in changes if c.split(" ", 1)[0] in DATA_FIELDS]
        if baseline.data_source != self.data_source:
            data.append(f"data source {baseline.data_source!r} -> {self.data_source!r}")
        if data:
            raise CheckFailed(
                f"{path} was recorded on other data ({'; '.join(data)}), so its numbers "
                f"measure something else. Review the change and re-record with "
                f"pytest -m privacy --privacy-profile={self.profile.name} {baselines.UPDATE_HINT}."
            )
        self.setup_changes[model] = changes or [
            f"profile hash {baseline.profile_hash} -> {self.profile.hash}"
        ]

    @staticmethod
    def _entry(baseline: Baseline, case: Case) -> dict[str, float] | None:
        entry = baseline.entries.get(case.entry_key)
        return None if entry is None else dict(entry.metrics)

    def check(self, case: Case) -> Comparison | None:
        """Measures ``case`` and compares it; queues the new values in update mode.

        Returns None when TF Privacy produced no result for the slice (too few
        examples); raises :class:`CheckFailed` when no verdict is possible.
        """
        record = self.record(case)
        if record is None:
            return None
        obtained = {name: record.metric(name) for name in self.profile.metrics}
        expected = self._expected(case)
        comparison = baselines.compare(
            case.key, obtained, expected, self._tolerances(case, record, expected), record.intervals
        )
        self.comparisons[case.key] = comparison
        if self.settings.update_baselines:
            self._pending.setdefault(case.model, {})[case.entry_key] = Entry(
                case.epoch, case.attack, case.slice, obtained, self._spread(case, obtained)
            )
        return comparison

    def _tolerances(
        self, case: Case, record: AttackRecord, expected: Mapping[str, float] | None
    ) -> dict[str, MetricTolerance]:
        """Each metric's tolerance: explicit, calibrated from the baseline, or the profile's."""
        try:
            baseline = None if self.settings.update_baselines else self.baseline(case.model)
        except BaselineError:
            baseline = None
        default = self.profile.tolerance_for(case.slice)
        kind = tolerances.slice_kind(case.slice)
        # Evaluation-set noise cancels when both runs measure the same members.
        same_split = baseline is not None and self.profile.data_seed == split_seed_of(
            baseline.fingerprint
        )
        spreads = self._pooled_spreads(case.model, baseline)
        expected = expected or {}
        baseline_members = record.members
        if baseline is not None:
            recorded, now = baseline.fingerprint.get("members"), self.profile.members
            if isinstance(recorded, int) and now and recorded != now:
                baseline_members = max(1, round(record.members * recorded / now))
        chosen = {}
        for metric in self.profile.metrics:
            chosen[metric] = tolerances.choose(
                metric,
                self.settings.explicit_tolerances(case.slice),
                spreads.get((case.attack, kind, metric)),
                None if same_split else record.intervals.get(metric),
                record.members,
                default.for_metric(metric),
                baseline=expected.get(metric),
                baseline_members=baseline_members,
                count_dispersion=self._dispersion(case, baseline, metric, record.members),
            )
        return chosen

    def _pooled_spreads(
        self, model: str, baseline: Baseline | None
    ) -> dict[tuple[str, str, str], float]:
        """The calibrated baseline's seed spread per group, pooled once per baseline."""
        if baseline is None or not baseline.calibration_seeds:
            return {}
        if model not in self._spreads:
            self._spreads[model] = tolerances.pooled_spreads(baseline.entries.values())
        return self._spreads[model]

    def _dispersion(self, case: Case, baseline: Baseline | None, metric: str, members: int) -> float:
        """A TPR's count dispersion over the calibration seeds of its group (1 if uncalibrated)."""
        if baseline is None or not baseline.calibration_seeds or tolerances.metric_fpr(metric) is None:
            return 1.0
        kind = tolerances.slice_kind(case.slice)
        key = (case.model, case.attack, kind, metric, members)
        if key not in self._dispersions:
            group = [
                e for e in baseline.entries.values()
                if e.attack == case.attack and tolerances.slice_kind(e.slice) == kind and metric in e.seed_sd
            ]
            self._dispersions[key] = tolerances.dispersion(
                {e.key: e.metrics[metric] for e in group}, {e.key: e.seed_sd[metric] for e in group}, members
            )
        return self._dispersions[key]

    # -- calibration --------------------------------------------------------

    def seed_runs(self) -> list["PrivacyRun"]:
        """Runs of the same profile under the other calibration seeds (created lazily)."""
        if self._seed_runs is None:
            self._seed_runs = []
            for seed in self.settings.calibration_seeds[1:]:
                settings = dataclasses.replace(
                    self.settings,
                    profile=self.profile.with_seed(seed),
                    update_baselines=False,
                    calibrate=0,
                )
                progress = self._progress
                self._seed_runs.append(
                    PrivacyRun(settings, None if progress is None else _prefixed(progress, seed))
                )
        return self._seed_runs

    def _spread(self, case: Case, obtained: Mapping[str, float]) -> dict[str, float]:
        """Seed-to-seed sd per metric when calibrating; else the baseline's, if still valid."""
        if self.settings.calibrate >= 2:
            values = {name: [value] for name, value in obtained.items()}
            for run in self.seed_runs():
                record = run.record(case)
                if record is None:
                    continue
                for name in values:
                    values[name].append(record.metric(name))
            return {
                name: tolerances.seed_sd(v) for name, v in values.items() if len(v) >= 2
            }
        previous = self._baselines.get(case.model)
        if isinstance(previous, Baseline) and previous.profile_hash == self.profile.hash:
            entry = previous.entries.get(case.entry_key)
            if entry is not None:
                return {k: v for k, v in entry.seed_sd.items() if k in obtained}
        return {}

    def accountant_epsilon(self, model: str, epoch: int) -> float:
        """The DP model's epsilon after ``epoch`` epochs (its training must have run)."""
        spec = self.profile.model(model)
        if spec.dp is None:
            raise ValueError(f"{model} is not trained with DP-SGD")
        members = len(self.training(model).at(epoch).labels_members)
        return accounting.epsilon(spec.dp, members, self.profile.batch_size, epoch)

    def check_guarantee(self, case: Case) -> GuaranteeCheck:
        """Measures one of a DP model's guarantees; raises :class:`CheckFailed` without a verdict.

        Both kinds share one family-wise error budget per run
        (:data:`accounting.FAMILY_ALPHA`, Bonferroni over the profile's guarantee checks).
        """
        spec = self.profile.model(case.model)
        record = self.record(case)
        if record is None:
            raise CheckFailed(f"TF Privacy ran no {case.attack} attack on {case.model}'s entire dataset")
        alpha = accounting.guarantee_alpha(self.profile)
        checks = accounting.guarantee_checks(self.profile)
        at_chance = False
        if case.check == EPSILON:
            if record.epsilon_lower_bound is None:
                raise CheckFailed(f"the {case.attack} attack gave no membership scores to bound epsilon with")
            dp = spec.dp
            members = len(self.training(case.model).at(case.epoch).labels_members)
            detail = (
                f"the accountant's epsilon (RDP, delta={dp.delta:g}, noise multiplier "
                f"{dp.noise_multiplier:g}, clip {dp.l2_norm_clip:g}, "
                f"{accounting.steps(members, self.profile.batch_size, case.epoch)} steps)"
            )
            obtained, limit = record.epsilon_lower_bound, self.accountant_epsilon(case.model, case.epoch)
        else:
            other = self.record(Case(spec.compare_to, case.epoch, case.attack, ENTIRE_DATASET))
            if other is None:
                raise CheckFailed(f"TF Privacy ran no {case.attack} attack on {spec.compare_to}")
            tolerance, source = self._difference_tolerance(case, record, other, alpha)
            at_chance = all(_contains(r.intervals.get("auc"), 0.5) for r in (record, other))
            detail = f"{spec.compare_to}'s AUC {other.auc:.4f} + tolerance {tolerance:.4f} ({source})"
            if at_chance:
                detail += "; the attack is at chance on both models (both AUCs' 95% intervals contain 0.5)"
            obtained, limit = record.auc, other.auc + tolerance
        result = GuaranteeCheck(
            case.key, case.model, case.epoch, case.attack, case.check, obtained, limit, detail,
            alpha=alpha, family=checks, at_chance=at_chance,
        )
        self.guarantees[case.key] = result
        return result

    def _difference_tolerance(
        self, case: Case, record: AttackRecord, other: AttackRecord, alpha: float
    ) -> tuple[float, str]:
        """How far a DP model's AUC may lie above its non-private twin's, and why.

        The two AUCs come from two trainings, so their difference varies with
        the seed of each: z * sqrt(sd_dp^2 + sd_other^2), with each sd the
        calibrated seed spread of that model's baseline (pooled like the
        baseline checks') and z the normal quantile of the guarantee budget.
        Without calibrated baselines of both, the bootstrap intervals give the
        evaluation-set part of the noise and the profile's AUC tolerance stands
        in for the seed part (the larger wins). An explicit AUC tolerance wins.
        """
        if "auc" in self.settings.tolerance:
            return self.settings.tolerance["auc"], "explicit"
        z = NormalDist().inv_cdf(1 - alpha)
        sds = []
        for model in (case.model, other.model):
            try:
                baseline = self.baseline(model)
            except BaselineError:
                baseline = None
            sds.append(self._pooled_spreads(model, baseline).get((case.attack, ENTIRE_DATASET, "auc")))
        if None not in sds:
            sigma = math.hypot(*sds)
            return max(tolerances.FLOOR, z * sigma), f"calibrated: {z:.2f} x seed sd {sigma:.4f} of the difference"
        sigma = math.hypot(*(interval_sd(r.intervals["auc"]) for r in (record, other) if "auc" in r.intervals))
        default = self.profile.tolerance.auc
        if z * sigma > default:
            return z * sigma, f"{z:.2f} x bootstrap sd {sigma:.4f} of the difference"
        return default, "the profile's AUC tolerance; calibrate for a measured one"

    def counts(self) -> dict[Status, int]:
        counts = {status: 0 for status in Status}
        for comparison in self.comparisons.values():
            counts[comparison.status] += 1
        return counts

    def unused_entries(self) -> tuple[list[str], list[str]]:
        """Baseline entries not checked this session: (stale, not run).

        Stale entries are ones the profile can no longer produce (a model,
        epoch, attack or slice it does not have); an update removes them.
        Not-run entries belong to checks that were deselected or skipped;
        they are kept.
        """
        producible = baseline_keys(self.profile)
        stale, not_run = [], []
        for model, baseline in sorted(self._loaded_baselines()):
            for entry in baseline.entries.values():
                key = case_key(model, entry.epoch, entry.attack, entry.slice)
                if key in self.comparisons:
                    continue
                (not_run if key in producible else stale).append(key)
        return stale, not_run

    def orphan_baseline_files(self) -> list[Path]:
        """Baseline files of this profile for models it does not have (renamed or removed)."""
        folder = Path(self.settings.baselines_dir) / self.profile.name
        models = {model.name for model in self.profile.models}
        return sorted(p for p in folder.glob("*.json") if p.stem not in models)

    def loaded_baselines(self) -> dict[str, Baseline]:
        """The valid baseline files read this session, by model."""
        return dict(self._loaded_baselines())

    def _loaded_baselines(self) -> Iterator[tuple[str, Baseline]]:
        for model, baseline in self._baselines.items():
            if isinstance(baseline, Baseline):
                yield model, baseline

    def version_warnings(self) -> list[str]:
        """Baselines recorded with other package versions: a warning, not a failure."""
        warnings = []
        for model, baseline in sorted(self._loaded_baselines()):
            differing = [
                f"{name} {baseline.versions.get(name, '?')} (now {version})"
                for name, version in self.versions.items()
                if baseline.versions.get(name) != version
            ]
            if differing:
                warnings.append(
                    f"{baselines.display_path(self.baseline_path(model))} was recorded with "
                    f"{', '.join(differing)}: numbers may differ slightly"
                )
        return warnings

    def most_vulnerable(self) -> dict[str, AttackRecord]:
        """Per model, the (epoch, attack, slice) with the highest AUC measured this session."""
        best: dict[str, AttackRecord] = {}
        for evaluation in self.evaluations():
            for record in evaluation.records:
                current = best.get(record.model)
                if current is None or record.auc > current.auc:
                    best[record.model] = record
        return best

    # -- finishing ----------------------------------------------------------

    def finish(self) -> list[BaselineChange]:
        """Writes the queued baseline updates, one atomic write per changed file."""
        if not self.settings.update_baselines:
            return []
        producible = baseline_keys(self.profile)
        for model, pending in sorted(self._pending.items()):
            path = self.baseline_path(model)
            previous = self._baselines.get(model)
            old = dict(previous.entries) if isinstance(previous, Baseline) else {}
            kept = {
                key: entry
                for key, entry in old.items()
                if case_key(model, entry.epoch, entry.attack, entry.slice) in producible
            }
            merged = {**kept, **pending}
            if self.settings.calibrate >= 2:
                seeds = self.settings.calibration_seeds
            elif isinstance(previous, Baseline) and previous.profile_hash == self.profile.hash:
                seeds = previous.calibration_seeds
            else:
                seeds = ()
            if not seeds:
                merged = {k: dataclasses.replace(e, seed_sd={}) for k, e in merged.items()}
            new = Baseline(
                profile=self.profile.name,
                profile_hash=self.profile.hash,
                model=model,
                seed=self.profile.seed,
                data_source=self.data_source,
                versions=self.versions,
                entries=merged,
                fingerprint=self.profile.fingerprint(),
                calibration_seeds=seeds,
            )
            text = baselines.dumps(new)
            try:
                current = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                current = None
            changed = sum(
                1
                for key, entry in pending.items()
                if key in old and baselines.dumps_entry(old[key]) != baselines.dumps_entry(entry)
            )
            change = BaselineChange(
                path=path,
                added=sum(1 for key in pending if key not in old),
                changed=changed,
                removed=len(old) - len(kept),
                written=text != current,
            )
            if change.written:
                baselines.write_atomic(path, text)
            self.changes.append(change)
        return self.changes


def _contains(interval: tuple[float, float] | None, value: float) -> bool:
    return interval is not None and interval[0] <= value <= interval[1]


def _prefixed(progress: Callable[[str], None], seed: int) -> Callable[[str], None]:
    return lambda line: progress(f"seed {seed}: {line}")
