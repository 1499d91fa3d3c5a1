"""What privacy evaluation costs, against the codelab's way and against training.

Run with ``pytest benchmarks/`` (not part of ``pytest`` or ``pytest -m privacy``;
add ``--privacy-dataset=imagefolder:DIR`` for the cifar10-quick rows).
``python benchmarks/ratios.py`` prints the ratios from the JSON that
``pytest benchmarks/ --benchmark-json=benchmarks.json`` writes.

On the same snapshot (a model trained for a few epochs):

* ``tutorial``: the codelab's callback: ``model.predict(batch_size=50)`` on
  members and non-members, softmax, ``mia.run_attacks`` on the entire dataset
  and by class with both attacks (seeded here like the suite, so that the two
  can be compared);
* ``suite``: this package's :func:`fit.take_snapshot` (large-batch
  prediction) and :func:`codelab.evaluate`;
* ``epoch``: one training epoch of the model, the cost evaluation is measured
  against.

Both evaluations must give the same metrics: the suite is only allowed to be
faster, not different.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks.attack.codelab import evaluate, seeded_global_numpy
from privacy_checks.attack.records import short_attack_name, slice_name
from privacy_checks.data import load
from privacy_checks.spec.registry import CIFAR10_QUICK, DIGITS
from privacy_checks.spec.vocabulary import derive_seed
from privacy_checks.train import fit
from privacy_checks.train.models import small_cnn

import codelab  # benchmarks/codelab.py (pytest puts this directory on sys.path)

PROFILES = {"digits": DIGITS, "cifar10-quick": CIFAR10_QUICK}


@pytest.fixture(scope="module", params=sorted(PROFILES))
def setup(request, pytestconfig):
    profile = PROFILES[request.param]
    override = pytestconfig.getoption("privacy_dataset", None)
    if profile.dataset == "cifar10":
        if not override:
            pytest.skip("cifar10-quick needs --privacy-dataset=imagefolder:DIR (or a network)")
        profile = dataclasses.replace(profile, dataset=override)
    data = load.load(profile)
    spec = profile.models[0]
    model = small_cnn(profile.input_shape, profile.num_classes, spec.num_conv, padding=profile.padding)
    model.fit(data.x_members, data.y_members, batch_size=profile.batch_size, epochs=2, verbose=0)
    return profile, data, model


def tutorial_evaluation(profile, data, model):
    """The codelab's PrivacyMetrics.on_epoch_end, with the suite's seeding and float64 softmax."""
    from scipy import special
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        PrivacyReportMetadata,
    )

    logits_train = model.predict(data.x_members, batch_size=profile.batch_size, verbose=0)
    logits_test = model.predict(data.x_non_members, batch_size=profile.batch_size, verbose=0)
    with seeded_global_numpy(derive_seed(profile.seed, "attack", profile.models[0].name, 2)):
        return codelab.attack(
            special.softmax(logits_train.astype(np.float64), axis=1),
            special.softmax(logits_test.astype(np.float64), axis=1),
            data.y_members,
            data.y_non_members,
            PrivacyReportMetadata(epoch_num=2),
        )


def suite_evaluation(profile, data, model):
    snapshot = fit.take_snapshot(model, data, profile.models[0].name, 2)
    return evaluate(snapshot, profile)


def test_tutorial(benchmark, setup):
    benchmark.group = f"{setup[0].name}: evaluation"
    benchmark.pedantic(tutorial_evaluation, args=setup, rounds=3, iterations=1)


def test_suite(benchmark, setup):
    benchmark.group = f"{setup[0].name}: evaluation"
    result = benchmark.pedantic(suite_evaluation, args=setup, rounds=3, iterations=1)
    expected = tutorial_evaluation(*setup)
    ours = sorted((r.attack, r.slice, r.auc, r.attacker_advantage) for r in result.records)
    theirs = sorted(
        (short_attack_name(r.attack_type), slice_name(r.slice_spec), r.get_auc(), r.get_attacker_advantage())
        for r in expected.single_attack_results
    )
    assert [o[:2] for o in ours] == [t[:2] for t in theirs]
    np.testing.assert_allclose([o[2:] for o in ours], [t[2:] for t in theirs], atol=1e-6)


def test_epoch(benchmark, setup):
    profile, data, model = setup
    benchmark.group = f"{profile.name}: one training epoch"
    benchmark.pedantic(
        model.fit,
        args=(data.x_members, data.y_members),
        kwargs={"batch_size": profile.batch_size, "epochs": 1, "verbose": 0},
        rounds=3,
        iterations=1,
    )
