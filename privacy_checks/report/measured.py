"""What one session measured and decided, as one value: everything a report shows.

Also the rule that names each model's most vulnerable slice: the (epoch, attack,
slice) whose AUC is *surely* highest, by the lower end of its 95 % interval. The
largest point estimate among some seventy noisy slices is mostly the luckiest
one (a winner's curse: a class slice of 20 members tops the list by noise); the
lower end of the interval ranks a slice by what its data can vouch for.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.judge.baselines import Baseline
from privacy_checks.judge.session import PrivacyRun
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck
from privacy_checks.report.leaks import default_mode
from privacy_checks.run.settings import CheckFailed
from privacy_checks.spec.cases import CaseKey
from privacy_checks.spec.files import display_path
from privacy_checks.spec.profile import Profile


@dataclasses.dataclass(frozen=True)
class Members:
    """The members as the data set holds them, in member order, for the report's thumbnails."""

    x: np.ndarray
    class_names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Measured:
    """What one session measured and decided: everything the report shows."""

    profile: Profile
    evaluations: Sequence[Evaluation]
    comparisons: Mapping[CaseKey, Comparison]
    versions: Mapping[str, str]
    data_source: str
    #: Keras's per-epoch logs, by model.
    histories: Mapping[str, Sequence[Mapping[str, float]]] = dataclasses.field(default_factory=dict)
    #: The baseline files read, by model (their metadata goes on the page).
    baselines: Mapping[str, Baseline] = dataclasses.field(default_factory=dict)
    #: DP guarantee verdicts, by (case key, check).
    guarantees: Mapping[tuple[CaseKey, str], GuaranteeCheck] = dataclasses.field(default_factory=dict)
    #: An update (``--privacy-update-baselines``): every measured check passed and was recorded.
    update_baselines: bool = False
    #: What changed in each model's setup since its baseline was recorded (``members 200 -> 100``).
    setup_changes: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    #: Checks that could not be measured, by (key, check): the whole error behind each.
    unmeasured: Mapping[tuple[CaseKey, str], str] = dataclasses.field(default_factory=dict)
    #: Baseline checks skipped: the attack ran on no example of the slice.
    skipped: int = 0
    #: Each model's baseline file as users read its path (failure messages name it).
    baseline_paths: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: What the report shows of the members that leak: ``images``, ``indices`` or ``none``
    #: (``--privacy-report-examples``; :mod:`~privacy_checks.report.leaks` says why).
    examples: str = "indices"
    #: The members' features, where ``examples`` is ``images`` and the data set was at hand.
    members: "Members | None" = None

    def ordered(self) -> "Measured":
        """The same, with evaluations in profile model order, then epoch."""
        names = [m.name for m in self.profile.models]
        return dataclasses.replace(
            self,
            evaluations=sorted(
                self.evaluations, key=lambda e: (names.index(e.snapshot.model), e.snapshot.epoch)
            ),
        )


def measured_of(run: PrivacyRun, examples: str | None = None) -> Measured:
    """What ``run`` measured and decided, for its report. ``examples``: what the report shows of
    the members that leak (``--privacy-report-examples``); None: images for a public data set,
    indices for any other (:func:`~privacy_checks.report.leaks.default_mode`)."""
    mode = examples or default_mode(run.data_source)
    members = None
    if mode == "images":
        try:
            dataset = run.dataset()
        except CheckFailed:  # not available: the checks that needed it say why; indices then
            dataset = None
        if dataset is not None and examples is None and default_mode(dataset.source) != "images":
            mode = "indices"  # a hook's data under a public source's name: private, unless asked
        elif dataset is not None:
            members = Members(dataset.x_members, tuple(dataset.class_names))
    return Measured(
        profile=run.profile,
        evaluations=run.evaluations(),
        comparisons=run.comparisons,
        versions=run.versions,
        data_source=run.data_source,
        histories=run.histories(),
        baselines=run.loaded_baselines(),
        guarantees=run.guarantees,
        update_baselines=run.settings.update_baselines,
        setup_changes=run.setup_changes,
        unmeasured=dict(run.unmeasured),
        skipped=len(run.skipped),
        baseline_paths={m.name: display_path(run.baseline_path(m.name)) for m in run.profile.models},
        examples=mode,
        members=members,
    )


#: How the most vulnerable slice is chosen, as the page and the docs say it.
MOST_VULNERABLE_RULE = (
    "the (epoch, attack, slice) whose AUC has the highest lower end of its 95 % interval: "
    "what its data vouches for, not the largest of some seventy noisy point estimates"
)


def auc_lower(record: AttackRecord) -> float:
    """The lower end of the AUC's 95 % interval (the point estimate where none was computed)."""
    return record.intervals.get("auc", (record.auc, record.auc))[0]


def _surely_higher(record: AttackRecord) -> tuple[float, float]:
    """The ranking key: the interval's lower end, then the AUC (ties between equal lower ends)."""
    return (auc_lower(record), record.auc)


def most_vulnerable(evaluations: Iterable[Evaluation]) -> dict[str, tuple[AttackRecord, Any]]:
    """Per model, the (epoch, attack, slice) whose AUC is surely highest (:data:`MOST_VULNERABLE_RULE`),
    and its ROC curve (TF Privacy's ``RocCurve``). Of equal keys, the first in evaluation order wins."""
    best: dict[str, tuple[AttackRecord, Evaluation]] = {}
    for evaluation in evaluations:
        for record in evaluation.records:
            if record.model not in best or _surely_higher(record) > _surely_higher(best[record.model][0]):
                best[record.model] = (record, evaluation)
    return {model: (record, evaluation.curve(record)) for model, (record, evaluation) in best.items()}
