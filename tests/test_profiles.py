"""Profiles: validation, the hash that identifies a baseline, and the cases they define."""

from __future__ import annotations

import dataclasses

import pytest

from privacy_checks import profiles
from privacy_checks.profiles import DIGITS, Tolerance
from privacy_checks.session import cases


def test_hash_ignores_tolerances_and_text_but_not_what_is_measured():
    looser = dataclasses.replace(
        DIGITS, description="x", tolerance=Tolerance(0.5, 0.5, 0.5), class_tolerance=Tolerance(0.5, 0.5, 0.5)
    )
    assert looser.hash == DIGITS.hash
    for change in ({"seed": 1}, {"epochs": 201}, {"members": 150}, {"attacks": ("threshold",)}):
        assert dataclasses.replace(DIGITS, **change).hash != DIGITS.hash, change


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"attacks": ("threshold", "laser")}, "unknown attacks ['laser']"),
        ({"report_epochs": (0, 5)}, "must lie in 1..200"),
        ({"report_epochs": (50, 10)}, "strictly increasing"),
    ],
)
def test_invalid_profiles_are_rejected_with_the_reason(change, problem):
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        dataclasses.replace(DIGITS, **change)


def test_unknown_profile_lists_the_valid_ones():
    with pytest.raises(KeyError, match="choose one of: cifar10, cifar10-quick, digits, smoke"):
        profiles.get_profile("mnist")


def test_digits_defines_one_case_per_model_epoch_attack_and_slice_and_dp_guarantee():
    all_cases = cases(DIGITS)
    epochs = len(DIGITS.report_epochs)
    # 3 models x epochs x 2 attacks x 11 slices, and the DP model's 2 guarantees per epoch and attack
    assert len(all_cases) == 3 * epochs * 2 * 11 + epochs * 2 * 2
    assert len({c.id for c in all_cases}) == len({c.key for c in all_cases}) == len(all_cases)
    assert all_cases[0].id == "2_layers-epoch10-threshold-entire_dataset"
    ids = {c.id for c in all_cases}
    assert "3_layers-epoch200-logistic_regression-class_9" in ids
    assert "dp_2_layers-epoch200-threshold-epsilon_bound" in ids
    assert "dp_2_layers-epoch10-logistic_regression-auc_vs_non_private" in ids


def test_committed_baselines_match_their_profiles_hash():
    """Adding fields to profiles must not silently invalidate recorded baselines."""
    import json
    from pathlib import Path

    checked = 0
    for path in sorted(Path(__file__).parent.parent.joinpath("baselines").glob("*/*.json")):
        stored = json.loads(path.read_text())
        profile = profiles.get_profile(stored["profile"])
        if stored["data_source"].startswith("imagefolder:"):
            profile = dataclasses.replace(profile, dataset="imagefolder:anywhere")
        assert stored["profile_hash"] == profile.hash, path
        checked += 1
    assert checked >= 6


def test_cifar10_profile_is_the_codelab():
    cifar = profiles.CIFAR10
    assert (cifar.epochs, cifar.batch_size, cifar.learning_rate, cifar.padding) == (50, 50, 1e-3, "valid")
    assert cifar.report_epochs == tuple(range(2, 51, 2))
    assert [m.num_conv for m in cifar.models] == [2, 3]


def test_derived_seeds_are_stable_and_distinct():
    assert profiles.derive_seed(1, "train", "2_layers") == profiles.derive_seed(1, "train", "2_layers")
    assert profiles.derive_seed(1, "train", "2_layers") != profiles.derive_seed(1, "train", "3_layers")
