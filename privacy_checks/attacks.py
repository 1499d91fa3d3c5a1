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
from typing import TYPE_CHECKING, Iterator, Mapping

import numpy as np

from privacy_checks import metrics
from privacy_checks.accounting import bound_delta, epsilon_lower_bound, guarantee_alpha, variant_label
from privacy_checks.profiles import ATTACKS, ENTIRE_DATASET, Profile, class_slice, derive_seed
from privacy_checks.training import Snapshot
from privacy_checks.verdicts import CaseKey

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
    """All attacks on one snapshot: flat records, and TF Privacy's results for plots."""

    snapshot: Snapshot
    records: tuple[AttackRecord, ...]
    results: "AttackResults"

    def record(self, attack: str, slice_name: str) -> AttackRecord | None:
        for record in self.records:
            if record.attack == attack and record.slice == slice_name:
                return record
        return None


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
                attack_types=[AttackType[ATTACKS[a]] for a in profile.attacks],
                privacy_report_metadata=metadata,
            )
        records = tuple(
            _record(snapshot, result, profile) for result in results.single_attack_results
        )
    return Evaluation(snapshot, records, results)


def _record(snapshot: Snapshot, result, profile: Profile) -> AttackRecord:
    """Flattens one TF Privacy result; TPR at low FPR and intervals come from its scores."""
    slice_ = slice_name(result.slice_spec)
    attack = short_attack_name(result.attack_type)
    scores_in, scores_out = result.membership_scores_train, result.membership_scores_test
    intervals = metrics.bootstrap_intervals(
        scores_in,
        scores_out,
        profile.fprs,
        seed=derive_seed(profile.seed, "bootstrap", snapshot.model, snapshot.epoch, attack, slice_),
    )
    bound = (
        epsilon_lower_bound(
            scores_in,
            scores_out,
            alpha=guarantee_alpha(profile),
            delta=bound_delta(profile.model(snapshot.model)),
            seed=derive_seed(profile.seed, "epsilon", snapshot.model, snapshot.epoch, attack),
        )
        if slice_ == ENTIRE_DATASET
        else None
    )
    return AttackRecord(
        model=snapshot.model,
        epoch=snapshot.epoch,
        attack=attack,
        slice=slice_,
        auc=float(result.get_auc()),
        attacker_advantage=float(result.get_attacker_advantage()),
        ppv=float(result.get_ppv()),
        members=int(result.data_size.ntrain),
        non_members=int(result.data_size.ntest),
        epsilon_lower_bound=bound,
        tpr_at_fpr=metrics.tpr_at_fprs(scores_in, scores_out, profile.fprs),
        intervals=intervals,
    )
