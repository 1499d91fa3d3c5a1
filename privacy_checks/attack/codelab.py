"""The codelab's membership inference attacks, seeded, as plain records.

The attacks are the project's own (:mod:`privacy_checks.attack.mia`), written
from TF Privacy's definitions and checked against TF Privacy 0.8.12 number for
number on the codelab lane (``tests/test_mia.py``): they run on every lane,
NumPy 2 and scikit-learn 1.7+ included, where TF Privacy cannot be installed.

``run_attacks`` draws from NumPy's *global* RNG, as TF Privacy does (attacker train/test
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
import warnings
from typing import Iterator

import numpy as np

from privacy_checks.attack import metrics
from privacy_checks.attack.mia_attacks import seeded_global_numpy
from privacy_checks.attack.accounting import bound_delta, epsilon_lower_bound, guarantee_alpha, variant_label
from privacy_checks.attack.records import AttackRecord, Evaluation, short_attack_name, slice_name
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import ATTACKS, ENTIRE_DATASET, derive_seed
from privacy_checks.train.snapshot import Snapshot


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Limits BLAS and OpenMP (NumPy, SciPy, scikit-learn) to one thread for the block.

    TensorFlow's thread pools are its own and are not touched: training's
    numbers do not depend on this.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


@contextlib.contextmanager
def quiet_attacks() -> Iterator[None]:
    """Silences what the attacks trigger on every run and users cannot act on: divisions by zero at the
    ROC curve's end points, and scikit-learn's lbfgs warning about SciPy options."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="sklearn")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="privacy_checks")
        yield


def evaluate(snapshot: Snapshot, profile: Profile) -> Evaluation:
    """Runs the profile's attacks on every slice of one snapshot, seeded.

    Like the codelab, the attacker sees softmax probabilities (and the loss
    TF Privacy derives from them), and ``PrivacyReportMetadata`` carries the
    accuracies, losses, epoch and model label the report plots need.
    """
    from scipy import special

    from privacy_checks.attack import mia
    from privacy_checks.attack.mia import AttackInputData, AttackType, PrivacyReportMetadata, SlicingSpec

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
        with seeded_global_numpy(seed), quiet_attacks():
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
    """Flattens one attack result; TPR at low FPR and intervals come from its scores."""
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
    """One attack on one slice from its membership scores (higher = member) and the
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


def roc_curve(scores_in: np.ndarray, scores_out: np.ndarray):
    """The ``RocCurve`` of membership scores, built as TF Privacy's threshold attack builds it."""
    from sklearn import metrics as sk_metrics

    from privacy_checks.attack.mia import RocCurve

    fpr, tpr, thresholds = sk_metrics.roc_curve(
        np.concatenate([np.ones(len(scores_in)), np.zeros(len(scores_out))]),
        np.concatenate([scores_in, scores_out]),
    )
    return RocCurve(tpr=tpr, fpr=fpr, thresholds=thresholds, test_train_ratio=len(scores_out) / len(scores_in))
