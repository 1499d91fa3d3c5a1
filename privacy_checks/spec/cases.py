"""What a profile checks: one :class:`Case` per (model, report epoch, attack, slice) and check kind.

* :class:`CaseKey` names one (model, report epoch, attack, slice); its text
  form ``2_layers/epoch10/threshold/class_3`` is what results and messages show,
  and :func:`entry_key` the key of its entry in the model's baseline file.
* :class:`Case` is one parametrized pytest item: a case key and what it checks
  (the baseline, or one of a DP model's guarantees); :func:`cases` lists a profile's.

Plain frozen values: the measuring, judging and reporting stages all name checks with them.
"""

from __future__ import annotations

import dataclasses

from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import ENTIRE_DATASET


#: What a check compares: the baseline, one of a DP model's two guarantees, or a DP
#: model's accountant epsilon against its baseline's and its budget.
BASELINE, EPSILON, VS_NON_PRIVATE = "baseline", "epsilon_bound", "auc_vs_non_private"
ACCOUNTANT = "accountant_epsilon"
#: A DP model's optimizer step measured against the claim (clip, noise scale, fresh noise), once
#: per DP model at the last report epoch: :mod:`privacy_checks.attack.white_box`.
CONFORMANCE = "dp_conformance"
#: The guarantee checks that are statistical tests and share the run's error budget
#: (the accountant's epsilon is computed, not measured: it errs never).
STATISTICAL_GUARANTEES = (EPSILON, VS_NON_PRIVATE, CONFORMANCE)
#: The ``attack`` of an accountant check's key: no attack, the accountant.
ACCOUNTANT_KEY = "accountant"
#: The ``attack`` of a conformance check's key: no attack, the optimizer's step.
CONFORMANCE_KEY = "dp_step"


def entry_key(epoch: int, attack: str, slice_name: str) -> str:
    """An entry's key inside one model's baseline file (the model is the file)."""
    return f"epoch{epoch}/{attack}/{slice_name}"


@dataclasses.dataclass(frozen=True, order=True)
class CaseKey:
    """One (model, report epoch, attack, slice): what a baseline entry and a result describe."""

    model: str
    epoch: int
    attack: str
    slice: str

    def __str__(self) -> str:
        return f"{self.model}/epoch{self.epoch}/{self.attack}/{self.slice}"

    @property
    def entry_key(self) -> str:
        """The key of its entry inside the model's baseline file: ``epoch10/threshold/class_3``."""
        return entry_key(self.epoch, self.attack, self.slice)

    @classmethod
    def parse(cls, text: str) -> "CaseKey":
        """The inverse of ``str()``; a ``ValueError`` for anything else."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[1].startswith("epoch") or not parts[1][5:].isdigit():
            raise ValueError(f"{text!r} is not model/epochN/attack/slice")
        return cls(parts[0], int(parts[1][5:]), parts[2], parts[3])


@dataclasses.dataclass(frozen=True)
class Case:
    """One parametrized check: a (model, report epoch, attack, slice) and what is checked.

    Every model's cases compare AUC and attacker advantage with the baseline.
    A DP model also gets, per report epoch and attack on the entire dataset,
    ``epsilon_bound`` (the measured epsilon lower bound must not exceed the
    accountant's epsilon) and ``auc_vs_non_private`` (its AUC must not exceed
    the non-private model's), which need no baseline; and per report epoch
    ``accountant_epsilon``: the accountant's epsilon must not rise above its
    baseline's, nor above the model's ``dp.max_epsilon``; and once, at the last
    report epoch, ``dp_conformance``: its optimizer's step must clip, noise and
    draw fresh noise as the accountant is told.
    """

    model: str
    epoch: int
    attack: str
    slice: str
    check: str = BASELINE

    @property
    def key(self) -> CaseKey:
        """The (model, epoch, attack, slice) it measures; a guarantee check shares it
        with the baseline check of the same slice and differs in ``check``."""
        return CaseKey(self.model, self.epoch, self.attack, self.slice)

    @property
    def id(self) -> str:
        if self.check in (ACCOUNTANT, CONFORMANCE):
            return f"{self.model}-epoch{self.epoch}-{self.check}"
        suffix = self.slice if self.check == BASELINE else self.check
        return f"{self.model}-epoch{self.epoch}-{self.attack}-{suffix}"

    @property
    def entry_key(self) -> str:
        return self.key.entry_key


def cases(profile: Profile) -> list[Case]:
    """Every check a profile defines, in the order they run (model-major: train once)."""
    found = []
    for model in profile.models:
        found += [
            Case(model.name, epoch, attack, slice_name)
            for epoch in profile.report_epochs
            for attack in profile.attacks
            for slice_name in profile.slices
        ]
        if model.dp is not None:
            checks = (EPSILON,) + ((VS_NON_PRIVATE,) if model.compare_to else ())
            found += [
                Case(model.name, epoch, attack, ENTIRE_DATASET, check)
                for epoch in profile.report_epochs
                for attack in profile.attacks
                for check in checks
            ]
            found += [
                Case(model.name, epoch, ACCOUNTANT_KEY, ENTIRE_DATASET, ACCOUNTANT) for epoch in profile.report_epochs
            ]
            if profile.report_epochs:
                last = max(profile.report_epochs)
                found.append(Case(model.name, last, CONFORMANCE_KEY, ENTIRE_DATASET, CONFORMANCE))
    return found


def baseline_keys(profile: Profile) -> set[CaseKey]:
    """The baseline entries a profile can produce."""
    return {case.key for case in cases(profile) if case.check == BASELINE}
