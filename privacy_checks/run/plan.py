"""The run as a plan: the work every selected check needs, known before any of it starts.

At collection the plugin knows every selected (model, epoch, attack, slice)
and what each checks. :func:`build` turns them into the nodes of one graph of
work: the data set; every training (each model under the run's seed, and under
each calibration seed for the models being calibrated); every reference model
(shared by all seeds: references follow the member split); the codelab's
attacks on each snapshot a check reads; the reference-model attacks on each.
Each node names what it needs (:meth:`Plan.needs`), so a runner
(:mod:`privacy_checks.run.runner`) can start work as soon as it may: attacks as
their snapshot appears, the next training while a check waits, every training
at once on an executor that trains (Ray). What is not selected is not planned,
and so never runs.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Union

from privacy_checks.spec.cases import ACCOUNTANT, CONFORMANCE, VS_NON_PRIVATE, Case
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import REFERENCE_ATTACKS


@dataclasses.dataclass(frozen=True, order=True)
class Training:
    """A model of the profile trained under one seed: the run's, or a calibration seed."""

    model: str
    seed: int


@dataclasses.dataclass(frozen=True, order=True)
class Reference:
    """Reference model ``k`` of a model: the same recipe on a known half of the population,
    under a seed of the member split's (so every seed of the run shares it)."""

    model: str
    k: int


@dataclasses.dataclass(frozen=True, order=True)
class Attacks:
    """The codelab's attacks (TF Privacy's ``run_attacks``) on one snapshot of one training."""

    model: str
    seed: int
    epoch: int


@dataclasses.dataclass(frozen=True, order=True)
class ReferenceAttacks:
    """LiRA and RMIA on one snapshot, against the model's reference models at that epoch."""

    model: str
    seed: int
    epoch: int


Node = Union[Training, Reference, Attacks, ReferenceAttacks]


@dataclasses.dataclass(frozen=True)
class Plan:
    """Every node one run needs, in the order the work should go: trainings model by model
    (the run's seed first, then the calibration seeds), then reference models."""

    trainings: tuple[Training, ...] = ()
    references: tuple[Reference, ...] = ()
    attacks: frozenset[Attacks] = frozenset()
    reference_attacks: frozenset[ReferenceAttacks] = frozenset()

    def needs(self, node: Node) -> tuple[Node, ...]:
        """What ``node`` is made from (the data set is every node's and is not listed)."""
        if isinstance(node, Attacks):
            return (Training(node.model, node.seed),)
        if isinstance(node, ReferenceAttacks):
            return (Training(node.model, node.seed), *self.references_of(node.model))
        return ()

    def references_of(self, model: str) -> tuple[Reference, ...]:
        return tuple(r for r in self.references if r.model == model)

    def epochs_attacked(self, training: Training) -> tuple[int, ...]:
        """The report epochs of ``training`` whose codelab attacks a check reads."""
        return tuple(sorted(a.epoch for a in self.attacks if (a.model, a.seed) == (training.model, training.seed)))

    def seeds(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(t.seed for t in self.trainings))

    def __contains__(self, node: object) -> bool:
        return node in self.attacks or node in self.reference_attacks or node in self.trainings or node in self.references

    def including(self, node: Node, references: int) -> "Plan":
        """This plan with ``node`` and what it needs (a check outside the selection, a script's read):
        added, never refused. ``references``: how many reference models each model has."""
        if node in self:
            return self
        if isinstance(node, Training):
            return self.merged(Plan(trainings=(node,)))
        if isinstance(node, Reference):
            return self.merged(Plan(references=(node,)))
        trained = (Training(node.model, node.seed),)
        if isinstance(node, Attacks):
            return self.merged(Plan(trainings=trained, attacks=frozenset({node})))
        refs = tuple(Reference(node.model, k) for k in range(references))
        return self.merged(Plan(trained, refs, frozenset(), frozenset({node})))

    def merged(self, other: "Plan") -> "Plan":
        """Both plans' nodes (a check outside the plan asks for a node: it is added, not refused)."""
        return Plan(
            tuple(dict.fromkeys((*self.trainings, *other.trainings))),
            tuple(dict.fromkeys((*self.references, *other.references))),
            self.attacks | other.attacks,
            self.reference_attacks | other.reference_attacks,
        )


def build(profile: Profile, selected: Iterable[Case], calibrated: Mapping[str, tuple[int, ...]] | None = None) -> Plan:
    """The plan of ``selected`` checks: what each reads, under the run's seed and, for the
    models in ``calibrated``, under each of its other seeds too (for their baselines' spread).

    A DP model's AUC check against its non-private twin reads the twin's record too;
    the accountant's epsilon needs only the data set, the conformance audit a built model.
    """
    calibrated = calibrated or {}
    reads: set[tuple[str, int, str]] = set()
    for case in selected:
        if case.check in (ACCOUNTANT, CONFORMANCE):  # the data set, or a built model's step: no attack
            continue
        reads.add((case.model, case.epoch, case.attack))
        if case.check == VS_NON_PRIVATE:
            reads.add((profile.model(case.model).compare_to, case.epoch, case.attack))
    attacks, reference_attacks = set(), set()
    for model, epoch, attack in reads:
        for seed in (profile.seed, *calibrated.get(model, ())):
            if attack in REFERENCE_ATTACKS:
                reference_attacks.add(ReferenceAttacks(model, seed, epoch))
            else:
                attacks.add(Attacks(model, seed, epoch))
    order = [spec.name for spec in profile.models]
    trained = {(n.model, n.seed) for n in (*attacks, *reference_attacks)}
    trainings = tuple(
        Training(model, seed)
        for seed in (profile.seed, *sorted({s for seeds in calibrated.values() for s in seeds}))
        for model in order
        if (model, seed) in trained
    )
    with_references = [m for m in order if any(n.model == m for n in reference_attacks)]
    references = tuple(Reference(model, k) for model in with_references for k in range(profile.references))
    return Plan(trainings, references, frozenset(attacks), frozenset(reference_attacks))

