"""Reference models: which examples each one trains on, and their outputs on every example.

LiRA and RMIA (:mod:`privacy_checks.attack.lira`, :mod:`~privacy_checks.attack.rmia`) judge an example by
how the model under test treats it compared with models trained the same way
*with* and *without* it. This module decides the reference models' training
sets and puts their outputs into one order, so that the attacks see plain
arrays:

* **The population** is the members and as many non-members, drawn seeded
  and stratified by nothing (a uniform draw): twice the member set. A
  reference trains on a random half of it, so on exactly as many examples as
  the model under test, with the same recipe (builder, optimizer, epochs,
  batch size, DP-SGD): references match the target's training regime, and
  a DP model's member count stays a multiple of its batch size.
* **Complementary pairs**: references 2j and 2j+1 train on the two halves of
  one random split. Every population example is then IN for exactly K/2
  references and OUT for the other K/2, which online LiRA needs (its IN and
  OUT fits), and no example's estimate rests on a lucky draw.
* **Every example**: the references' outputs are kept on all members and all
  non-members, in one global order (members first, then non-members, as the
  data set holds them). A non-member outside the population is OUT for every
  reference; the offline attacks use the first reference of each pair for
  it (:func:`out_per_pair`), so that every example is judged against the
  same number, K/2, of references that did not train on it, and the offline
  attacks score the same examples as TF Privacy's (all members, all
  non-members). Online LiRA needs IN references too, so it scores the
  population only.

Seeds: the population, each pair's split and each reference's training
derive from the seed of the member split (:attr:`Profile.data_seed`), the
pair or reference index and, for training, the model. References are part of
the measuring instrument, like the member split: another training seed of
the model under test (``--privacy-seed``, a calibration seed) meets the same
references, so the run and its baseline are compared through the same
references (a paired comparison) and calibration trains them once, not once
per seed. On ``digits`` with RMIA and two references, references retrained
per seed made the seed-to-seed sd of RMIA's AUC about 0.045 on the 2-layer
model, five times the threshold attack's; with them fixed it is 0.006-0.016,
as low as the threshold attack's.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from privacy_checks.data.dataset import Dataset
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import derive_seed
from privacy_checks.train.snapshot import Snapshot


@dataclasses.dataclass(frozen=True)
class Design:
    """Which examples each reference model trains on, over the global order (members, then non-members)."""

    #: Members of the model under test.
    members: int
    #: Global indices of the population: every member, then the drawn non-members.
    population: np.ndarray
    #: ``trains_on[k, n]``: reference k trains on example n. Shape (K, members + non-members).
    trains_on: np.ndarray

    @property
    def references(self) -> int:
        return len(self.trains_on)

    @property
    def examples(self) -> int:
        return self.trains_on.shape[1]


def design(profile: Profile, members: int, non_members: int, references: int | None = None) -> Design:
    """The population and each reference's training half, seeded by the profile's seed."""
    references = profile.references if references is None else references
    if references % 2:
        raise ValueError(f"reference models come in pairs, got {references}")
    if non_members < members:
        raise ValueError(
            f"reference models train on half of members + as many non-members, but there are "
            f"only {non_members} non-members for {members} members: give the profile at least "
            "as many non-members as members, or use attacks without reference models"
        )
    draw = np.random.default_rng(derive_seed(profile.data_seed, "population"))
    drawn = np.sort(draw.choice(non_members, size=members, replace=False)) + members
    population = np.concatenate([np.arange(members), drawn])
    trains_on = np.zeros((references, members + non_members), dtype=bool)
    for pair in range(references // 2):
        split = np.random.default_rng(derive_seed(profile.data_seed, "reference split", pair))
        half = np.zeros(len(population), dtype=bool)
        half[split.choice(len(population), size=members, replace=False)] = True
        trains_on[2 * pair, population[half]] = True
        trains_on[2 * pair + 1, population[~half]] = True
    return Design(members, population, trains_on)


def reference_profile(profile: Profile, k: int) -> Profile:
    """The profile reference ``k`` trains under: the same recipe, its own seed (initialisation, batch order),
    derived from the member split's seed, not the run's."""
    return dataclasses.replace(profile, seed=derive_seed(profile.data_seed, "reference", k), split_seed=profile.data_seed)


def reference_dataset(dataset: Dataset, trains_on: np.ndarray) -> Dataset:
    """Reference k's training set (``trains_on``: its row of :attr:`Design.trains_on`) as members,
    every other example as non-members, global order kept within each. Indexed from the two sides
    without concatenating them first, so each example is copied once (on CIFAR-10, 737 MB less than
    concatenating first), in this process or in a task's worker."""
    members = len(dataset.y_members)
    row_m, row_n = trains_on[:members], trains_on[members:]

    def side(m: np.ndarray, n: np.ndarray, keep_m: np.ndarray, keep_n: np.ndarray) -> np.ndarray:
        return np.concatenate([m[keep_m], n[keep_n]])

    return dataclasses.replace(
        dataset,
        x_members=side(dataset.x_members, dataset.x_non_members, row_m, row_n),
        y_members=side(dataset.y_members, dataset.y_non_members, row_m, row_n),
        x_non_members=side(dataset.x_members, dataset.x_non_members, ~row_m, ~row_n),
        y_non_members=side(dataset.y_members, dataset.y_non_members, ~row_m, ~row_n),
    )


def global_logits(snapshot: Snapshot, trains_on: np.ndarray) -> np.ndarray:
    """A reference's snapshot as logits of every example in the global order."""
    logits = np.empty((len(trains_on), snapshot.logits_members.shape[1]), snapshot.logits_members.dtype)
    logits[trains_on] = snapshot.logits_members
    logits[~trains_on] = snapshot.logits_non_members
    return logits


def out_per_pair(trains_on: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For every example, the values of the reference of each pair that did *not* train on it: (K/2, N).

    ``values`` is (K, N, ...) in reference order. A population example is OUT
    for exactly one reference of each pair; an example outside the
    population for both, and gets the first one's.
    """
    first_in = trains_on[0::2]
    return np.where(
        first_in.reshape(first_in.shape + (1,) * (values.ndim - 2)), values[1::2], values[0::2]
    )
