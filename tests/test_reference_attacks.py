"""Statistics of the reference-model attacks, checked against TF Privacy's advanced_mia."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.special import softmax

from privacy_checks import reference_attacks as ra

advanced_mia = pytest.importorskip(
    "tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.advanced_mia"
)


# ------------------------------------------------------------ scaled_logit


def test_scaled_logit_is_the_log_odds_of_the_true_class():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 3, (50, 5)), rng.integers(0, 5, 50)
    p = softmax(logits, axis=1)
    p_true = p[np.arange(50), labels]
    expected = np.log(p_true) - np.log(p.sum(axis=1) - p_true)
    np.testing.assert_allclose(ra.scaled_logit(logits, labels), expected, rtol=1e-10, atol=1e-10)


def test_scaled_logit_stacks_reference_models_and_leaves_its_input_alone():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(0, 3, (4, 30, 3)), rng.integers(0, 3, 30)
    before = logits.copy()
    stacked = ra.scaled_logit(logits, labels)
    assert stacked.shape == (4, 30)
    np.testing.assert_array_equal(stacked[2], ra.scaled_logit(logits[2], labels))
    np.testing.assert_array_equal(logits, before)


def test_scaled_logit_is_finite_and_exact_for_extreme_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [1000.0, 1000.0, 0.0]])
    found = ra.scaled_logit(logits, np.array([0, 0, 0]))
    # z_y − logsumexp(others): 1000 − 0, −1000 − 1000, 1000 − (1000 + log(1 + e^-1000)).
    np.testing.assert_allclose(found, [1000.0, -2000.0, 0.0], atol=1e-12)


def test_scaled_logit_equals_tf_privacy_calculate_statistic_logit():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(0, 4, (200, 10)), rng.integers(0, 10, 200)
    # calculate_statistic writes zeros into the array it is given: pass a copy.
    theirs = advanced_mia.calculate_statistic(logits.copy(), labels, is_logits=True, option="logit")
    np.testing.assert_allclose(ra.scaled_logit(logits, labels), theirs, rtol=1e-9, atol=1e-9)


def test_scaled_logit_rejects_what_it_cannot_score():
    with pytest.raises(ValueError, match="finite"):
        ra.scaled_logit(np.array([[np.inf, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="labels"):
        ra.scaled_logit(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="2 classes"):
        ra.scaled_logit(np.zeros((2, 1)), np.array([0, 0]))


def test_true_label_probability_is_the_softmax_of_the_label():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(0, 3, (40, 4)), rng.integers(0, 4, 40)
    expected = softmax(logits / 2.0, axis=1)[np.arange(40), labels]
    np.testing.assert_allclose(ra.true_label_probability(logits, labels, temperature=2.0), expected, rtol=1e-12)


def test_the_module_imports_without_tensorflow():
    code = (
        "import sys, privacy_checks.reference_attacks; "
        "heavy = ('tensorflow', 'tensorflow_privacy', 'keras'); "
        "sys.exit(any(m.split('.')[0] in heavy for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
