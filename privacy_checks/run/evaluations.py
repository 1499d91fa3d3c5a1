"""Each snapshot's attacks, once: handed to the executor as soon as the snapshot exists, from the cache
where it has them (:class:`Evaluations`, a part of :class:`~privacy_checks.run.measurer.Measurer`),
and where each model's time went."""

from __future__ import annotations

import dataclasses
import time

from privacy_checks.attack.codelab import evaluate
from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.run import cache
from privacy_checks.run.executors import done
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.vocabulary import REFERENCE_ATTACKS
from privacy_checks.train.snapshot import Snapshot


class Evaluations:
    """The measurer's attack runs on snapshots (its state is the :class:`~privacy_checks.run.measurer.Measurer`'s)."""

    def _schedule(self, snapshot: Snapshot, needed: bool = False) -> None:
        """Submits the attacks on a planned (or ``needed``) snapshot, unless the cache has them."""
        key = (snapshot.model, snapshot.epoch)
        if not self.profile.tf_privacy_attacks:
            return
        if key in self._pending or key in self._evaluations or not (needed or self._wanted(*key)):
            return
        name = self._cache_name(snapshot.model, snapshot.epoch)
        cached = None
        if self.settings.cache_dir is not None:
            cached = cache.load_evaluation(self.settings.cache_dir, name, snapshot)
        if cached is not None:
            self.cache_hits["attack runs"] += 1
            self._pending[key] = done(cached)
            return
        self._pending[key] = self.executor.submit(evaluate, snapshot, self.profile.plain())
        self._cost(snapshot.model).submitted += 1

    def evaluation(self, model: str, epoch: int) -> Evaluation:
        return self._remember(
            self._evaluations, (model, epoch), lambda: self._evaluate(model, epoch),
            f"attacks on {model} at epoch {epoch} failed",
        )

    def _evaluate(self, model: str, epoch: int) -> Evaluation:
        snapshot = self.training(model).at(epoch)
        key = (model, epoch)
        self._schedule(snapshot, needed=True)
        outcome = self._wait_for(self._pending.pop(key))
        if outcome.seconds is not None:  # attacked now, not found in the cache
            self._store(cache.save_evaluation, self._cache_name(model, epoch), outcome.value)
            self._attacked(model, outcome.seconds)
        return outcome.value

    def _cost(self, model: str) -> "Cost":
        return self._costs.setdefault(model, Cost())

    def _attacked(self, model: str, seconds: float) -> None:
        """Adds an attack's time; the model's last one prints where its time went."""
        cost = self._cost(model)
        cost.attacks += seconds
        cost.gathered += 1
        references_to_come = self._wanted_references(model) and model not in self._references
        if cost.gathered == cost.submitted and not references_to_come and self._progress is not None:
            self._progress(
                f"{model}: done at {time.perf_counter() - self.started:.0f}s: training "
                f"{cost.training:.1f}s, "
                + (f"reference models {cost.references:.1f}s, " if cost.references else "")
                + f"attacks {cost.attacks:.1f}s on {cost.gathered} snapshots "
                f"({self.executor.describe()})"
            )

    def evaluations(self) -> list[Evaluation]:
        """The evaluations that succeeded this session, each snapshot's attacks in one."""
        found = {key: e for key, e in self._evaluations.items() if isinstance(e, Evaluation)}
        for key, extra in self._reference_evaluations.items():
            if isinstance(extra, Evaluation):
                found[key] = found[key].merged(extra) if key in found else extra
        return list(found.values())

    def record(self, key: CaseKey) -> AttackRecord | None:
        """The attack result for ``key``; None if the attack skipped the slice."""
        if key.attack in REFERENCE_ATTACKS:
            return self.reference_evaluation(key.model, key.epoch).record(key.attack, key.slice)
        return self.evaluation(key.model, key.epoch).record(key.attack, key.slice)


@dataclasses.dataclass
class Cost:
    """Where one model's time went, for its closing progress line."""

    training: float = 0.0
    references: float = 0.0
    attacks: float = 0.0
    submitted: int = 0
    gathered: int = 0
