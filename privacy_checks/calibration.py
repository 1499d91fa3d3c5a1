"""Calibration: the seed-to-seed spread of every metric, from the same profile under other seeds.

``--privacy-calibrate N`` measures the profile under its seed and the N - 1
after it (other initialisation, batch order and attacks; the same members)
and stores, per baseline entry and metric, the standard deviation over those
seeds; :mod:`privacy_checks.tolerances` derives tolerances from it. Each other
seed gets a measurer of its own, created when first needed.
"""

from __future__ import annotations

from typing import Mapping

from privacy_checks import tolerances
from privacy_checks.measurer import Measurer
from privacy_checks.settings import Settings
from privacy_checks.verdicts import CaseKey


class Calibration:
    """The other seeds' measurers, and the spread of a metric over all the seeds."""

    def __init__(self, settings: Settings, measurer: Measurer) -> None:
        self.settings = settings
        self._measurer = measurer  #: the profile's own seed
        self._others: list[Measurer] | None = None

    def measurers(self) -> list[Measurer]:
        """One measurer per other calibration seed (created lazily)."""
        if self._others is None:
            self._others = [self._measurer.with_seed(seed) for seed in self.settings.calibration_seeds[1:]]
            for measurer in (self._measurer, *self._others):
                measurer.prefetch()  # trainings as tasks (Ray): every seed's at once, side by side
        return self._others

    def spread(self, key: CaseKey, obtained: Mapping[str, float]) -> dict[str, float]:
        """Seed-to-seed sd of each metric: ``obtained`` (this seed's) and the other seeds' values."""
        values = {name: [value] for name, value in obtained.items()}
        for measurer in self.measurers():
            record = measurer.record(key)
            if record is None:
                continue
            for name in values:
                values[name].append(record.metric(name))
        return {name: tolerances.seed_sd(v) for name, v in values.items() if len(v) >= 2}
