"""Reference models' training sets, their outputs in one order, and the attacks that use them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks.attack.reference_evaluation import evaluate_references
from privacy_checks.data.dataset import Dataset
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.registry import SMOKE
from privacy_checks.spec.vocabulary import ENTIRE_DATASET
from privacy_checks.train import references
from privacy_checks.train.snapshot import Snapshot

STRONG = ("threshold", "lira_offline", "lira_online", "rmia")


def profile(k: int = 4, **changes) -> Profile:
    return dataclasses.replace(
        SMOKE, attacks=STRONG, reference_models={"lira_offline": k, "lira_online": k, "rmia": 2},
        **{"by_class": True, **changes},
    )


def test_every_population_example_is_in_for_exactly_half_of_the_references():
    design = references.design(profile(8), members=30, non_members=70)
    trains_on = design.trains_on
    assert trains_on.shape == (8, 100)
    assert (trains_on.sum(axis=1) == 30).all(), "each reference trains on as many examples as the target"
    population = design.population
    assert len(population) == 60 and len(set(population)) == 60
    assert (population[:30] == np.arange(30)).all() and (population[30:] >= 30).all()
    assert (trains_on[:, population].sum(axis=0) == 4).all()
    outside = np.setdiff1d(np.arange(100), population)
    assert not trains_on[:, outside].any()
    # Pairs split the population in two.
    assert (trains_on[0::2, population] ^ trains_on[1::2, population]).all()


def test_design_is_seeded():
    one = references.design(profile(), 30, 70)
    again = references.design(profile(), 30, 70)
    other = references.design(profile(seed=7), 30, 70)
    assert (one.trains_on == again.trains_on).all()
    assert not (one.trains_on == other.trains_on).all()
    # Attacks using fewer references use the first ones: the same pairs.
    assert (references.design(profile(), 30, 70, references=2).trains_on == one.trains_on[:2]).all()


def test_design_refuses_fewer_non_members_than_members_and_odd_counts():
    with pytest.raises(ValueError, match="only 20 non-members for 30 members"):
        references.design(profile(), 30, 20)
    with pytest.raises(ValueError, match="pairs"):
        references.design(profile(), 30, 70, references=3)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"reference_models": {"rmia": 3}}, "must be an even number"),
        ({"reference_models": {}}, "need reference models"),
        ({"attacks": ("threshold",), "reference_models": {"rmia": 2}}, "not among the attacks"),
        ({"attacks": ("threshold", "lira"), "reference_models": {}}, "unknown attacks"),
    ],
)
def test_profile_refuses_inconsistent_reference_models(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(profile(), **changes)


def test_reference_models_leave_the_fingerprint_of_other_profiles_alone():
    assert "reference_models" not in SMOKE.fingerprint()
    assert profile().fingerprint()["reference_models"] == {"lira_offline": 4, "lira_online": 4, "rmia": 2}
    assert profile().references == 4
    assert profile().tf_privacy_attacks == ("threshold",)


def test_reference_dataset_and_global_logits_round_trip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = np.arange(10) % 2
    dataset = Dataset("t", x[:4], y[:4], x[4:], y[4:], ("a", "b"))
    trains_on = np.zeros(10, bool)
    trains_on[[0, 5, 7, 9]] = True
    ref = references.reference_dataset(dataset, trains_on)
    assert (ref.x_members == x[trains_on]).all() and (ref.y_non_members == y[~trains_on]).all()
    # A "model" whose logits are its inputs: reassembled, they are every example's, in order.
    snapshot = Snapshot("m", 1, ref.x_members, ref.x_non_members, ref.y_members, ref.y_non_members, 0, 0, 0, 0)
    assert (references.global_logits(snapshot, trains_on) == x).all()
    # Indexed side by side (no concatenation), it is the concatenated set indexed, array for array.
    pairs = np.stack([trains_on, ~trains_on])
    whole = np.concatenate([dataset.x_members, dataset.x_non_members]), np.concatenate([dataset.y_members, dataset.y_non_members])
    for k in range(2):
        one, row = references.reference_dataset(dataset, pairs[k]), pairs[k]
        made = {"x_members": whole[0][row], "y_members": whole[1][row], "x_non_members": whole[0][~row], "y_non_members": whole[1][~row]}
        for field, expected in made.items():
            assert np.array_equal(getattr(one, field), expected), field


def test_out_per_pair_takes_the_reference_that_left_the_example_out():
    trains_on = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]], bool)  # two pairs; example 2 outside
    values = np.arange(12).reshape(4, 3)
    out = references.out_per_pair(trains_on, values)
    assert out.tolist() == [[values[1, 0], values[0, 1], values[0, 2]], [values[2, 0], values[3, 1], values[2, 2]]]


def synthetic(leak: float, members: int = 200, non_members: int = 400, k: int = 8, seed: int = 0):
    """Logits where training on an example raises its true-label logit by ``leak``, on top of a
    per-example difficulty that every model shares (what a global threshold cannot remove)."""
    rng = np.random.default_rng(seed)
    prof = profile(k, members=members)
    design = references.design(prof, members, non_members)
    n = members + non_members
    labels = rng.integers(0, 2, n)
    difficulty = rng.normal(0, 2, n)

    def logits(trained: np.ndarray) -> np.ndarray:
        true = difficulty + leak * trained + rng.normal(0, 0.3, n)
        out = np.zeros((n, 2))
        out[np.arange(n), labels] = true
        return out

    target = logits(np.arange(n) < members)
    snapshot = Snapshot(
        "2_layers", 3, target[:members], target[members:], labels[:members], labels[members:], 0, 0, 0, 0
    )
    refs = np.stack([logits(design.trains_on[j]) for j in range(k)])
    return evaluate_references(snapshot, refs, design.trains_on, design.population, prof)


def test_reference_attacks_find_a_leak_hidden_by_example_difficulty_and_see_none_without_one():
    leaky = synthetic(leak=1.5)
    for attack in ("lira_offline", "lira_online", "rmia"):
        record = leaky.record(attack, ENTIRE_DATASET)
        assert record.auc > 0.85, (attack, record.auc)
        assert record.tpr_at_fpr["tpr_at_fpr_0.01"] > 0.3, (attack, record.tpr_at_fpr)
    tight = synthetic(leak=0.0)
    for attack in ("lira_offline", "lira_online", "rmia"):
        assert abs(tight.record(attack, ENTIRE_DATASET).auc - 0.5) < 0.07, attack


def test_reference_records_score_the_stated_examples_on_every_slice():
    evaluation = synthetic(leak=1.0)
    online = evaluation.record("lira_online", ENTIRE_DATASET)
    offline = evaluation.record("rmia", ENTIRE_DATASET)
    assert (online.members, online.non_members) == (200, 200), "online: the population"
    assert (offline.members, offline.non_members) == (200, 400), "offline: every example"
    assert offline.epsilon_lower_bound is not None and evaluation.record("rmia", "class_1").epsilon_lower_bound is None
    class_members = sum(evaluation.record("rmia", f"class_{c}").members for c in (0, 1))
    assert class_members == 200
    assert set(offline.intervals) == {"auc", "attacker_advantage", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01"}
    curve = evaluation.curve(offline)
    assert curve.get_auc() == pytest.approx(offline.auc)
    # The same inputs give the same records (seeded bootstrap and bound).
    assert synthetic(leak=1.0).records == evaluation.records


def test_reference_evaluation_keeps_every_members_score_in_member_order():
    """The report's "which examples leak" reads them: the members the attack is surest of."""
    evaluation = synthetic(leak=1.5)
    for attack in ("lira_offline", "lira_online", "rmia"):
        scores = evaluation.scores_of_members(attack)
        assert scores.shape == (200,) and np.isfinite(scores).all(), attack  # the population holds every member
        # The member scores are the entire-dataset record's: a ROC curve of them against the
        # non-members' reproduces its AUC only if they are the same scores.
        record = evaluation.record(attack, ENTIRE_DATASET)
        assert record.members == len(scores)
    assert evaluation.scores_of_members("threshold") is None
    merged = synthetic(leak=0.0).merged(evaluation)
    assert merged.scores_of_members("rmia") is evaluation.member_scores["rmia"]
    # Training on an example raises its score: the members' scores are not the non-members'.
    assert np.median(evaluation.scores_of_members("lira_offline")) > 0


def test_references_follow_the_member_split_not_the_training_seed():
    """Another training seed (a calibration seed, --privacy-seed) meets the same references: a paired comparison."""
    from privacy_checks.run import cache

    base, other = profile(), profile().with_seed(99)
    assert (references.design(base, 30, 70).trains_on == references.design(other, 30, 70).trains_on).all()
    assert references.reference_profile(base, 1).seed == references.reference_profile(other, 1).seed
    versions = {"tensorflow": "2.15.1"}
    assert cache.key(base, "2_layers", versions, reference=1) == cache.key(other, "2_layers", versions, reference=1)
    assert cache.key(base, "2_layers", versions, reference=1) != cache.key(base, "2_layers", versions, reference=0)
    assert cache.key(base, "2_layers", versions) != cache.key(other, "2_layers", versions)
