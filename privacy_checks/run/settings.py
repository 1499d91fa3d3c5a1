"""What one run was asked to do, resolved once; and the one error that ends a check without a verdict."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping

from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import ENTIRE_DATASET


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
    #: ``--privacy-calibrate``: re-measure every model's seed spread over this many seeds
    #: (>= 2), record without calibrating (0), or None: an update calibrates the models
    #: that have no calibrated baseline of their setup, over ``profile.calibration_seeds``.
    calibrate: int | None = None
    #: Worker processes that attack snapshots while training goes on (0: attacks
    #: run in this process, one after another). Numbers do not depend on it.
    workers: int = 0

    def explicit_tolerances(self, slice_name: str) -> Mapping[str, float]:
        return self.tolerance if slice_name == ENTIRE_DATASET else self.class_tolerance

    @property
    def calibration_seeds(self) -> tuple[int, ...]:
        """The seeds a calibration measures: the profile's seed and the next ones, as many as
        ``--privacy-calibrate`` asks, else the profile's ``calibration_seeds``; none with 0."""
        count = self.profile.calibration_seeds if self.calibrate is None else self.calibrate
        return tuple(self.profile.seed + i for i in range(count)) if count >= 2 else ()


class CheckFailed(Exception):
    """A check cannot give a verdict (training failed, bad baseline, ...).

    ``root`` is the whole message of the error behind it: a data set rejected or a
    training that failed fails every check that needs it, each with a one-line
    reference, and the whole message once (the first such check, and the summary).
    """

    def __init__(self, message: str, root: str | None = None, headline: str | None = None) -> None:
        super().__init__(message)
        self.root = root or message
        #: What failed, in a few words ("data set rejected", "training mlp failed").
        self.headline = headline or self.root.split("\n", 1)[0]
