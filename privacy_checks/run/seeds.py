"""The same profile under the other calibration seeds: one measurer per seed, created when first needed,
and each metric's seed-to-seed spread over all of them (:mod:`privacy_checks.judge.calibration`
decides which models are calibrated)."""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

from privacy_checks.run.measurer import Measurer
from privacy_checks.run.settings import Settings
from privacy_checks.spec.cases import CaseKey


def seed_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1) of one metric over the calibration seeds."""
    if len(values) < 2:
        raise ValueError("a spread needs at least two seeds")
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


class Calibration:
    """The other seeds' measurers, and the spread of a metric over all the seeds."""

    def __init__(self, settings: Settings, measurer: Measurer) -> None:
        self.settings = settings
        self._measurer = measurer  #: the profile's own seed
        self._others: list[Measurer] | None = None

    def measurers(self, models: Iterable[str]) -> list[Measurer]:
        """One measurer per other calibration seed (created lazily), for ``models`` only."""
        if self._others is None:
            chosen = frozenset(models)
            self._others = [
                self._measurer.with_seed(seed, chosen) for seed in self.settings.calibration_seeds[1:]
            ]
            for measurer in (self._measurer, *self._others):
                measurer.prefetch()  # trainings as tasks (Ray): every seed's at once, side by side
        return self._others

    def spread(self, key: CaseKey, obtained: Mapping[str, float], models: Iterable[str]) -> dict[str, float]:
        """Seed-to-seed sd of each metric: ``obtained`` (this seed's) and the other seeds' values.

        ``models``: every model being calibrated this run (their other-seed trainings are planned together).
        """
        values = {name: [value] for name, value in obtained.items()}
        for measurer in self.measurers(models):
            record = measurer.record(key)
            if record is None:
                continue
            for name in values:
                values[name].append(record.metric(name))
        return {name: seed_sd(v) for name, v in values.items() if len(v) >= 2}
