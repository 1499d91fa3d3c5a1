"""Hand-made verdicts of the smoke profile, for the tests of what the report says about them."""

from __future__ import annotations

from typing import Mapping

from privacy_checks.judge.compare import compare
from privacy_checks.judge.tolerances import defaults
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck
from privacy_checks.report.measured import Measured
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.registry import SMOKE

VALUES = {"auc": 0.60, "attacker_advantage": 0.20, "tpr_at_fpr_0.001": 0.01, "tpr_at_fpr_0.01": 0.05}


def comparison(model: str, epoch: int, attack: str, rise: Mapping[str, float] | None = None,
               baseline: bool = True, slice_: str = "entire_dataset") -> Comparison:
    """A check whose metrics rose by ``rise`` over a baseline (or have none)."""
    key = CaseKey(model, epoch, attack, slice_)
    obtained = {m: v + (rise or {}).get(m, 0.0) for m, v in VALUES.items()}
    return compare(key, obtained, dict(VALUES) if baseline else None, defaults(SMOKE, slice_),
                   {m: (v - 0.05, v + 0.05) for m, v in obtained.items()})


def every_check(**changes: Comparison) -> dict[CaseKey, Comparison]:
    """Every check of smoke, passed, except the given ones (by ``model_epoch_attack``)."""
    found = {}
    for model in ("2_layers", "3_layers"):
        for epoch in (1, 3):
            for attack in ("threshold", "logistic_regression"):
                made = changes.get(f"{model}_{epoch}_{attack}") or comparison(model, epoch, attack)
                found[made.key] = made
    return found


def measured(comparisons: Mapping[CaseKey, Comparison], **fields) -> Measured:
    return Measured(SMOKE, [], comparisons, {"python": "3.11"}, "digits", **fields)


def broken_guarantee() -> GuaranteeCheck:
    return GuaranteeCheck(CaseKey("dp_2_layers", 3, "threshold", "entire_dataset"), "epsilon_bound", 2.5, 1.4,
                          "the accountant's epsilon", alpha=0.001, family=10)
