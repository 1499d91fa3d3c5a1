"""Attacks are reproducible: same snapshot and seed, same records, whatever the global RNG."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks.attack import codelab
from privacy_checks.spec.registry import SMOKE
from privacy_checks.train.snapshot import Snapshot

PROFILE = dataclasses.replace(SMOKE, by_class=True, num_classes=3)


def leaky_snapshot(epoch: int = 1) -> Snapshot:
    """Members get confident, correct logits; non-members noisier ones: a real signal."""
    rng = np.random.default_rng(0)
    labels_in = rng.integers(0, 3, 120)
    labels_out = rng.integers(0, 3, 300)
    logits_in = rng.normal(size=(120, 3)) + 3.0 * np.eye(3)[labels_in]
    logits_out = rng.normal(size=(300, 3)) * 1.5 + 1.0 * np.eye(3)[labels_out]
    return Snapshot(
        model="2_layers",
        epoch=epoch,
        logits_members=logits_in.astype(np.float32),
        logits_non_members=logits_out.astype(np.float32),
        labels_members=labels_in,
        labels_non_members=labels_out,
        train_accuracy=0.9,
        test_accuracy=0.7,
        train_loss=0.3,
        test_loss=0.9,
    )


@pytest.fixture(scope="module")
def first_evaluation():
    np.random.seed(1)
    return codelab.evaluate(leaky_snapshot(), PROFILE)


def test_same_inputs_and_seed_give_identical_records(first_evaluation):
    np.random.seed(2)  # another global state must not matter
    np.random.random(17)
    again = codelab.evaluate(leaky_snapshot(), PROFILE)
    assert again.records == first_evaluation.records


def test_records_cover_every_attack_and_slice(first_evaluation):
    keys = {(r.attack, r.slice) for r in first_evaluation.records}
    assert keys == {(a, s) for a in PROFILE.attacks for s in PROFILE.slices}
    entire = first_evaluation.record("threshold", "entire_dataset")
    assert (entire.members, entire.non_members) == (120, 300)
    assert entire.auc > 0.6  # the snapshot leaks, and the attack sees it


def test_seed_is_part_of_the_result():
    """The logistic-regression attack is random: another profile seed gives other numbers."""
    reseeded = dataclasses.replace(PROFILE, seed=PROFILE.seed + 1)
    a = codelab.evaluate(leaky_snapshot(), PROFILE).record("logistic_regression", "entire_dataset")
    b = codelab.evaluate(leaky_snapshot(), reseeded).record("logistic_regression", "entire_dataset")
    assert a.auc != b.auc


def test_callers_global_rng_is_restored():
    np.random.seed(5)
    expected = np.random.random(3)
    np.random.seed(5)
    codelab.evaluate(leaky_snapshot(), PROFILE)
    assert np.array_equal(np.random.random(3), expected)


def test_metadata_feeds_the_privacy_report(first_evaluation):
    metadata = first_evaluation.results.privacy_report_metadata
    assert (metadata.epoch_num, metadata.model_variant_label) == (1, "2 Layers")
    assert (metadata.accuracy_train, metadata.accuracy_test) == (0.9, 0.7)


def test_attacks_run_on_one_blas_thread_without_changing_a_number(monkeypatch):
    """The BLAS limit that stops oversubscription leaves the trained attacker's scores as they were."""
    import contextlib

    from threadpoolctl import threadpool_info, threadpool_limits

    with codelab.one_blas_thread():
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
    limited = codelab.evaluate(leaky_snapshot(), PROFILE)
    monkeypatch.setattr(codelab, "one_blas_thread", contextlib.nullcontext)
    with threadpool_limits(limits=2):
        several = codelab.evaluate(leaky_snapshot(), PROFILE)
    for a, b in zip(limited.results.single_attack_results, several.results.single_attack_results):
        assert np.array_equal(a.membership_scores_train, b.membership_scores_train)
        assert np.array_equal(a.membership_scores_test, b.membership_scores_test)
