"""The codelab's membership inference attacks, giving TF Privacy 0.8.12's numbers.

Two kinds of attack (Shokri et al. 2017; Yeom et al. 2018; Song & Mittal 2021):

* **threshold** attacks rank examples by one statistic of the model's output,
  the loss or the modified entropy: members, having been fit, score lower.
  Deterministic.
* **trained** attacks fit a scikit-learn classifier (logistic regression,
  MLP, random forest, k-NN) to tell members from non-members by the output
  vector and the loss. The attacker never scores an example it was fit on:
  the examples are split in two folds, each scored by the attacker fit on
  the other, so every example gets a membership score.

Randomness comes from NumPy's *global* RNG, in TF Privacy's order and
amounts: the balancing and fold shuffles here, and the MLP's and random
forest's own draws (``random_state=None``). With the same global seed the
same numbers come out as from TF Privacy; pass ``seed`` (or seed the global
RNG, e.g. with :func:`seeded_global_numpy`) to make
them reproducible. Everything runs in one process, one job at a time, as
TF Privacy runs it by default: parallel jobs would each draw from their own
copy of the RNG and change the numbers. For speed, limit BLAS to one thread
around the call (:func:`privacy_checks.attack.codelab.one_blas_thread`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Iterator, Optional, Sequence

import numpy as np
from sklearn import ensemble, linear_model, metrics, model_selection, neighbors, neural_network

from privacy_checks.attack.mia_input import AttackInputData
from privacy_checks.attack.mia_vocabulary import (
    AttackResults, AttackType, DataSize, PrivacyReportMetadata, RocCurve, SingleAttackResult, SingleSliceSpec,
    SlicingSpec,
)

#: Each trained attacker is a grid search (3-fold cross-validation) over these
#: parameters, TF Privacy's grids. The random forest's grid drops TF Privacy's
#: ``max_features='auto'``: scikit-learn removed it in 1.3, so since then those
#: fits fail before drawing any randomness, score NaN and are never chosen;
#: leaving them out changes no number (tests/test_mia.py).
PARAMETER_GRIDS: dict[AttackType, dict[str, list[Any]]] = {
    AttackType.LOGISTIC_REGRESSION: {"C": list(np.logspace(-4, 2, 10))},
    AttackType.MULTI_LAYERED_PERCEPTRON: {
        "hidden_layer_sizes": [(64,), (32, 32)],
        "solver": ["adam"],
        "alpha": [0.0001, 0.001, 0.01],
    },
    AttackType.RANDOM_FOREST: {
        "n_estimators": [100],
        "max_features": ["sqrt"],
        "max_depth": [5, 10, 20, None],
        "min_samples_split": [2, 5, 10],
        "min_samples_leaf": [1, 2, 4],
    },
    AttackType.K_NEAREST_NEIGHBORS: {"n_neighbors": [3, 5, 7]},
}

#: Folds of the attacker's own cross-validation, and of the cross prediction that scores every example.
GRID_SEARCH_FOLDS = 3
SCORING_FOLDS = 2

#: What scikit-learn's folds say when a slice is too small to split: such a
#: slice gets no trained attack. TF Privacy skips it on the first message
#: (one member or non-member) and raises on the second (two of them, which
#: leave two examples for a 3-fold grid search); we skip on both.
_TOO_SMALL = (
    "cannot be greater than the number of members in each class",
    "greater than the number of samples",
)


def run_attacks(
    attack_input: AttackInputData,
    slicing_spec: Optional[SlicingSpec] = None,
    attack_types: Sequence[AttackType] = (AttackType.THRESHOLD_ATTACK,),
    privacy_report_metadata: Optional[PrivacyReportMetadata] = None,
    *,
    balance_attacker_training: bool = True,
    min_num_samples: int = 1,
    seed: Optional[int] = None,
) -> AttackResults:
    """Runs every attack on every slice, in TF Privacy's order (slices outer, attacks inner).

    A slice with fewer than ``min_num_samples`` members or non-members is
    skipped, as is a trained attack on a slice too small for its folds
    (where TF Privacy raises instead on a slice with exactly two).
    ``balance_attacker_training`` fits trained attackers on as many
    non-members as members (the surplus is scored, not fit on).
    ``seed``, when given, seeds NumPy's global RNG for the call and restores
    the caller's state after; otherwise the global state is used as it is.
    Missing accuracies and losses in the metadata are filled in from the
    outputs (the privacy report plots them).
    """
    slicing_spec = SlicingSpec() if slicing_spec is None else slicing_spec
    attack_types = tuple(attack_types)
    num_classes = attack_input.num_classes if slicing_spec.by_class else None
    results = []
    with seeded_global_numpy(seed):
        for spec in slicing_spec.single_slice_specs(num_classes):
            data = attack_input.slice(spec)
            for attack_type in attack_types:
                if min(data.size) < min_num_samples:
                    continue
                if attack_type.is_trained_attack:
                    result = _trained_attack(data, spec, attack_type, balance_attacker_training)
                else:
                    result = _threshold_attack(data, spec, attack_type)
                if result is not None:
                    results.append(result)
    return AttackResults(tuple(results), _complete_metadata(privacy_report_metadata, attack_input))


@contextlib.contextmanager
def seeded_global_numpy(seed: Optional[int]) -> Iterator[None]:
    """Seeds NumPy's global RNG for the block (scikit-learn's attacks draw from it) and restores
    the caller's state after; None leaves it alone."""
    if seed is None:
        yield
        return
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _members_first(ntrain: int, ntest: int) -> np.ndarray:
    """1 for each member, then 0 for each non-member: the attacks' ground truth."""
    return np.concatenate((np.ones(ntrain), np.zeros(ntest)))


def _threshold_attack(data: AttackInputData, spec: SingleSliceSpec, attack_type: AttackType) -> SingleAttackResult:
    """Ranks examples by loss (or modified entropy): the lower, the more likely a member.

    The statistic is negated so that, as for every attack, a higher score
    means "member"; the ROC thresholds are given back on the statistic's scale.
    """
    if attack_type is AttackType.THRESHOLD_ENTROPY_ATTACK:
        train, test = data.get_entropy_train(), data.get_entropy_test()
    else:
        train, test = data.get_loss_train(), data.get_loss_test()
    ntrain, ntest = data.size
    fpr, tpr, thresholds = metrics.roc_curve(_members_first(ntrain, ntest), -np.concatenate((train, test)))
    return SingleAttackResult(
        slice_spec=spec,
        data_size=DataSize(ntrain, ntest),
        attack_type=attack_type,
        roc_curve=RocCurve(tpr=tpr, fpr=fpr, thresholds=-thresholds, test_train_ratio=ntest / ntrain),
        membership_scores_train=-train,
        membership_scores_test=-test,
    )


def _attacker_rows(ntrain: int, ntest: int, balance: bool) -> tuple[np.ndarray, np.ndarray]:
    """Which examples the attackers are fit on, shuffled, and which are left out.

    Rows index the members followed by the non-members. Balancing leaves out
    a random surplus of the larger side, so that an attacker cannot win by
    guessing the majority. Draws from the global RNG exactly as TF Privacy
    does (a permutation of the larger side when balancing, then one of the
    rows kept), so that the folds, and the numbers, are the same.
    """
    rows = np.arange(ntrain + ntest)
    left_out = np.asarray([], dtype=np.int32)
    if balance and ntrain != ntest:
        surplus = abs(ntrain - ntest)
        if ntrain > ntest:
            larger, smaller = np.random.permutation(ntrain), np.arange(ntrain, ntrain + ntest)
        else:
            # A shuffle moves positions independently of the values: this is
            # the permutation of the non-members' rows ntrain .. ntrain + ntest - 1.
            larger, smaller = ntrain + np.random.permutation(ntest), np.arange(ntrain)
        left_out = larger[:surplus]
        rows = np.concatenate((larger[surplus:], smaller))
    return np.random.permutation(rows), left_out


def _new_attacker(attack_type: AttackType) -> model_selection.GridSearchCV:
    """An unfitted grid search over the attack's classifier, run single-threaded as TF Privacy runs it."""
    if attack_type is AttackType.LOGISTIC_REGRESSION:
        # No n_jobs: it has no effect on a two-class lbfgs fit, and scikit-learn 1.8 deprecates it.
        estimator: Any = linear_model.LogisticRegression(solver="lbfgs")
    elif attack_type is AttackType.MULTI_LAYERED_PERCEPTRON:
        estimator = neural_network.MLPClassifier()
    elif attack_type is AttackType.RANDOM_FOREST:
        estimator = ensemble.RandomForestClassifier(n_jobs=1)
    elif attack_type is AttackType.K_NEAREST_NEIGHBORS:
        estimator = neighbors.KNeighborsClassifier(n_jobs=1)
    else:
        raise ValueError(f"{attack_type} is not a trained attack")
    return model_selection.GridSearchCV(
        estimator, param_grid=PARAMETER_GRIDS[attack_type], cv=GRID_SEARCH_FOLDS, n_jobs=1, verbose=0
    )


def _member_probability(attacker: model_selection.GridSearchCV, features: np.ndarray) -> np.ndarray:
    return attacker.predict_proba(features)[:, 1]  # classes_ are [0., 1.]: column 1 is "member"


def _trained_attack(
    data: AttackInputData, spec: SingleSliceSpec, attack_type: AttackType, balance: bool
) -> Optional[SingleAttackResult]:
    """Fits the attacker on one fold and scores the other, both ways; None if the slice is too small.

    Features are the output vector (logits or probabilities, as given) and
    the loss. Examples left out by balancing are scored by the attacker fit
    last, as TF Privacy scores them.
    """
    ntrain, ntest = data.size
    features = np.concatenate(
        (
            np.column_stack((data.outputs_train, data.get_loss_train())),
            np.column_stack((data.outputs_test, data.get_loss_test())),
        )
    )
    is_member = _members_first(ntrain, ntest)
    rows, left_out = _attacker_rows(ntrain, ntest, balance)
    scores = np.full(len(is_member), np.nan)
    folds = model_selection.StratifiedKFold(SCORING_FOLDS, shuffle=False)
    try:
        for fit_at, score_at in folds.split(features[rows], is_member[rows]):
            fit_rows, score_rows = rows[fit_at], rows[score_at]
            attacker = _new_attacker(attack_type)
            attacker.fit(features[fit_rows], is_member[fit_rows])
            scores[score_rows] = _member_probability(attacker, features[score_rows])
    except ValueError as error:
        if any(message in str(error) for message in _TOO_SMALL):
            return None
        raise
    if left_out.size:
        scores[left_out] = _member_probability(attacker, features[left_out])
    if np.isnan(scores).any():
        raise RuntimeError("an example got no membership score")  # a bug, not a data problem
    fpr, tpr, thresholds = metrics.roc_curve(is_member, scores)
    return SingleAttackResult(
        slice_spec=spec,
        data_size=DataSize(ntrain, ntest),
        attack_type=attack_type,
        roc_curve=RocCurve(tpr=tpr, fpr=fpr, thresholds=thresholds, test_train_ratio=ntest / ntrain),
        membership_scores_train=scores[:ntrain],
        membership_scores_test=scores[ntrain:],
    )


def _complete_metadata(
    metadata: Optional[PrivacyReportMetadata], data: AttackInputData
) -> PrivacyReportMetadata:
    """The caller's metadata, with accuracies (argmax = label) and mean losses filled in where missing."""
    metadata = PrivacyReportMetadata() if metadata is None else metadata
    found: dict[str, Any] = {}
    if metadata.accuracy_train is None:
        found["accuracy_train"] = metrics.accuracy_score(data.labels_train, np.argmax(data.outputs_train, axis=1))
    if metadata.accuracy_test is None:
        found["accuracy_test"] = metrics.accuracy_score(data.labels_test, np.argmax(data.outputs_test, axis=1))
    if metadata.loss_train is None:
        found["loss_train"] = np.average(data.get_loss_train())
    if metadata.loss_test is None:
        found["loss_test"] = np.average(data.get_loss_test())
    return dataclasses.replace(metadata, **found)
