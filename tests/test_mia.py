"""Our membership inference attacks against TF Privacy 0.8.12's, number for number.

:mod:`privacy_checks.attack.mia` re-implements TF Privacy's ``run_attacks`` so that
the current lane (Python 3.12+, NumPy 2, newest scikit-learn), where TF
Privacy cannot be installed, measures the same things. On the codelab lane
both run on the same inputs under the same global NumPy seed and every
number must be *equal*, not close: the derived loss and entropy are the same
NumPy operations, the ROC curves and AUC the same scikit-learn calls, and
the trained attackers the same estimators fit on the same rows in the same
order, with the same draws from the global RNG (balancing, fold shuffle, the
MLP's initialisation, the random forest's bootstraps). So no tolerance is
needed anywhere; a difference of one bit is a bug.

Tests that need TF Privacy skip where it is not importable (the current
lane); the others run on both lanes.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import special

from privacy_checks.attack import mia
from privacy_checks.attack.mia import AttackInputData, AttackType, PrivacyMetric, PrivacyReportMetadata, SlicingSpec
from privacy_checks.report import mia_plots

THRESHOLD_LR_KNN = (AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION, AttackType.K_NEAREST_NEIGHBORS)
CHEAP = (AttackType.THRESHOLD_ATTACK, AttackType.THRESHOLD_ENTROPY_ATTACK,
         AttackType.LOGISTIC_REGRESSION, AttackType.K_NEAREST_NEIGHBORS)
SLOW = (AttackType.MULTI_LAYERED_PERCEPTRON, AttackType.RANDOM_FOREST)
#: (members, non-members, classes): the digits profile's, and a two-class tabular set.
DIGITS_SHAPE, TABULAR_SHAPE, SMALL_TABULAR = (200, 1597, 10), (150, 400, 2), (40, 70, 2)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",  # the MLP's 200 iterations, TF Privacy's too
    "ignore::sklearn.exceptions.FitFailedWarning",  # TF Privacy's max_features='auto' fits
    "ignore:One or more of the test scores are non-finite:UserWarning",  # the same
    "ignore::DeprecationWarning",  # SciPy 1.17 deprecates lbfgs options scikit-learn 1.6 passes
    "ignore::RuntimeWarning:tensorflow_privacy",  # its epsilon bound divides by zero at the curve's ends
)


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """As the plugin runs attacks: small fits woken on several BLAS threads crawl on a busy machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def outputs(members: int, non_members: int, classes: int, seed: int = 0, probs: bool = True) -> dict:
    """Seeded outputs that leak: members' logits lean harder to their label than non-members'."""
    rng = np.random.default_rng(seed)
    labels_in, labels_out = rng.integers(0, classes, members), rng.integers(0, classes, non_members)
    logits_in = rng.normal(size=(members, classes)) + 2.0 * np.eye(classes)[labels_in]
    logits_out = 1.3 * rng.normal(size=(non_members, classes)) + np.eye(classes)[labels_out]
    if probs:  # as privacy_checks.attack.codelab.evaluate gives them: softmax in float64
        logits_in, logits_out = special.softmax(logits_in, axis=1), special.softmax(logits_out, axis=1)
    kind = "probs" if probs else "logits"
    return {f"{kind}_train": logits_in, f"{kind}_test": logits_out,
            "labels_train": labels_in, "labels_test": labels_out}


@pytest.fixture(scope="module")
def tfp() -> SimpleNamespace:
    """TF Privacy's attack module and types; the codelab lane only."""
    pytest.importorskip("tensorflow_privacy", reason="TF Privacy installs on the codelab lane only")
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
        data_structures,
        membership_inference_attack,
        privacy_report,
    )

    return SimpleNamespace(
        run_attacks=membership_inference_attack.run_attacks, ds=data_structures, report=privacy_report
    )


def both(tfp, inputs: dict, attack_types, slicing=(True, True), seed: int = 7, metadata: dict | None = None):
    """TF Privacy's results and ours on the same inputs from the same global seed."""
    entire, by_class = slicing
    np.random.seed(seed)
    theirs = tfp.run_attacks(
        tfp.ds.AttackInputData(**inputs),
        tfp.ds.SlicingSpec(entire_dataset=entire, by_class=by_class),
        [tfp.ds.AttackType[a.name] for a in attack_types],
        privacy_report_metadata=None if metadata is None else tfp.ds.PrivacyReportMetadata(**metadata),
    )
    np.random.seed(seed)
    ours = mia.run_attacks(
        AttackInputData(**inputs), SlicingSpec(entire, by_class), attack_types,
        None if metadata is None else PrivacyReportMetadata(**metadata),
    )
    return theirs, ours


def described(results) -> list[tuple]:
    return [(str(r.slice_spec), r.attack_type.name, tuple(r.data_size)) for r in results.single_attack_results]


def metrics_of(result) -> tuple:
    return result.get_auc(), result.get_attacker_advantage(), result.get_ppv()


def assert_same(theirs, ours) -> None:
    """Every result equal to the bit: slice, attack, sizes, AUC, advantage, PPV, ROC arrays, scores."""
    assert described(ours) == described(theirs)
    for a, b in zip(theirs.single_attack_results, ours.single_attack_results):
        assert metrics_of(b) == metrics_of(a)
        for field in ("tpr", "fpr", "thresholds"):  # the first threshold is ±inf on both sides
            np.testing.assert_array_equal(getattr(b.roc_curve, field), getattr(a.roc_curve, field))
        assert b.roc_curve.test_train_ratio == a.roc_curve.test_train_ratio
        np.testing.assert_array_equal(b.membership_scores_train, a.membership_scores_train)
        np.testing.assert_array_equal(b.membership_scores_test, a.membership_scores_test)
    assert dataclasses.asdict(ours.privacy_report_metadata) == dataclasses.asdict(theirs.privacy_report_metadata)


@pytest.mark.parametrize(
    "shape, probs, attack_types",
    [
        # The codelab's inputs: probabilities. TF Privacy derives no entropy from those (see below).
        (DIGITS_SHAPE, True, THRESHOLD_LR_KNN),
        (DIGITS_SHAPE, False, CHEAP[:3]),
        (TABULAR_SHAPE, True, THRESHOLD_LR_KNN),
        (TABULAR_SHAPE, False, CHEAP),
        ((150, 60, 3), True, THRESHOLD_LR_KNN[:2]),  # more members: balanced the other way
    ],
    ids=["digits-probs", "digits-logits", "tabular-probs", "tabular-logits", "more-members"],
)
def test_attacks_equal_tf_privacy_on_every_slice(tfp, shape, probs, attack_types):
    theirs, ours = both(tfp, outputs(*shape, probs=probs), attack_types)
    assert len(ours.single_attack_results) == len(attack_types) * (1 + shape[2])
    assert_same(theirs, ours)


@pytest.fixture
def cheap_forests_and_mlps(monkeypatch):
    """Forests of 5 trees instead of 100, MLPs of 20 epochs instead of up to 200, wherever fit.

    A grid search fits each attacker 3 x 36 (forest) or 3 x 6 (MLP) times per
    fold and slice: at full size that is minutes. Cut alike for TF Privacy
    and us, the grids, folds and every random draw (initial weights, batch
    shuffles, bootstraps, split features) are still the same calls in the
    same order, so the equality still shows that the draws line up.
    """
    from sklearn import ensemble, neural_network

    class FewTrees(ensemble.RandomForestClassifier):
        def fit(self, X, y, sample_weight=None):
            self.n_estimators = min(self.n_estimators, 5)
            return super().fit(X, y, sample_weight=sample_weight)

    class FewEpochs(neural_network.MLPClassifier):
        def fit(self, X, y):
            self.max_iter = min(self.max_iter, 20)
            return super().fit(X, y)

    monkeypatch.setattr(ensemble, "RandomForestClassifier", FewTrees)
    monkeypatch.setattr(neural_network, "MLPClassifier", FewEpochs)


def test_mlp_and_random_forest_equal_tf_privacy(tfp, cheap_forests_and_mlps):
    """The attackers that draw from the global RNG themselves, on every slice.

    TF Privacy's forest grid also tries ``max_features='auto'``, which
    scikit-learn >= 1.3 rejects before drawing; ours leaves it out, and the
    equality shows that this changes nothing. The full-size check is
    ``test_full_size_grids_equal_tf_privacy`` (a study).
    """
    theirs, ours = both(tfp, outputs(*SMALL_TABULAR, probs=False), SLOW + (AttackType.THRESHOLD_ENTROPY_ATTACK,))
    assert len(ours.single_attack_results) == 3 * 3
    assert_same(theirs, ours)


@pytest.mark.study
def test_full_size_grids_equal_tf_privacy(tfp):
    """Every attack with TF Privacy's full grids (100-tree forests) on every slice: minutes."""
    theirs, ours = both(tfp, outputs(100, 300, 3), CHEAP[:1] + CHEAP[2:] + SLOW)
    assert_same(theirs, ours)


def test_entropy_from_probabilities_is_tf_privacys_entropy_of_the_same_probabilities(tfp):
    """Where we differ on purpose: TF Privacy 0.8.12 derives the entropy from logits only.

    Given probabilities alone (the codelab's inputs) its entropy attack fails
    on ``None``; ours takes the entropy of the probabilities. Passed as
    "logits", TF Privacy recognises rows summing to 1 as probabilities, so
    that is the reference, and it is met exactly.
    """
    inputs = outputs(*TABULAR_SHAPE, probs=True)
    with pytest.raises((ValueError, IndexError)):  # numpy's AxisError is both
        tfp.run_attacks(tfp.ds.AttackInputData(**inputs), attack_types=[tfp.ds.AttackType.THRESHOLD_ENTROPY_ATTACK])
    as_logits = {"logits_train": inputs["probs_train"], "logits_test": inputs["probs_test"],
                 "labels_train": inputs["labels_train"], "labels_test": inputs["labels_test"]}
    theirs, _ = both(tfp, as_logits, (AttackType.THRESHOLD_ENTROPY_ATTACK,))
    ours = mia.run_attacks(AttackInputData(**inputs), SlicingSpec(True, True), (AttackType.THRESHOLD_ENTROPY_ATTACK,))
    for a, b in zip(theirs.single_attack_results, ours.single_attack_results, strict=True):
        assert metrics_of(b) == metrics_of(a)
        np.testing.assert_array_equal(b.membership_scores_train, a.membership_scores_train)
        np.testing.assert_array_equal(b.roc_curve.thresholds, a.roc_curve.thresholds)


def small_slices(members_of_last_class: int) -> dict:
    """Outputs whose class 2 has non-members only, class 3 one member, class 4 (the last) a few."""
    inputs = outputs(60, 90, 5, seed=3)
    labels = inputs["labels_train"]
    labels[labels == 2] = 0
    labels[np.flatnonzero(labels == 3)[1:]] = 1
    labels[np.flatnonzero(labels == 4)[members_of_last_class:]] = 1
    return inputs


TRAINED_THRESHOLD_LR_KNN = (AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION, AttackType.K_NEAREST_NEIGHBORS)
CHEAP = (AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION, AttackType.K_NEAREST_NEIGHBORS)


@pytest.mark.parametrize("members_of_last_class", [3, 4])
def test_small_slices_are_skipped_as_tf_privacy_skips_them(tfp, members_of_last_class):
    """A class without members gets no attack; one with too few members to fold no trained attack."""
    theirs, ours = both(tfp, small_slices(members_of_last_class), THRESHOLD_LR_KNN)
    kept = {(str(r.slice_spec), r.attack_type.name) for r in ours.single_attack_results}
    assert ("CLASS=2", "THRESHOLD_ATTACK") not in kept and ("CLASS=3", "THRESHOLD_ATTACK") in kept
    assert ("CLASS=3", "LOGISTIC_REGRESSION") not in kept and ("CLASS=4", "K_NEAREST_NEIGHBORS") not in kept
    assert_same(theirs, ours)


def test_a_slice_of_two_members_is_skipped_where_tf_privacy_raises(tfp):
    """Where we differ on purpose: two members leave a 3-fold grid search two examples to split.

    TF Privacy skips a slice too small for its folds only when scikit-learn
    words it one way, and raises on this one; ours skips it as well. The
    slices before it give the same numbers.
    """
    inputs = small_slices(2)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        both(tfp, inputs, THRESHOLD_LR_KNN)
    theirs, _ = both(tfp, inputs, THRESHOLD_LR_KNN, slicing=(True, [0, 1, 2, 3]))
    np.random.seed(7)
    ours = mia.run_attacks(AttackInputData(**inputs), SlicingSpec(True, True), THRESHOLD_LR_KNN)
    last = ours.single_attack_results[-1]
    assert (str(last.slice_spec), last.attack_type) == ("CLASS=4", AttackType.THRESHOLD_ATTACK)
    assert_same(theirs, dataclasses.replace(ours, single_attack_results=ours.single_attack_results[:-1]))


@pytest.mark.parametrize("slicing", [(False, 3), (True, [1, 0]), (False, True)])
def test_slicing_options_equal_tf_privacy(tfp, slicing):
    theirs, ours = both(tfp, outputs(80, 120, 4), THRESHOLD_LR_KNN[:2], slicing)
    assert_same(theirs, ours)


def test_given_metadata_is_kept_and_the_rest_filled_in(tfp):
    metadata = {"accuracy_train": 0.9, "loss_test": 1.5, "model_variant_label": "2 Layers", "epoch_num": 10}
    theirs, ours = both(tfp, outputs(50, 80, 3), (AttackType.THRESHOLD_ATTACK,), metadata=metadata)
    assert (ours.privacy_report_metadata.accuracy_train, ours.privacy_report_metadata.epoch_num) == (0.9, 10)
    assert_same(theirs, ours)


@pytest.fixture(scope="module")
def real_evaluations():
    """Two report epochs of a model trained on the smoke profile's digits: attacked by the plugin (the
    project's own attacks, ``codelab.evaluate``) and by TF Privacy 0.8.12 called as the plugin called it
    before it had its own (same inputs, metadata and seed)."""
    pytest.importorskip("tensorflow_privacy")
    from privacy_checks.attack import codelab
    from privacy_checks.data import load
    from privacy_checks.spec.registry import SMOKE
    from privacy_checks.train import fit

    profile = dataclasses.replace(SMOKE, epochs=3, report_epochs=(1, 3), by_class=True)
    run = fit.train(profile, profile.models[0], load.load(profile))
    evaluations = [codelab.evaluate(snapshot, profile) for snapshot in run.snapshots]
    theirs = [tf_privacy_as_before(e.snapshot, profile, e.results.privacy_report_metadata) for e in evaluations]
    return theirs, evaluations


def tf_privacy_as_before(snapshot, profile, metadata):
    """TF Privacy's ``run_attacks`` on a snapshot, as ``codelab.evaluate`` called it: softmax probabilities,
    the profile's attacks and slices, one BLAS thread, the global RNG seeded with the same seed."""
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import data_structures as ds
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
        membership_inference_attack as tf_mia,
    )

    from privacy_checks.attack.codelab import one_blas_thread, quiet_attacks, seeded_global_numpy
    from privacy_checks.spec.vocabulary import ATTACKS, derive_seed

    inputs = ds.AttackInputData(
        probs_train=special.softmax(snapshot.logits_members.astype(np.float64), axis=1),
        probs_test=special.softmax(snapshot.logits_non_members.astype(np.float64), axis=1),
        labels_train=snapshot.labels_members,
        labels_test=snapshot.labels_non_members,
    )
    seed = derive_seed(profile.seed, "attack", snapshot.model, snapshot.epoch)
    with one_blas_thread(), seeded_global_numpy(seed), quiet_attacks():
        return tf_mia.run_attacks(
            inputs, ds.SlicingSpec(entire_dataset=True, by_class=profile.by_class),
            attack_types=[ds.AttackType[ATTACKS[a]] for a in profile.tf_privacy_attacks],
            privacy_report_metadata=ds.PrivacyReportMetadata(**dataclasses.asdict(metadata)),
        )


def test_real_snapshots_give_tf_privacys_numbers(real_evaluations):
    """A trained CNN's outputs, attacked as the plugin attacks them: TF Privacy's results and arrays."""
    for theirs, evaluation in zip(*real_evaluations, strict=True):
        assert_same(theirs, evaluation.results)
        for record, result in zip(evaluation.records, theirs.single_attack_results, strict=True):
            # The record's attacker_advantage is the gate's, in the attack's direction; TF Privacy's
            # two-sided number is kept beside it.
            assert (record.auc, record.attacker_advantage_two_sided, record.ppv) == (
                result.get_auc(), result.get_attacker_advantage(), result.get_ppv())


def figure_data(figure) -> dict:
    """What a privacy report figure shows: title, size, and per panel its lines, labels and legend."""
    import matplotlib.pyplot as plt

    data = {
        "suptitle": figure.get_suptitle(),
        "size": tuple(figure.get_size_inches()),
        "axes": [
            {
                "title": axis.get_title(),
                "xlabel": axis.get_xlabel(),
                "ylabel": axis.get_ylabel(),
                "lines": [(np.asarray(line.get_xdata(), float).tolist(), np.asarray(line.get_ydata(), float).tolist(),
                           line.get_color()) for line in axis.get_lines()],
                "legend": None if axis.get_legend() is None else [t.get_text() for t in axis.get_legend().get_texts()],
                "position": tuple(np.round(axis.get_position().bounds, 6)),
            }
            for axis in figure.axes
        ],
    }
    plt.close(figure)
    return data


@pytest.fixture(scope="module")
def report_collections(tfp):
    """Two models at three epochs each, TF Privacy's results and ours; epochs 2 and 3 of one tie on accuracy."""
    theirs, ours = [], []
    for label, shift in (("2 Layers", 0), ("3 Layers", 10)):
        for epoch, accuracy in ((3, 0.7), (1, 0.5), (2, 0.7)):  # out of order, to be sorted
            metadata = {"accuracy_train": accuracy, "model_variant_label": label, "epoch_num": epoch}
            inputs = outputs(40, 60, 3, seed=shift + epoch)
            a, b = both(tfp, inputs, THRESHOLD_LR_KNN[:2], (True, False), metadata=metadata)
            theirs.append(a)
            ours.append(b)
    return tfp.ds.AttackResultsCollection(theirs), mia.AttackResultsCollection(tuple(ours))


@pytest.mark.parametrize(
    "metrics",
    [(PrivacyMetric.AUC, PrivacyMetric.ATTACKER_ADVANTAGE), (PrivacyMetric.PPV,), tuple(PrivacyMetric)],
    ids=["codelab", "one", "three"],
)
def test_plots_draw_tf_privacys_figures(tfp, report_collections, metrics):
    import matplotlib

    matplotlib.use("Agg")
    theirs, ours = report_collections
    their_metrics = [tfp.ds.PrivacyMetric[m.name] for m in metrics]
    for our_plot, their_plot in ((mia_plots.plot_by_epochs, tfp.report.plot_by_epochs),
                                 (mia_plots.plot_privacy_vs_accuracy, tfp.report.plot_privacy_vs_accuracy)):
        expected = figure_data(their_plot(theirs, their_metrics))
        assert figure_data(our_plot(ours, metrics)) == expected
        assert len(expected["axes"][0]["lines"]) == 4 and expected["axes"][-1]["legend"]


def test_plots_of_real_snapshots(real_evaluations):
    import matplotlib

    matplotlib.use("Agg")
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import data_structures, privacy_report

    theirs, evaluations = real_evaluations
    metrics = (PrivacyMetric.AUC, PrivacyMetric.ATTACKER_ADVANTAGE)
    expected = figure_data(privacy_report.plot_by_epochs(
        data_structures.AttackResultsCollection(theirs), [data_structures.PrivacyMetric[m.name] for m in metrics]))
    assert figure_data(mia_plots.plot_by_epochs([e.results for e in evaluations], metrics)) == expected


# Both lanes: no TF Privacy needed below.


@pytest.mark.parametrize("probs, attack_types", [(True, tuple(AttackType)), (False, CHEAP)], ids=["probs", "logits"])
def test_every_attack_and_slice_runs_with_sane_numbers(cheap_forests_and_mlps, probs, attack_types):
    results = mia.run_attacks(AttackInputData(**outputs(*SMALL_TABULAR, probs=probs)), SlicingSpec(True, True),
                              attack_types, seed=1)
    assert {(str(r.slice_spec), r.attack_type) for r in results.single_attack_results} == {
        (s, a) for s in ("Entire dataset", "CLASS=0", "CLASS=1") for a in attack_types}
    for result in results.single_attack_results:
        assert 0.0 <= result.get_auc() <= 1.0 and 0.0 <= result.get_attacker_advantage() <= 1.0
        assert 0.0 <= result.get_ppv() <= 1.0
        assert len(result.membership_scores_train) == result.data_size.ntrain
        assert len(result.membership_scores_test) == result.data_size.ntest
    entire = next(r for r in results.single_attack_results if r.attack_type is AttackType.THRESHOLD_ATTACK)
    assert entire.slice_spec.entire_dataset and entire.get_auc() > 0.6  # the outputs leak


def test_perfect_separation_gives_auc_1():
    """Members predicted with certainty, non-members uniformly: every attack separates them fully."""
    rng = np.random.default_rng(0)
    labels_in, labels_out = rng.integers(0, 3, 60), rng.integers(0, 3, 90)
    inputs = AttackInputData(probs_train=np.eye(3)[labels_in], probs_test=np.full((90, 3), 1 / 3),
                             labels_train=labels_in, labels_test=labels_out)
    results = mia.run_attacks(inputs, SlicingSpec(True, True), CHEAP, seed=0)
    for result in results.single_attack_results:
        assert (result.get_auc(), result.get_attacker_advantage(), result.get_ppv()) == (1.0, 1.0, 1.0), result


def test_seed_makes_trained_attacks_reproducible_and_restores_the_global_rng():
    inputs = AttackInputData(**outputs(60, 150, 3))
    np.random.seed(5)
    expected = np.random.random(3)
    np.random.seed(5)
    first = mia.run_attacks(inputs, attack_types=[AttackType.LOGISTIC_REGRESSION], seed=11)
    assert np.array_equal(np.random.random(3), expected)
    again = mia.run_attacks(inputs, attack_types=[AttackType.LOGISTIC_REGRESSION], seed=11)
    other = mia.run_attacks(inputs, attack_types=[AttackType.LOGISTIC_REGRESSION], seed=12)
    scores = lambda r: r.single_attack_results[0].membership_scores_test  # noqa: E731
    assert np.array_equal(scores(first), scores(again)) and not np.array_equal(scores(first), scores(other))


def test_inputs_are_checked():
    good = outputs(5, 6, 3)
    with pytest.raises(ValueError, match="not both"):
        AttackInputData(**good, logits_train=good["probs_train"], logits_test=good["probs_test"])
    with pytest.raises(ValueError, match="integer"):
        AttackInputData(**{**good, "labels_train": good["labels_train"].astype(float)})
    with pytest.raises(ValueError, match="classes - 1"):
        AttackInputData(**{**good, "labels_test": good["labels_test"] + 3})


def test_plots_have_the_report_layout():
    import matplotlib

    matplotlib.use("Agg")
    results = []
    for epoch in (1, 2):
        metadata = PrivacyReportMetadata(accuracy_train=0.5 + epoch / 10, model_variant_label="m", epoch_num=epoch)
        results.append(mia.run_attacks(AttackInputData(**outputs(30, 40, 2, seed=epoch)), SlicingSpec(True, True),
                                       privacy_report_metadata=metadata))
    data = figure_data(mia_plots.plot_privacy_vs_accuracy(results, [PrivacyMetric.AUC, PrivacyMetric.PPV]))
    assert data["suptitle"] == "Privacy vs Utility Analysis" and data["size"] == (13.0, 5.0)
    titles = ["AUC for Entire dataset", "Positive predictive value for Entire dataset"]
    assert [axis["title"] for axis in data["axes"]] == titles
    assert data["axes"][1]["legend"] == ["m - THRESHOLD_ATTACK"] and data["axes"][0]["lines"][0][0] == [0.6, 0.7]
    with pytest.raises(ValueError, match="epoch_num"):
        mia_plots.plot_by_epochs([dataclasses.replace(results[0], privacy_report_metadata=PrivacyReportMetadata())],
                                 [PrivacyMetric.AUC])


def test_modules_import_without_tensorflow():
    """The attack stage must load where TensorFlow and TF Privacy cannot (and fast where they can)."""
    code = ("import sys, privacy_checks.attack.mia, privacy_checks.attack.mia_attacks, "
            "privacy_checks.report.mia_plots; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'tensorflow_privacy', 'keras'}))")
    root = Path(__file__).resolve().parents[1]
    found = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
