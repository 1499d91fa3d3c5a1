"""The baseline book of one run: loads each model's file, judges its setup, queues and writes updates.

A baseline is read once per model and kept (or its error is). Before it is
compared with, its setup is judged: a file of another profile or model, or
one recorded on other data, fails the checks; any other change (epochs,
members, model, seed) is what the suite exists to judge, so the run is
compared and the change noted. Tolerances come from it too (calibrated
spreads, count dispersion). Updates are queued and written once, at the end,
one atomic write per changed file, keeping entries of checks that did not run
and dropping those the profile can no longer produce. Files record the
machine type they were measured on; one from another machine type is a note
(:meth:`BaselineBook.machine_notes`), like other package versions.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from privacy_checks.attack.records import AttackRecord
from privacy_checks.judge import baselines, calibration, messages, recording, tolerances
from privacy_checks.train import lane
from privacy_checks.judge.baselines import Baseline, BaselineError, Entry
from privacy_checks.judge.recording import BaselineChange
from privacy_checks.judge.verdicts import MetricTolerance
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.spec import vocabulary
from privacy_checks.spec.cases import Case, CaseKey, baseline_keys
from privacy_checks.spec.environment import machine as this_machine
from privacy_checks.spec.files import display_path
from privacy_checks.spec.fingerprint import DATA_FIELDS, fingerprint_changes, split_seed_of


class BaselineBook:
    """One run's baseline files: read once, judged, queried for tolerances, updated at the end."""

    def __init__(
        self,
        settings: Settings,
        versions: Mapping[str, str],
        machine: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.profile = settings.profile
        self.versions = versions
        #: This machine (:func:`privacy_checks.spec.environment.machine` unless given).
        self.machine = dict(this_machine() if machine is None else machine)
        self._files: dict[str, Baseline | None | BaselineError] = {}
        self._pending: dict[str, dict[str, Entry]] = {}
        self._pending_epsilon: dict[str, dict[int, float]] = {}
        self._calibrations: dict[str, calibration.ModelCalibration] = {}
        self._spreads: dict[str, dict[tuple[str, str, str], float]] = {}
        self._dispersions: dict[tuple, float] = {}
        #: Per model: how the baseline's setup differs from this run's (compared anyway).
        self.setup_changes: dict[str, list[str]] = {}
        self.changes: list[BaselineChange] = []

    def path(self, model: str) -> Path:
        return baselines.baseline_path(self.settings.baselines_dir, self.profile.name, model, lane.lane())

    def baseline(self, model: str) -> Baseline | None:
        """The model's baseline, None if there is none; a :class:`BaselineError` if unusable."""
        if model not in self._files:
            try:
                self._files[model] = baselines.load(self.path(model))
            except BaselineError as error:
                self._files[model] = error
        result = self._files[model]
        if isinstance(result, BaselineError):
            raise result
        return result

    def usable(self, model: str) -> Baseline | None:
        """The model's baseline, or None if there is none or it cannot be used."""
        try:
            return self.baseline(model)
        except BaselineError:
            return None

    def expected(self, case: Case, data_source: str) -> dict[str, float] | None:
        """The baseline's metrics for ``case``, after judging the file's setup; None if none."""
        baseline = self.judged(case.model, data_source)
        return None if baseline is None else _metrics(baseline, case)

    def expected_epsilon(self, model: str, epoch: int, data_source: str) -> float | None:
        """The accountant's epsilon the DP model's baseline records at ``epoch``, after judging
        the file as for its metrics; None if it records none."""
        baseline = self.judged(model, data_source)
        return None if baseline is None else baseline.epsilon.get(epoch)

    def judged(self, model: str, data_source: str) -> Baseline | None:
        """``model``'s baseline once its setup is judged: a file of another profile or model, or
        recorded on other data, fails the check (:class:`CheckFailed`); another setup is noted.
        In update mode nothing is judged (the file is about to be rewritten)."""
        try:
            baseline = self.baseline(model)
        except BaselineError as error:
            if self.settings.update_baselines:
                return None  # it is about to be rewritten
            raise CheckFailed(str(error)) from None
        if baseline is None or self.settings.update_baselines:
            return baseline
        path = display_path(self.path(model))
        if (baseline.profile, baseline.model) != (self.profile.name, model):
            raise CheckFailed(
                messages.copied_baseline(path, (baseline.profile, baseline.model), (self.profile.name, model))
            )
        if baseline.profile_hash != self.profile.hash or baseline.data_source != data_source:
            self._judge_setup(model, baseline, path, data_source)
        return baseline

    def _judge_setup(self, model: str, baseline: Baseline, path: str, data_source: str) -> None:
        """A baseline from another setup: incomparable data fails, anything else is noted."""
        changes = fingerprint_changes(baseline.fingerprint, self.profile.fingerprint())
        data = [c for c in changes if c.split(" ", 1)[0] in DATA_FIELDS]
        if baseline.data_source != data_source:
            data.append(f"data source {baseline.data_source!r} -> {data_source!r}")
        if data:
            raise CheckFailed(messages.other_data(path, data, self.profile.name))
        self.setup_changes[model] = changes or [
            f"profile hash {baseline.profile_hash} -> {self.profile.hash}"
        ]

    # -- tolerances -----------------------------------------------------------

    def tolerances(
        self, case: Case, record: AttackRecord, expected: Mapping[str, float] | None
    ) -> dict[str, MetricTolerance]:
        """Each metric's tolerance: explicit, calibrated from the baseline, or the profile's."""
        baseline = None if self.settings.update_baselines else self.usable(case.model)
        default = self.profile.tolerance_for(case.slice)
        # Evaluation-set noise cancels when both runs measure the same members.
        same_split = baseline is not None and self.profile.data_seed == split_seed_of(
            baseline.fingerprint
        )
        spreads = self.pooled_spreads(case.model, baseline)
        expected = expected or {}
        baseline_members = record.members
        if baseline is not None:
            recorded, now = baseline.fingerprint.get("members"), self.profile.members
            if isinstance(recorded, int) and now and recorded != now:
                baseline_members = max(1, round(record.members * recorded / now))
        seeds = len(baseline.calibration_seeds) if baseline is not None else 0
        found = {}
        for metric in self.profile.metrics:
            spread = tolerances.spread_of(spreads, case.attack, case.slice, metric, case.epoch)
            found[metric] = tolerances.choose(
                metric,
                self.settings.explicit_tolerances(case.slice),
                None if spread is None else spread.sd,
                None if same_split else record.intervals.get(metric),
                record.members,
                default.for_metric(metric),
                baseline=expected.get(metric),
                baseline_members=baseline_members,
                count_dispersion=self._dispersion(case, baseline, metric, record.members),
                z=self.family_z,
                df=None if spread is None else spread.df(seeds),
            )
        return found

    @functools.cached_property
    def family_z(self) -> float:
        """The calibrated rule's Z for this profile's number of metric checks (:func:`tolerances.family_z`)."""
        return tolerances.family_z(len(baseline_keys(self.profile)) * len(self.profile.metrics))

    def pooled_spreads(self, model: str, baseline: Baseline | None) -> dict[tuple, tolerances.Spread]:
        """The calibrated ``baseline``'s seed spread per (attack, slice kind, metric), pooled once."""
        if baseline is None or not baseline.calibration_seeds:
            return {}
        if model not in self._spreads:
            self._spreads[model] = tolerances.pooled_spreads(baseline.entries.values())
        return self._spreads[model]

    def _dispersion(self, case: Case, baseline: Baseline | None, metric: str, members: int) -> float:
        """A TPR's count dispersion over the calibration seeds of its group (1 if uncalibrated)."""
        if baseline is None or not baseline.calibration_seeds or vocabulary.metric_fpr(metric) is None:
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

    def calibration(self, model: str) -> calibration.ModelCalibration:
        """What an update does with ``model``'s seed spread (:func:`calibration.plan`), decided once."""
        if model not in self._calibrations:
            self._calibrations[model] = calibration.plan(self.settings, model, self.usable(model))
        return self._calibrations[model]

    def recorded_spread(self, case: Case, metrics: Mapping[str, float]) -> dict[str, float]:
        """The seed spread the current baseline holds for ``case``, if it still describes the setup."""
        previous = self.usable(case.model)
        if previous is not None and self.calibration(case.model).kept:
            entry = previous.entries.get(case.entry_key)
            if entry is not None:
                return {k: v for k, v in entry.seed_sd.items() if k in metrics}
        return {}

    # -- updating -------------------------------------------------------------

    def queue(self, case: Case, metrics: Mapping[str, float], spread: Mapping[str, float]) -> None:
        """Remembers ``case``'s new values for :meth:`finish`."""
        self._pending.setdefault(case.model, {})[case.entry_key] = Entry(
            case.epoch, case.attack, case.slice, metrics, spread
        )

    def queue_epsilon(self, model: str, epsilon: Mapping[int, float]) -> None:
        """Remembers a DP model's accountant epsilon at every report epoch for :meth:`finish`."""
        self._pending_epsilon[model] = dict(epsilon)

    def finish(self, data_source: str) -> list[BaselineChange]:
        """Writes the queued updates, one atomic write per changed file."""
        if not self.settings.update_baselines:
            return []
        producible = baseline_keys(self.profile)
        for model in sorted(set(self._pending) | set(self._pending_epsilon)):
            self.changes.append(self._write(model, self._pending.get(model, {}), producible, data_source))
        return self.changes

    def _write(
        self, model: str, pending: dict[str, Entry], producible: set[CaseKey], data_source: str
    ) -> BaselineChange:
        previous = self._files.get(model)
        recorded = Baseline(
            profile=self.profile.name,
            profile_hash=self.profile.hash,
            model=model,
            seed=self.profile.seed,
            data_source=data_source,
            versions=self.versions,
            entries={},
            fingerprint=self.profile.fingerprint(),
            machine=self.machine,
        )
        return recording.rewrite(
            self.path(model),
            previous if isinstance(previous, Baseline) else None,
            recorded,
            pending,
            self._pending_epsilon.get(model) if self.profile.model(model).dp is not None else {},
            {key.entry_key for key in producible if key.model == model},
            self.calibration(model),
            messages.recalibrate(self.profile.name),
        )

    # -- what the summary reports ---------------------------------------------

    def loaded(self) -> dict[str, Baseline]:
        """The valid baseline files read this session, by model."""
        return dict(self._loaded())

    def _loaded(self) -> Iterator[tuple[str, Baseline]]:
        for model, baseline in self._files.items():
            if isinstance(baseline, Baseline):
                yield model, baseline

    def unused_entries(self, checked: Callable[[CaseKey], bool]) -> tuple[list[CaseKey], list[CaseKey]]:
        """Baseline entries not ``checked`` this session: (stale, not run).

        Stale entries are ones the profile can no longer produce (a model,
        epoch, attack or slice it does not have); an update removes them.
        Not-run entries belong to checks that were deselected or skipped;
        they are kept.
        """
        producible = baseline_keys(self.profile)
        stale, not_run = [], []
        for model, baseline in sorted(self._loaded()):
            for entry in baseline.entries.values():
                key = _key(model, entry)
                if not checked(key):
                    (not_run if key in producible else stale).append(key)
        return stale, not_run

    def orphan_files(self) -> list[Path]:
        """Baseline files of this profile for models it does not have (renamed or removed)."""
        folder = baselines.baseline_folder(self.settings.baselines_dir, self.profile.name, lane.lane())
        models = {model.name for model in self.profile.models}
        return sorted(p for p in folder.glob("*.json") if p.stem not in models)

    def version_warnings(self) -> list[str]:
        """Baselines recorded with other package versions: a warning, not a failure."""
        warnings = []
        for model, baseline in sorted(self._loaded()):
            differing = [
                f"{name} {baseline.versions.get(name, '?')} (now {version})"
                for name, version in self.versions.items()
                if baseline.versions.get(name) != version
            ]
            if differing:
                warnings.append(
                    f"{display_path(self.path(model))} was recorded with "
                    f"{', '.join(differing)}: numbers may differ slightly"
                )
        return warnings

    def machine_notes(self) -> list[str]:
        """Baselines recorded on another machine type: a note, not a failure.

        A file without a machine record (older than the record) gets none:
        unknown is not different. Nor does one rewritten this session, which
        now records this machine.
        """
        rewritten = {change.path for change in self.changes if change.written}
        notes = []
        for model, baseline in sorted(self._loaded()):
            if baseline.machine is None or self.path(model) in rewritten:
                continue
            if dict(baseline.machine) != self.machine:
                notes.append(
                    f"{display_path(self.path(model))} was recorded on "
                    f"{describe_machine(baseline.machine)} and this is "
                    f"{describe_machine(self.machine)}: numbers may differ slightly, usually within the "
                    f"tolerances; re-record here with {messages.UPDATE_FLAG} if this machine type is "
                    "now the reference"
                )
        return notes


def describe_machine(machine: Mapping[str, Any]) -> str:
    """A machine record in one phrase: ``AMD EPYC 7B13 (2 cores, avx avx2 fma, no GPU)``."""
    details = []
    if machine.get("cores") is not None:
        details.append(f"{machine['cores']} cores")
    details.append(machine.get("cpu_flags") or "no SIMD flags recorded")
    details.append(f"GPU {machine['gpu']}" if machine.get("gpu") else "no GPU")
    return f"{machine.get('cpu') or 'an unknown CPU'} ({', '.join(details)})"


def _metrics(baseline: Baseline, case: Case) -> dict[str, float] | None:
    entry = baseline.entries.get(case.entry_key)
    return None if entry is None else dict(entry.metrics)


def _key(model: str, entry: Entry) -> CaseKey:
    return CaseKey(model, entry.epoch, entry.attack, entry.slice)
