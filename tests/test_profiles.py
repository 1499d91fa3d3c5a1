"""Profiles: validation, the hash that identifies a baseline, and the cases they define."""

from __future__ import annotations

import dataclasses

import pytest

from privacy_checks.spec import registry, vocabulary
from privacy_checks.spec.cases import cases
from privacy_checks.spec.fingerprint import fingerprint_changes
from privacy_checks.spec.model_spec import ModelSpec, Tolerance
from privacy_checks.spec.registry import DIGITS, DP_2_LAYERS, SMOKE


def test_hash_ignores_tolerances_and_text_but_not_what_is_measured():
    looser = dataclasses.replace(
        DIGITS, description="x", tolerance=Tolerance(0.5, 0.5, 0.5), class_tolerance=Tolerance(0.5, 0.5, 0.5)
    )
    assert looser.hash == DIGITS.hash
    for change in (
        {"seed": 1}, {"epochs": 201, "report_epochs": (10, 25, 50, 100, 150, 201)}, {"members": 150},
        {"attacks": ("threshold",), "reference_models": {}}, {"reference_models": {"rmia": 4}},
    ):
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


def test_the_last_report_epoch_must_be_the_last_epoch():
    """The model that training produces, the one a team ships, is always attacked."""
    with pytest.raises(ValueError) as raised:
        dataclasses.replace(SMOKE, name="long", epochs=400, report_epochs=(20, 50, 100))
    assert str(raised.value) == (
        "profile 'long': report_epochs [20, 50, 100] end before the last epoch 400: the model training "
        "produces would never be attacked. Add 400 to report_epochs (report_epochs = [20, 50, 100, 400]) "
        "or set epochs = 100."
    )
    dataclasses.replace(SMOKE, name="long", epochs=400, report_epochs=(20, 50, 100, 400))  # fine


@pytest.mark.parametrize("profile", sorted(registry.PROFILES.values(), key=lambda p: p.name), ids=lambda p: p.name)
def test_every_built_in_profile_attacks_its_final_model(profile):
    assert profile.report_epochs[-1] == profile.epochs


def test_unknown_profile_lists_the_valid_ones():
    with pytest.raises(KeyError, match="choose one of: cifar10, cifar10-quick, cifar10-quick-strong, digits, digits-strong, smoke"):
        registry.get_profile("mnist")


def test_digits_defines_one_case_per_model_epoch_attack_and_slice_and_dp_guarantee():
    all_cases = cases(DIGITS)
    epochs = len(DIGITS.report_epochs)
    # 3 models x epochs x 3 attacks x 11 slices, the DP model's 2 guarantees per epoch and attack,
    # its accountant's epsilon per epoch, and its step's conformance once
    assert len(all_cases) == 3 * epochs * 3 * 11 + epochs * 3 * 2 + epochs + 1
    assert len({c.id for c in all_cases}) == len({(c.key, c.check) for c in all_cases}) == len(all_cases)
    assert all_cases[0].id == "2_layers-epoch10-threshold-entire_dataset"
    ids = {c.id for c in all_cases}
    assert "3_layers-epoch200-logistic_regression-class_9" in ids
    assert "dp_2_layers-epoch200-threshold-epsilon_bound" in ids
    assert "dp_2_layers-epoch10-logistic_regression-auc_vs_non_private" in ids
    assert "2_layers-epoch200-rmia-class_3" in ids and "dp_2_layers-epoch200-rmia-epsilon_bound" in ids
    assert "dp_2_layers-epoch200-accountant_epsilon" in ids
    assert "dp_2_layers-epoch200-dp_conformance" in ids


def test_committed_baselines_match_their_profiles_hash():
    """Adding fields to profiles must not silently invalidate recorded baselines."""
    import json
    from pathlib import Path

    checked = 0
    for path in sorted(Path(__file__).parent.parent.joinpath("baselines").glob("*/*.json")):
        stored = json.loads(path.read_text())
        profile = registry.get_profile(stored["profile"])
        if stored["data_source"].startswith("imagefolder:"):
            profile = dataclasses.replace(profile, dataset="imagefolder:anywhere")
        assert stored["profile_hash"] == profile.hash, path
        checked += 1
    assert checked >= 6


def test_cifar10_profile_is_the_codelab():
    cifar = registry.CIFAR10
    assert (cifar.epochs, cifar.batch_size, cifar.learning_rate, cifar.padding) == (50, 50, 1e-3, "valid")
    assert cifar.report_epochs == tuple(range(2, 51, 2))
    assert [m.num_conv for m in cifar.models] == [2, 3]


def test_derived_seeds_are_stable_and_distinct():
    assert vocabulary.derive_seed(1, "train", "2_layers") == vocabulary.derive_seed(1, "train", "2_layers")
    assert vocabulary.derive_seed(1, "train", "2_layers") != vocabulary.derive_seed(1, "train", "3_layers")


def test_tensorflow_threads_are_part_of_a_profile_but_not_of_old_hashes():
    """2 and 2 (what every committed baseline was made with) keep the hash; others change it."""
    from privacy_checks.spec.fingerprint import fingerprint_changes

    assert "intra_op_threads" not in DIGITS.fingerprint()
    single = dataclasses.replace(DIGITS, intra_op_threads=1, inter_op_threads=1)
    assert single.hash != DIGITS.hash
    assert fingerprint_changes(DIGITS.fingerprint(), single.fingerprint()) == [
        "inter_op_threads 2 -> 1",
        "intra_op_threads 2 -> 1",
    ]
    with pytest.raises(ValueError, match="intra_op_threads must be a positive integer"):
        dataclasses.replace(DIGITS, intra_op_threads=0)


def test_a_process_running_tensorflow_with_other_threads_refuses_to_train():
    """The test session fixed 2 and 2 before TensorFlow started; a 1-thread profile cannot switch."""
    import tensorflow as tf

    from privacy_checks.train.fit import configure_threads

    tf.zeros(1).numpy()  # TensorFlow's runtime has started
    configure_threads(SMOKE)  # the same counts: fine
    with pytest.raises(RuntimeError, match="trains with 1 intra-op and 1 inter-op TensorFlow threads"):
        configure_threads(dataclasses.replace(SMOKE, intra_op_threads=1, inter_op_threads=1))


def test_profiles_reject_bad_fprs():
    import dataclasses

    with pytest.raises(ValueError, match=r"fpr 1.5 must lie in \(0, 1\)"):
        dataclasses.replace(SMOKE, fprs=(1.5,))
    with pytest.raises(ValueError, match="repeat a value"):
        dataclasses.replace(SMOKE, fprs=(0.01, 0.01))


def test_fingerprint_changes_name_fields_and_models():
    import dataclasses

    from privacy_checks.judge.power import fewer_members, wider

    old = DIGITS.fingerprint()
    assert fingerprint_changes(old, old) == []
    assert fingerprint_changes(old, fewer_members(DIGITS).fingerprint()) == ["members 200 -> 50"]
    changed = fingerprint_changes(old, wider(DIGITS).fingerprint())
    assert "2_layers.filters unset -> 128" in changed and "3_layers.dense_units unset -> 256" in changed
    fewer_models = dataclasses.replace(DIGITS, models=DIGITS.models[:1])
    assert fingerprint_changes(old, fewer_models.fingerprint()) == [
        "model 3_layers removed",
        "model dp_2_layers removed",
    ]


def test_another_seed_keeps_the_members_and_changes_training():
    """Baseline and reseeded run must measure the same examples (evaluation noise cancels)."""
    import numpy as np

    from privacy_checks.data import load
    from privacy_checks.spec.vocabulary import derive_seed

    reseeded = DIGITS.with_seed(2001)
    assert reseeded.data_seed == DIGITS.seed and reseeded.seed == 2001
    a, b = load.load(DIGITS), load.load(reseeded)
    assert np.array_equal(a.x_members, b.x_members) and np.array_equal(a.y_non_members, b.y_non_members)
    assert derive_seed(reseeded.seed, "train", "2_layers") != derive_seed(DIGITS.seed, "train", "2_layers")


def test_replace_redefines_a_projects_profile_but_never_a_built_in():
    import dataclasses

    from privacy_checks.spec.registry import PROFILES, register_profile

    before = dict(PROFILES)
    try:
        mine = register_profile(dataclasses.replace(SMOKE, name="mine"))
        with pytest.raises(ValueError, match="pass replace=True"):
            register_profile(dataclasses.replace(mine, epochs=2, report_epochs=(1, 2)))
        changed = register_profile(dataclasses.replace(mine, epochs=2, report_epochs=(1, 2)), replace=True)
        assert PROFILES["mine"] == changed
        with pytest.raises(ValueError, match="built-in profiles cannot be redefined"):
            register_profile(dataclasses.replace(SMOKE, epochs=2, report_epochs=(1, 2)), replace=True)
    finally:
        PROFILES.clear()
        PROFILES.update(before)


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"members": 210}, "members (210) must be a multiple of batch_size (50), or the last batch cannot be "
                           "split into one microbatch per example: set members = 200 or 250, or batch_size = 42, 35 or 30."),
        ({"models": (dataclasses.replace(DP_2_LAYERS, compare_to="4_layers"),)}, "compare_to '4_layers' is not another model"),
        ({"models": (ModelSpec("a", "A", 2, compare_to="a"),)}, "compare_to is for DP models"),
        (
            {"models": (dataclasses.replace(DP_2_LAYERS, dp=dataclasses.replace(DP_2_LAYERS.dp, noise_multiplier=0.0)),)},
            "noise_multiplier must be > 0",
        ),
    ],
)
def test_invalid_dp_settings_are_rejected(change, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(DIGITS, **change)


def test_profiles_without_dp_keep_their_hash_fields():
    assert all(set(m) == {"name", "label", "num_conv", "activation"} for m in SMOKE.fingerprint()["models"])
    assert "dp" in DIGITS.fingerprint()["models"][2]


def test_projects_register_their_own_profiles(monkeypatch):
    monkeypatch.setattr(registry, "PROFILES", dict(registry.PROFILES))
    mine = dataclasses.replace(SMOKE, name="mine")
    assert registry.register_profile(mine) is mine
    assert registry.get_profile("mine") is mine
    registry.register_profile(mine)  # a conftest imported twice
    with pytest.raises(ValueError, match="a different profile named 'smoke' is already registered"):
        registry.register_profile(dataclasses.replace(SMOKE, epochs=4, report_epochs=(1, 4)))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"models": (dataclasses.replace(SMOKE.models[0], name="../evil"),)}, "used in file names"),
        ({"name": "my profile"}, "used in file names"),
        ({"dataset": "mnist"}, "unknown dataset 'mnist'"),
    ],
)
def test_names_from_profiles_are_validated(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMOKE, **change)


@pytest.mark.parametrize(
    "members, batch_size, pool, fixes",
    [
        (90, 50, 90, "set members = 50, or batch_size = 45, 30 or 18"),
        (110, 50, None, "set members = 100 or 150, or batch_size = 22, 11 or 10"),
        (30, 50, 30, "set batch_size = 30, 15 or 10"),  # no whole batch of 50 in the pool
        (97, 50, 97, "set members = 50, or batch_size = 1"),  # a prime: one example per batch, or fewer members
    ],
)
def test_dp_batch_fixes_name_counts_that_fill_whole_batches(members, batch_size, pool, fixes):
    from privacy_checks.spec import batching

    assert batching.fixes(members, batch_size, pool) == fixes
