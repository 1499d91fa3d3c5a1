"""Rewriting one baseline file at the end of an update: merged entries, the seed spread, epsilon.

An update measures some checks again (``-k`` may select a few); the file it
writes keeps what was not measured and the profile can still produce, drops
what it can no longer produce, and treats the seed spread as measured data
(:mod:`privacy_checks.judge.calibration`): carried over where it still describes
the setup, re-measured where asked, and never dropped without the write
message saying so. The text is written atomically, and only when it changed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping

from privacy_checks.judge import baselines
from privacy_checks.judge.baselines import Baseline, Entry
from privacy_checks.judge.calibration import ModelCalibration
from privacy_checks.spec.files import write_atomic


@dataclasses.dataclass(frozen=True)
class BaselineChange:
    """What an update did to one baseline file."""

    path: Path
    added: int
    changed: int
    removed: int
    written: bool
    #: What happened to the file's seed spread (:meth:`ModelCalibration.note`).
    calibration: str = ""
    #: A calibration that no longer describes the setup was dropped (the summary says so in yellow).
    calibration_dropped: bool = False


def rewrite(
    path: Path,
    previous: Baseline | None,
    recorded: Baseline,
    pending: Mapping[str, Entry],
    epsilon: Mapping[int, float] | None,
    producible: set[str],
    plan: ModelCalibration,
    recalibrate: str,
) -> BaselineChange:
    """Writes ``recorded``'s metadata with the merged entries and epsilon to ``path``.

    ``previous``: the file as read (None: none or unusable); ``pending``: the entries
    measured now, by entry key; ``epsilon``: a DP model's accountant epsilon at every
    report epoch ({} for other models; None: keep the file's); ``producible``: the entry keys the profile can produce
    for this model; ``plan``: what happens to the spread; ``recalibrate``: the command
    that re-measures a dropped calibration.
    """
    old = dict(previous.entries) if previous is not None else {}
    kept = {key: entry for key, entry in old.items() if key in producible}
    if not plan.still_valid:  # spreads of another setup describe nothing the file now holds
        kept = {key: dataclasses.replace(entry, seed_sd={}) for key, entry in kept.items()}
    merged = {**kept, **pending}
    if not plan.seeds:
        merged = {key: dataclasses.replace(entry, seed_sd={}) for key, entry in merged.items()}
    if epsilon is None:
        epsilon = {
            epoch: value for epoch, value in (previous.epsilon if previous is not None else {}).items()
            if any(key.startswith(f"epoch{epoch}/") for key in producible)
        }
    text = baselines.dumps(
        dataclasses.replace(recorded, entries=merged, calibration_seeds=plan.seeds, epsilon=epsilon)
    )
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    change = BaselineChange(
        path=path,
        added=sum(1 for key in pending if key not in old),
        changed=sum(
            1 for key, entry in pending.items()
            if key in old and baselines.dumps_entry(old[key]) != baselines.dumps_entry(entry)
        ),
        removed=len(old) - len(kept),
        written=text != current,
        calibration=plan.note(recalibrate),
        calibration_dropped=plan.dropped,
    )
    if change.written:
        write_atomic(path, text)
    return change
