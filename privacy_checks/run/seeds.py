"""The same profile under the other calibration seeds, and each metric's seed-to-seed spread over all of
them (:mod:`privacy_checks.judge.calibration` decides which models are calibrated; the plan holds their
trainings, :mod:`privacy_checks.run.plan`)."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from privacy_checks.run.runner import Runner
from privacy_checks.run.settings import Settings
from privacy_checks.spec.cases import CaseKey


def seed_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1) of one metric over the calibration seeds."""
    if len(values) < 2:
        raise ValueError("a spread needs at least two seeds")
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


class Calibration:
    """Each metric's spread over the calibration seeds: the run's value and the other seeds' records,
    which the runner produces like any other node (the plan holds their trainings)."""

    def __init__(self, settings: Settings, runner: Runner) -> None:
        self.settings = settings
        self._runner = runner

    def spread(self, key: CaseKey, obtained: Mapping[str, float]) -> dict[str, float]:
        """Seed-to-seed sd of each metric: ``obtained`` (the run seed's) and the other seeds' values."""
        values = {name: [value] for name, value in obtained.items()}
        for seed in self.settings.calibration_seeds[1:]:
            record = self._runner.record(key, seed)
            if record is None:
                continue
            for name in values:
                values[name].append(record.metric(name))
        return {name: seed_sd(v) for name, v in values.items() if len(v) >= 2}
