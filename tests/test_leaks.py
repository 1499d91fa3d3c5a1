"""report/leaks.py: which members the strongest attack is surest of, and whether the report may show them."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from privacy_checks.report import leaks


def test_top_members_are_the_highest_scores_unscored_left_out_ties_in_member_order():
    scores = np.array([0.1, 0.9, np.nan, 0.5, 0.9, 0.7])
    labels = np.array([0, 1, 2, 3, 4, 5])
    found = leaks.top_members(scores, labels, top=4)
    assert [(m.rank, m.index, m.label, m.score) for m in found] == [
        (1, 1, 1, 0.9), (2, 4, 4, 0.9), (3, 5, 5, 0.7), (4, 3, 3, 0.5),
    ]
    assert len(leaks.top_members(scores, labels, top=10)) == 5


@pytest.mark.parametrize(
    "attacks, strongest",
    [
        (("threshold", "logistic_regression", "rmia"), "rmia"),
        (("threshold", "logistic_regression", "lira_offline", "lira_online", "rmia"), "lira_online"),
        (("lira_offline", "rmia"), "lira_offline"),
        (("threshold", "logistic_regression"), "threshold"),
        (("logistic_regression",), None),
    ],
)
def test_the_strongest_attack_is_online_lira_then_offline_then_rmia_then_threshold(attacks, strongest):
    assert leaks.strongest_attack(attacks) == strongest


@pytest.mark.parametrize(
    "source, public",
    [
        ("digits", True), ("sklearn digits", True), ("cifar10", True), ("tfds:cifar10", True), ("tfds:cifar10@train,test", True),
        ("tfds:mnist:3.0.1", True), ("imagefolder:/data/cifar10", False), ("npz:members.npz", False),
        ("function:team.data:load", False), ("pytest_privacy_load_data", False), ("tfds:team_photos", False),
        ("tfds:", False),
    ],
)
def test_only_public_data_sets_show_images_by_default(source, public):
    assert leaks.is_public(source) is public
    assert leaks.default_mode(source) == ("images" if public else "indices")


def test_leaks_read_the_threshold_attacks_scores_in_member_order():
    """TF Privacy's threshold attack scores a member by its negated loss: the members it is surest
    of are those the model fits best, and their indices are positions among the members."""
    from test_attacks import PROFILE, leaky_snapshot
    from scipy import special

    from privacy_checks.attack.codelab import evaluate

    snapshot = leaky_snapshot()
    evaluation = evaluate(snapshot, PROFILE)
    found = leaks.leaks([evaluation], PROFILE.attacks, ["2_layers"], top=5)
    assert [(f.model, f.epoch, f.attack) for f in found] == [("2_layers", 1, "threshold")]
    probabilities = special.softmax(snapshot.logits_members.astype(np.float64), axis=1)
    loss = -np.log(probabilities[np.arange(len(snapshot.labels_members)), snapshot.labels_members])
    expected = np.argsort(loss, kind="stable")[:5]
    assert [m.index for m in found[0].members] == expected.tolist()
    assert [m.label for m in found[0].members] == snapshot.labels_members[expected].tolist()
    assert found[0].members[0].score == pytest.approx(-loss[expected[0]])


def test_leaks_prefer_a_reference_attack_and_the_last_epoch():
    from test_attacks import PROFILE, leaky_snapshot

    from privacy_checks.attack.codelab import evaluate

    early, late = evaluate(leaky_snapshot(1), PROFILE), evaluate(leaky_snapshot(3), PROFILE)
    scores = np.arange(120, dtype=float)
    late = late.merged(type(late)(late.snapshot, (), None, {}, {"rmia": scores}))
    found = leaks.leaks([early, late], ("threshold", "rmia"), ["2_layers", "absent"], top=3)
    assert [(f.model, f.epoch, f.attack) for f in found] == [("2_layers", 3, "rmia")]
    assert [m.index for m in found[0].members] == [119, 118, 117]


def test_thumbnails_are_pngs_of_the_members_scaled_by_their_common_range():
    from PIL import Image

    x = np.zeros((3, 8, 8, 1), np.float32)
    x[1] = 0.5
    x[2] = 1.0
    uris = leaks.thumbnails(x, [1, 2])
    assert set(uris) == {1, 2}
    image = Image.open(io.BytesIO(base64.b64decode(uris[1].removeprefix("data:image/png;base64,"))))
    assert image.size == (8, 8) and image.mode == "L"
    assert np.asarray(image).max() == 128  # 0.5 of the members' range [0, 1]
    rgb = leaks.thumbnails(np.random.default_rng(0).random((2, 32, 32, 3)), [0])
    assert Image.open(io.BytesIO(base64.b64decode(rgb[0].split(",", 1)[1]))).mode == "RGB"
    assert leaks.thumbnails(x, [1]) == {1: uris[1]}, "the same bytes every time"


@pytest.mark.parametrize(
    "shape, images", [((5, 8, 8, 1), True), ((5, 32, 32, 3), True), ((5, 13), False), ((5, 8, 8, 7), False), ((5, 2, 2, 1), False)]
)
def test_only_image_shaped_members_are_drawn(shape, images):
    assert leaks.is_image_shaped(np.zeros(shape)) is images
