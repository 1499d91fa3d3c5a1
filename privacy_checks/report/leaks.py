"""Which examples leak: the members the strongest attack is surest of, per model.

A verdict says *that* a model leaks more; a reviewer then asks *what* it
leaks. The answer is in the attack's per-example membership scores: the
members it scores highest are the ones the model gives away first
(memorised outliers, mislabelled or rare examples). Read from the strongest
attack the profile runs on the entire dataset at the model's last report
epoch: online LiRA, else offline LiRA, else RMIA (reference models see what
is hard for every model, so their top members are the model's own leaks),
else the threshold attack (the negated loss: the members fitted best).

A report travels (CI artifacts, review threads), and a team's own members may
be private data: images are shown only for the public data sets the plugin
reads itself (scikit-learn's digits, CIFAR-10 and a few other public tfds data
sets); other data shows member indices unless ``--privacy-report-examples=images``
asks for the images, and ``none`` leaves the section out.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from typing import Iterable, Sequence

import numpy as np

from privacy_checks.attack.records import Evaluation
from privacy_checks.spec.sources import dataset_kind, dataset_location, tfds_source

#: What the report shows of the leaking members (``--privacy-report-examples``).
EXAMPLE_MODES: tuple[str, ...] = ("images", "indices", "none")

#: Attacks in the order of their strength; the threshold attack when none of these runs.
STRONGEST_FIRST: tuple[str, ...] = ("lira_online", "lira_offline", "rmia", "threshold")

#: Public data sets as profiles and the data loader name them (``sklearn digits`` is the loaded ``digits``).
PUBLIC_SOURCES: frozenset[str] = frozenset({"digits", "cifar10", "sklearn digits"})

#: Public tfds data sets: a report may show their images wherever it travels.
PUBLIC_TFDS: frozenset[str] = frozenset({"cifar10", "cifar100", "mnist", "fashion_mnist"})

#: How many members each model's list shows.
TOP = 16


def is_public(source: str) -> bool:
    """Whether ``source`` is a public data set the plugin reads itself, as a profile spells it
    (``digits``, ``cifar10``, ``tfds:cifar10@train,test``) or as the loaded data names it
    (``sklearn digits``): an image folder, an ``npz:`` file, a data function or the
    ``pytest_privacy_load_data`` hook may hold a team's private data, whatever it looks like."""
    if source in PUBLIC_SOURCES:
        return True
    if dataset_kind(source) == "tfds" and dataset_location(source):
        try:
            name = tfds_source(source)[0]
        except ValueError:
            return False
        return name.split(":")[0] in PUBLIC_TFDS  # tfds:NAME:VERSION
    return False


def default_mode(source: str) -> str:
    """``images`` for a public data set, ``indices`` for any other."""
    return "images" if is_public(source) else "indices"


def strongest_attack(attacks: Sequence[str]) -> str | None:
    """The strongest of ``attacks`` whose per-example scores the report reads (None: none of them runs)."""
    return next((attack for attack in STRONGEST_FIRST if attack in attacks), None)


@dataclasses.dataclass(frozen=True)
class Leak:
    """One member the attack is sure of: its position among the data set's members, its label, its score."""

    rank: int
    index: int
    label: int
    score: float


@dataclasses.dataclass(frozen=True)
class ModelLeaks:
    """A model's most exposed members under one attack at one epoch."""

    model: str
    epoch: int
    attack: str
    members: tuple[Leak, ...]


def top_members(scores: np.ndarray, labels: np.ndarray, top: int = TOP) -> tuple[Leak, ...]:
    """The ``top`` members with the highest scores (unscored ones, NaN, left out); ties in member order."""
    scores = np.asarray(scores, dtype=np.float64)
    scored = np.flatnonzero(~np.isnan(scores))
    order = scored[np.argsort(-scores[scored], kind="stable")][:top]
    return tuple(
        Leak(rank=rank, index=int(i), label=int(labels[i]), score=float(scores[i]))
        for rank, i in enumerate(order, start=1)
    )


def leaks(evaluations: Iterable[Evaluation], attacks: Sequence[str], models: Sequence[str], top: int = TOP) -> list[ModelLeaks]:
    """Per model (in ``models`` order), its most exposed members under the strongest attack
    that scored them, at its last evaluated epoch."""
    last: dict[str, Evaluation] = {}
    for evaluation in evaluations:
        model = evaluation.snapshot.model
        if model not in last or evaluation.snapshot.epoch > last[model].snapshot.epoch:
            last[model] = evaluation
    found = []
    for model in models:
        if model not in last:
            continue
        evaluation = last[model]
        ranked = [a for a in STRONGEST_FIRST if a in attacks] + [a for a in attacks if a not in STRONGEST_FIRST]
        for attack in ranked:
            scores = evaluation.scores_of_members(attack)
            if scores is not None and len(scores):
                members = top_members(scores, evaluation.snapshot.labels_members, top)
                found.append(ModelLeaks(model, evaluation.snapshot.epoch, attack, members))
                break
    return found


def is_image_shaped(x: np.ndarray) -> bool:
    """Whether the members' features are images: (N, height, width, 1, 3 or 4 channels)."""
    return x.ndim == 4 and x.shape[-1] in (1, 3, 4) and min(x.shape[1:3]) >= 4


def thumbnails(x_members: np.ndarray, indices: Iterable[int]) -> dict[int, str]:
    """PNG data URIs of the chosen members, scaled by the members' common range (so that
    contrast compares across thumbnails); the browser enlarges them, pixels kept sharp."""
    from PIL import Image

    low, high = float(np.min(x_members)), float(np.max(x_members))
    span = high - low or 1.0
    found = {}
    for index in indices:
        pixels = np.clip((np.asarray(x_members[index], np.float64) - low) / span * 255, 0, 255).round()
        pixels = pixels.astype(np.uint8)
        if pixels.shape[-1] == 1:
            pixels = pixels[..., 0]
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", optimize=True)
        found[index] = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return found
