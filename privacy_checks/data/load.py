"""Members and non-members as arrays, from real data sets or a team's own, checked before any training.

Members are the examples a model is trained on; non-members are held out.
Membership inference asks whether an attacker can tell the two apart from the
model's outputs. Sources (a profile's ``dataset``, or ``--privacy-dataset``):

* ``digits`` - scikit-learn's 8x8 digits, shipped with scikit-learn: real and
  offline, the embedded default. A small stratified member set is drawn with
  the profile's data seed; every other image is a non-member.
* ``cifar10`` - tensorflow-datasets' ``cifar10`` (train split = members, test
  split = non-members), as in TF Privacy's codelab. Downloads where a network
  exists.
* ``imagefolder:<path>`` - ``tfds.folder_dataset.ImageFolder`` layout,
  ``<path>/train/<class>/*`` and ``<path>/test/<class>/*``.
* ``tfds:<name>`` or ``tfds:<name>@<member split>,<non-member split>`` - any
  tensorflow-datasets data set with supervised keys (``train`` and ``test``
  unless named), read from ``--privacy-data-dir`` or downloaded. The name may
  carry a version (``tfds:mnist:3.0.1``).
* ``npz:<file>`` - a NumPy ``.npz`` with arrays ``x_members``, ``y_members``,
  ``x_non_members``, ``y_non_members`` and optionally ``class_names``; read
  without pickle.
* ``function:<package.module:function>`` - a function of the project, called
  without arguments, returning those arrays as a mapping with the same keys or
  as a tuple ``(x_members, y_members, x_non_members, y_non_members)``.

Images of the image sources (8-bit) are scaled to [0, 1]; a team's own arrays
(``npz:``, ``function:``) are used as given, as float32 features of any shape
(tabular rows, sequences, images) and int64 labels. For every source the
profile's ``members`` draws a stratified subset of the member pool with its
data seed, and :func:`~privacy_checks.data.validate.validate` checks the result against the profile before
any model is built, so a wrong shape or label fails in seconds with the
profile key to fix instead of minutes into training.

No hand-written downloaders or decoders: everything goes through scikit-learn,
tfds or NumPy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from privacy_checks.data.arrays import from_returned
from privacy_checks.data.dataset import Dataset, member_rows
from privacy_checks.data.sources import read_source
from privacy_checks.data.validate import check_arrays, validate
from privacy_checks.spec import dotted
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.sources import dataset_kind, dataset_location


#: The ``pytest_privacy_load_data`` hook: members and non-members for (profile, data_dir), or None.
LoadData = Callable[[Profile, "str | None"], Any]


def load(profile: Profile, *, data_dir: str | None = None, hook: LoadData | None = None) -> Dataset:
    """Loads the profile's data source (or what ``hook`` returns instead), draws its member set,
    and checks it (:func:`validate`)."""
    returned = None if hook is None else hook(profile, data_dir)
    if returned is None:
        pool, images = read_source(profile, data_dir)
    else:
        pool, images = from_returned(returned, "pytest_privacy_load_data", "pytest_privacy_load_data", profile), False
    check_arrays(pool, profile)  # before drawing members: stratifying needs sound labels
    pool = dataclasses.replace(
        pool, y_members=pool.y_members.astype(np.int64), y_non_members=pool.y_non_members.astype(np.int64)
    )
    dataset = _subsample_members(pool, profile.members, profile.data_seed, profile)
    dataset = _float32(_scaled(dataset) if images else dataset)
    validate(dataset, profile)
    return dataset


def source_files(dataset: str) -> tuple[Path, ...]:
    """The user's files whose content decides the data (for the cache key), without running them.

    The data function's module file, or the ``.npz`` file (as written: a
    relative path is resolved by the caller, like the location itself). Built-in
    sources, image folders and tfds data sets have none: their data is
    described by the source string the baselines record.
    """
    kind, where = dataset_kind(dataset), dataset_location(dataset)
    if kind == "npz" and where:
        return (Path(where),)
    if kind == "function" and where:
        found = dotted.module_file(where)
        return () if found is None else (found,)
    return ()


def _scaled(dataset: Dataset) -> Dataset:
    """8-bit images to floats in [0, 1]; digits are scaled when read."""
    if dataset.x_members.dtype != np.uint8:
        return dataset
    return dataclasses.replace(
        dataset,
        x_members=dataset.x_members.astype(np.float32) / 255.0,
        x_non_members=dataset.x_non_members.astype(np.float32) / 255.0,
    )


def _float32(dataset: Dataset) -> Dataset:
    """Features as the models take them; float32 arrays are kept as they are (no copy)."""
    return dataclasses.replace(
        dataset,
        x_members=np.asarray(dataset.x_members, dtype=np.float32),
        x_non_members=np.asarray(dataset.x_non_members, dtype=np.float32),
    )


def _subsample_members(dataset: Dataset, members: int | None, seed: int, profile: Profile) -> Dataset:
    """Keeps a stratified, seeded subset of the members; the rest are dropped.

    Dropped training images are neither members nor non-members: the test split
    stays the non-member set, as in the tutorial.
    """
    rows = member_rows(dataset.y_members, members, seed, profile)
    if rows is None:
        return dataset
    return dataclasses.replace(dataset, x_members=dataset.x_members[rows], y_members=dataset.y_members[rows])
