"""Calibration: the seed-to-seed spread of every metric, from the same profile under other seeds.

An update of the baselines records each model with the spread of every metric
over several seeds (the profile's seed and the next ones: other
initialisation, batch order and attacks; the same members), stored per entry
and metric; :mod:`privacy_checks.judge.tolerances` derives tolerances from it. That
spread is measured data that cost N trainings, so an update treats it as such
(:func:`plan`, per model):

* **kept** when the old baseline holds a calibration of the model's current
  setup for every entry the profile produces: only the profile's seed is
  measured again, the spreads are carried over;
* **measured** over ``--privacy-calibrate N`` seeds (always), or over the
  profile's ``calibration_seeds`` (default 5) when there is no such
  calibration: no baseline yet, an uncalibrated one, a setup that changed
  (:func:`model_setup`: the training fields and this model's spec, not other
  models or the attacks), or entries without a spread (a new epoch, attack or
  FPR);
* **dropped, and said so**, when a calibration no longer describes the setup
  and the run may not re-measure it (``--privacy-calibrate=0`` or
  ``calibration_seeds = 0``): the write message names the command that
  re-measures it.

Each other seed is planned as nodes of its own (trainings and attacks), for the
models being calibrated only (:class:`privacy_checks.run.seeds.Calibration`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from privacy_checks.run.settings import Settings
from privacy_checks.spec.cases import baseline_keys
from privacy_checks.spec.fingerprint import fingerprint_changes
from privacy_checks.spec.profile import Profile

if TYPE_CHECKING:
    from privacy_checks.judge.baselines import Baseline


#: Fingerprint fields that change what is attacked, not what is trained: a seed spread
#: measured before another attack or FPR was added still describes the training.
ATTACK_FIELDS = ("attacks", "reference_models", "fprs", "by_class")


def model_setup(fingerprint: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The part of a profile's fingerprint that one model's numbers (and their spread) depend on."""
    found = {key: value for key, value in fingerprint.items() if key not in ("models", *ATTACK_FIELDS)}
    found["models"] = [m for m in fingerprint.get("models", []) if isinstance(m, dict) and m.get("name") == model]
    return found


def stale_reasons(profile: Profile, model: str, baseline: "Baseline") -> list[str]:
    """Why ``baseline``'s calibration does not describe ``model`` under ``profile`` (empty: it does)."""
    changes = fingerprint_changes(model_setup(baseline.fingerprint, model), model_setup(profile.fingerprint(), model))
    if changes:
        return [f"it was measured for another setup ({'; '.join(changes)})"]
    old_references = baseline.fingerprint.get("reference_models", {}) or {}
    changed_references = sorted(
        attack for attack in profile.reference_models
        if old_references.get(attack) != profile.reference_models[attack]
    )
    lacking = 0
    for key in baseline_keys(profile):
        if key.model != model:
            continue
        entry = baseline.entries.get(key.entry_key)
        if entry is None or not set(profile.metrics) <= set(entry.seed_sd) or key.attack in changed_references:
            lacking += 1
    if lacking:
        return [f"{lacking} of its entries have no spread of this setup (new epochs, attacks, FPRs or reference models)"]
    return []


@dataclasses.dataclass(frozen=True)
class ModelCalibration:
    """What an update does with one model's seed spread, and why (module doc)."""

    model: str
    #: Seeds measured this run (the profile's seed first); empty: none.
    measured: tuple[int, ...] = ()
    #: The old calibration's seeds, kept because its spreads still describe this setup.
    kept: tuple[int, ...] = ()
    #: Why it is measured, or why an old calibration was dropped.
    reason: str = ""
    #: An old calibration no longer describes the setup and was not re-measured.
    dropped: bool = False
    #: The old spreads describe this setup (entries this run does not rewrite keep theirs).
    still_valid: bool = False

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds the written file records."""
        return self.measured or self.kept

    def note(self, command: str) -> str:
        """How the write message says it; ``command`` re-measures a dropped calibration."""
        if self.measured:
            return f"calibrated over {len(self.measured)} seeds: {self.reason}"
        if self.kept:
            return f"calibration of {len(self.kept)} seeds kept"
        if self.dropped:
            return f"calibration DROPPED: {self.reason}; re-measure it with {command}"
        return "not calibrated"


def plan(settings: Settings, model: str, baseline: "Baseline | None") -> ModelCalibration:
    """What an update does with ``model``'s spread, given its current ``baseline`` (module doc)."""
    seeds = settings.calibration_seeds
    if settings.calibrate is not None and settings.calibrate >= 2:
        return ModelCalibration(model, measured=seeds, reason=f"--privacy-calibrate={settings.calibrate}",
                                still_valid=baseline is not None and not stale_reasons(settings.profile, model, baseline))
    had = baseline is not None and bool(baseline.calibration_seeds)
    if baseline is None:
        reasons = ["no baseline yet"]
    elif not had:
        reasons = ["its baseline is not calibrated"]
    else:
        reasons = stale_reasons(settings.profile, model, baseline)
        if not reasons:
            return ModelCalibration(model, kept=tuple(baseline.calibration_seeds), still_valid=True)
    if seeds:
        return ModelCalibration(model, measured=seeds, reason="; ".join(reasons))
    return ModelCalibration(model, reason="; ".join(reasons), dropped=had)


def cost(plans: Iterable[ModelCalibration]) -> str | None:
    """The line said before calibrating starts: which models, how many seeds, how many more trainings."""
    measured = [p for p in plans if p.measured]
    if not measured:
        return None
    seeds = len(measured[0].measured)
    reasons = {p.reason for p in measured}
    why = measured[0].reason if len(reasons) == 1 else "; ".join(f"{p.model}: {p.reason}" for p in measured)
    return (
        f"calibrating {', '.join(p.model for p in measured)} over {seeds} seeds ({why}): "
        f"{(seeds - 1) * len(measured)} more trainings and their attacks; --privacy-calibrate=0 records without"
    )
