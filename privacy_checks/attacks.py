"""Membership inference attacks through TF Privacy, seeded, as plain records.

``mia.run_attacks`` draws from NumPy's *global* RNG (attacker train/test
splits, balancing). Unseeded, the logistic-regression attack gives different
numbers on every run, and a regression gate built on it would cry wolf. Each
evaluation therefore runs under its own seed, derived from the profile's seed,
the model and the epoch, and the caller's global RNG state is restored after.

Attacks run with one BLAS/OpenMP thread. TF Privacy's logistic-regression
attacker fits scikit-learn's ``GridSearchCV`` (10 values of C, 3 folds, 2
attacker folds per slice) on small matrices, where every BLAS call woken on
several threads costs more in hand-offs than it computes, and competes with
TensorFlow's own pools for the cores: on ``cifar10-quick`` an evaluation took
about 8 s with the default threads and about 3 s with one, with the same
numbers to the last bit (``tests/test_attacks.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np

from privacy_checks import metrics
from privacy_checks.accounting import bound_delta, epsilon_lower_bound, guarantee_alpha, variant_label
from privacy_checks.spec.vocabulary import ATTACKS, ENTIRE_DATASET, class_slice, derive_seed
from privacy_checks.spec.profile import Profile
from privacy_checks.training import Snapshot
from privacy_checks.spec.cases import CaseKey

if TYPE_CHECKING:
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        AttackResults,
    )


@dataclasses.dataclass(frozen=True)
class AttackRecord:
    """One attack on one slice of one model at one report epoch."""

    model: str
    epoch: int
    attack: str
    slice: str
    auc: float
    #: In the attack's own direction, max TPR - FPR (:func:`metrics.advantage`): what the gate judges.
    attacker_advantage: float
    ppv: float
    members: int
    non_members: int
    #: Epsilon lower bound at the profile's guarantee confidence and the model's
    #: delta (see :mod:`privacy_checks.accounting`); computed on the entire
    #: dataset only, where a DP guarantee is checked.
    epsilon_lower_bound: float | None = None
    #: TPR at each of the profile's FPRs, by metric name (``tpr_at_fpr_0.001``).
    tpr_at_fpr: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: Bootstrap confidence interval of every metric (:mod:`privacy_checks.metrics`).
    intervals: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    #: TF Privacy's attacker advantage, max |TPR - FPR|: the codelab's number (its plots show it).
    attacker_advantage_two_sided: float | None = None

    def __post_init__(self) -> None:
        # Records also come back from JSON (the cache), where tuples are lists.
        fixed = {name: (float(lo), float(hi)) for name, (lo, hi) in self.intervals.items()}
        object.__setattr__(self, "intervals", fixed)
        object.__setattr__(self, "tpr_at_fpr", {k: float(v) for k, v in self.tpr_at_fpr.items()})

    @property
    def key(self) -> CaseKey:
        """Which (model, epoch, attack, slice) it measured: ``2_layers/epoch10/threshold/class_3``."""
        return CaseKey(self.model, self.epoch, self.attack, self.slice)

    def metric(self, name: str) -> float:
        if name in self.tpr_at_fpr:
            return self.tpr_at_fpr[name]
        return float(getattr(self, name))


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """All attacks on one snapshot: flat records, and TF Privacy's results for plots.

    ``results`` holds TF Privacy's own attacks (None when the run asked only
    for reference-model attacks); the reference-model attacks' ROC curves,
    which TF Privacy's results cannot hold, are in ``curves``.
    """

    snapshot: Snapshot
    records: tuple[AttackRecord, ...]
    results: "AttackResults | None"
    #: ROC curves (TF Privacy's ``RocCurve``) of records ``results`` does not hold, by (attack, slice).
    curves: Mapping[tuple[str, str], Any] = dataclasses.field(default_factory=dict)

    def record(self, attack: str, slice_name: str) -> AttackRecord | None:
        for record in self.records:
            if record.attack == attack and record.slice == slice_name:
                return record
        return None

    def curve(self, record: AttackRecord):
        """The ROC curve of one of this evaluation's records."""
        if (record.attack, record.slice) in self.curves:
            return self.curves[(record.attack, record.slice)]
        for result in self.results.single_attack_results if self.results is not None else ():
            if short_attack_name(result.attack_type) == record.attack and slice_name(result.slice_spec) == record.slice:
                return result.roc_curve
        raise KeyError(f"no ROC curve of {record.key}")

    def merged(self, other: "Evaluation") -> "Evaluation":
        """This evaluation with ``other``'s records and curves (the same snapshot) added."""
        return dataclasses.replace(
            self,
            records=self.records + other.records,
            results=self.results if self.results is not None else other.results,
            curves={**self.curves, **other.curves},
        )


@contextlib.contextmanager
def seeded_global_numpy(seed: int) -> Iterator[None]:
    """Seeds NumPy's global RNG for the block and restores the caller's state after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Limits BLAS and OpenMP (NumPy, SciPy, scikit-learn) to one thread for the block.

    TensorFlow's thread pools are its own and are not touched: training's
    numbers do not depend on this.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


@contextlib.contextmanager
def _quiet_tf_privacy() -> Iterator[None]:
    """Silences warnings that TF Privacy 0.8.12 triggers on every run and users cannot act on.

    Its epsilon lower bound divides by zero at the ROC curve's end points, and
    scikit-learn's lbfgs warns about SciPy options TF Privacy does not set.
    """
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="sklearn")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="tensorflow_privacy")
        yield


def slice_name(slice_spec) -> str:
    """TF Privacy's ``SingleSliceSpec`` as this package names it: ``entire_dataset``, ``class_3``."""
    if slice_spec.entire_dataset:
        return ENTIRE_DATASET
    return class_slice(int(slice_spec.value))


def short_attack_name(attack_type) -> str:
    """TF Privacy's ``AttackType`` as this package names it: ``threshold``, ``logistic_regression``."""
    return {member: short for short, member in ATTACKS.items()}[attack_type.name]


def evaluate(snapshot: Snapshot, profile: Profile) -> Evaluation:
    """Runs the profile's attacks on every slice of one snapshot, seeded.

    Like the codelab, the attacker sees softmax probabilities (and the loss
    TF Privacy derives from them), and ``PrivacyReportMetadata`` carries the
    accuracies, losses, epoch and model label the report plots need.
    """
    from scipy import special
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
        membership_inference_attack as mia,
    )
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        AttackInputData,
        AttackType,
        PrivacyReportMetadata,
        SlicingSpec,
    )

    attack_input = AttackInputData(
        probs_train=special.softmax(snapshot.logits_members.astype(np.float64), axis=1),
        probs_test=special.softmax(snapshot.logits_non_members.astype(np.float64), axis=1),
        labels_train=snapshot.labels_members,
        labels_test=snapshot.labels_non_members,
    )
    spec = profile.model(snapshot.model)
    metadata = PrivacyReportMetadata(
        accuracy_train=snapshot.train_accuracy,
        accuracy_test=snapshot.test_accuracy,
        loss_train=snapshot.train_loss,
        loss_test=snapshot.test_loss,
        model_variant_label=variant_label(
            spec.label, spec.dp, len(snapshot.labels_members), profile.batch_size, profile.epochs
        ),
        epoch_num=snapshot.epoch,
    )
    seed = derive_seed(profile.seed, "attack", snapshot.model, snapshot.epoch)
    with one_blas_thread():
        with seeded_global_numpy(seed), _quiet_tf_privacy():
            results = mia.run_attacks(
                attack_input,
                SlicingSpec(entire_dataset=True, by_class=profile.by_class),
                attack_types=[AttackType[ATTACKS[a]] for a in profile.tf_privacy_attacks],
                privacy_report_metadata=metadata,
            )
        records = tuple(
            _record(snapshot, result, profile) for result in results.single_attack_results
        )
    return Evaluation(snapshot, records, results)


def _record(snapshot: Snapshot, result, profile: Profile) -> AttackRecord:
    """Flattens one TF Privacy result; TPR at low FPR and intervals come from its scores."""
    return scored_record(
        snapshot.model, snapshot.epoch, short_attack_name(result.attack_type), slice_name(result.slice_spec),
        result.membership_scores_train, result.membership_scores_test, result.roc_curve, profile,
        members=int(result.data_size.ntrain), non_members=int(result.data_size.ntest),
    )


def scored_record(
    model: str,
    epoch: int,
    attack: str,
    slice_: str,
    scores_in: np.ndarray,
    scores_out: np.ndarray,
    roc_curve,
    profile: Profile,
    members: int | None = None,
    non_members: int | None = None,
) -> AttackRecord:
    """One attack on one slice from its membership scores (higher = member) and TF Privacy's
    ``RocCurve`` of them: AUC, advantage and PPV as TF Privacy computes them, TPR at the
    profile's FPRs, bootstrap intervals and, on the entire dataset, the epsilon lower bound.
    ``members`` and ``non_members`` are the slice's sizes (default: the scores')."""
    intervals = metrics.bootstrap_intervals(
        scores_in,
        scores_out,
        profile.fprs,
        seed=derive_seed(profile.seed, "bootstrap", model, epoch, attack, slice_),
    )
    bound = (
        epsilon_lower_bound(
            scores_in,
            scores_out,
            alpha=guarantee_alpha(profile),
            delta=bound_delta(profile.model(model)),
            seed=derive_seed(profile.seed, "epsilon", model, epoch, attack),
        )
        if slice_ == ENTIRE_DATASET
        else None
    )
    return AttackRecord(
        model=model,
        epoch=epoch,
        attack=attack,
        slice=slice_,
        auc=float(roc_curve.get_auc()),
        attacker_advantage=metrics.advantage(roc_curve.tpr, roc_curve.fpr),
        attacker_advantage_two_sided=float(roc_curve.get_attacker_advantage()),
        ppv=float(roc_curve.get_ppv()),
        members=len(scores_in) if members is None else members,
        non_members=len(scores_out) if non_members is None else non_members,
        epsilon_lower_bound=bound,
        tpr_at_fpr=metrics.tpr_at_fprs(scores_in, scores_out, profile.fprs),
        intervals=intervals,
    )


def evaluate_references(
    snapshot: Snapshot,
    reference_logits: np.ndarray,
    trains_on: np.ndarray,
    population: np.ndarray,
    profile: Profile,
) -> Evaluation:
    """The profile's reference-model attacks on one snapshot, on every slice.

    ``reference_logits`` (K, N, C) are the reference models' logits at the
    snapshot's epoch, ``trains_on`` (K, N) their training sets, both over
    the global order (members, then non-members; see
    :mod:`privacy_checks.references`). Each attack uses the first
    ``profile.reference_models[attack]`` references. Offline LiRA and RMIA
    score every member and non-member, online LiRA the population (the
    examples some references trained on). Deterministic: no randomness but
    the bootstrap's and the epsilon bound's, seeded per record.
    """
    from privacy_checks import reference_attacks as ra
    from privacy_checks.references import out_per_pair

    members = len(snapshot.labels_members)
    logits = np.concatenate([snapshot.logits_members, snapshot.logits_non_members]).astype(np.float64)
    labels = np.concatenate([snapshot.labels_members, snapshot.labels_non_members])
    records: list[AttackRecord] = []
    curves: dict[tuple[str, str], Any] = {}
    with one_blas_thread(), _quiet_tf_privacy():
        for attack in profile.attacks:
            if attack not in profile.reference_models:
                continue
            k = profile.reference_models[attack]
            refs, ins = reference_logits[:k].astype(np.float64), trains_on[:k]
            if attack == "lira_online":
                scored = population
                scores = ra.lira(
                    ra.scaled_logit(logits[scored], labels[scored]),
                    ra.scaled_logit(refs[:, scored], labels[scored]),
                    ins[:, scored],
                    online=True,
                )
            elif attack == "lira_offline":
                scored = np.arange(len(labels))
                outs = out_per_pair(ins, ra.scaled_logit(refs, labels))
                scores = ra.lira(ra.scaled_logit(logits, labels), outs, np.zeros_like(outs, bool), online=False)
            else:  # rmia: each x against the non-members as population z
                scored = np.arange(len(labels))
                outs = out_per_pair(ins, ra.true_label_probability(refs, labels))
                scores = ra.rmia(
                    ra.true_label_probability(logits, labels),
                    outs,
                    np.zeros_like(outs, bool),
                    np.arange(members, len(labels)),
                    offline=True,
                )
            is_member = scored < members
            by_slice = {ENTIRE_DATASET: np.ones(len(scored), bool)}
            if profile.by_class:
                by_slice.update({class_slice(c): labels[scored] == c for c in range(profile.num_classes)})
            for slice_, chosen in by_slice.items():
                scores_in, scores_out = scores[chosen & is_member], scores[chosen & ~is_member]
                if not len(scores_in) or not len(scores_out):
                    continue  # as TF Privacy skips a slice without both sides
                curve = roc_curve(scores_in, scores_out)
                curves[(attack, slice_)] = curve
                records.append(
                    scored_record(snapshot.model, snapshot.epoch, attack, slice_, scores_in, scores_out, curve, profile)
                )
    return Evaluation(snapshot, tuple(records), None, curves)


def roc_curve(scores_in: np.ndarray, scores_out: np.ndarray):
    """TF Privacy's ``RocCurve`` of membership scores, built as its threshold attack builds it."""
    from sklearn import metrics as sk_metrics
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        RocCurve,
    )

    fpr, tpr, thresholds = sk_metrics.roc_curve(
        np.concatenate([np.ones(len(scores_in)), np.zeros(len(scores_out))]),
        np.concatenate([scores_in, scores_out]),
    )
    return RocCurve(tpr=tpr, fpr=fpr, thresholds=thresholds, test_train_ratio=len(scores_out) / len(scores_in))
