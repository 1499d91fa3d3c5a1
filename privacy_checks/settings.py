"""What one run was asked to do, resolved once; and the one error that ends a check without a verdict."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
from pathlib import Path
from typing import Mapping

from privacy_checks.profiles import ENTIRE_DATASET, Profile

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
    #: Worker processes that attack snapshots while training goes on (0: attacks
    #: run in this process, one after another). Numbers do not depend on it.
    workers: int = 0

    def explicit_tolerances(self, slice_name: str) -> Mapping[str, float]:
        return self.tolerance if slice_name == ENTIRE_DATASET else self.class_tolerance

    @property
    def calibration_seeds(self) -> tuple[int, ...]:
        """The profile's seed and the next ``calibrate - 1`` ones."""
        return tuple(self.profile.seed + i for i in range(self.calibrate))


class CheckFailed(Exception):
    """A check cannot give a verdict (training failed, bad baseline, ...)."""
