"""Members and non-members as arrays, from real data sets only.

Members are the examples a model is trained on; non-members are held out.
Membership inference asks whether an attacker can tell the two apart from the
model's outputs. Sources:

* ``digits`` - scikit-learn's 8x8 digits, shipped with scikit-learn: real and
  offline, the embedded default. A small stratified member set is drawn with
  the profile's seed; every other image is a non-member.
* ``cifar10`` - tensorflow-datasets' ``cifar10`` (train split = members, test
  split = non-members), as in TF Privacy's codelab. Downloads where a network
  exists.
* ``imagefolder:<path>`` - ``tfds.folder_dataset.ImageFolder`` layout,
  ``<path>/train/<class>/*`` and ``<path>/test/<class>/*``.

No hand-written downloaders or decoders: everything goes through scikit-learn
or tfds.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from privacy_checks.profiles import Profile


class DatasetError(RuntimeError):
    """A data source cannot be loaded; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images scaled to [0, 1] (float32, NHWC) and integer labels."""

    source: str
    x_members: np.ndarray
    y_members: np.ndarray
    x_non_members: np.ndarray
    y_non_members: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load(profile: Profile, *, data_dir: str | None = None) -> Dataset:
    """Loads the profile's data source and draws its member set."""
    source = profile.dataset
    if source == "digits":
        dataset = _digits(profile)
    elif source == "cifar10":
        dataset = _tfds_cifar10(data_dir)
    elif source.startswith("imagefolder:"):
        dataset = _image_folder(Path(source.split(":", 1)[1]))
    else:
        raise DatasetError(
            f"unknown dataset {source!r} in profile {profile.name!r}; "
            "use 'digits', 'cifar10' or 'imagefolder:<path>'"
        )
    dataset = _subsample_members(dataset, profile.members, profile.seed)
    if dataset.num_classes != profile.num_classes:
        raise DatasetError(
            f"dataset {source!r} has {dataset.num_classes} classes but profile "
            f"{profile.name!r} expects {profile.num_classes}"
        )
    return dataset


def _digits(profile: Profile) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    x_in, x_out, y_in, y_out = train_test_split(
        x, y, train_size=profile.members, stratify=y, random_state=profile.seed
    )
    names = tuple(str(c) for c in digits.target_names)
    return Dataset("sklearn digits", x_in, y_in, x_out, y_out, names)


def _to_arrays(images, labels) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(images, dtype=np.float32) / 255.0, np.asarray(labels, dtype=np.int64))


def _tfds_cifar10(data_dir: str | None) -> Dataset:
    import tensorflow_datasets as tfds

    try:
        (train, test), info = tfds.load(
            "cifar10",
            split=["train", "test"],
            batch_size=-1,
            as_supervised=True,
            data_dir=data_dir,
            with_info=True,
        )
    except Exception as error:  # tfds raises many kinds; all mean "not available"
        raise DatasetError(
            "tfds could not load 'cifar10' "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
            "Without a network, either prepare it once on a machine that has one and "
            "point --privacy-data-dir at that tfds data_dir, or use an image folder "
            "(<dir>/train/<class>/*.png|jpg, <dir>/test/<class>/*) with "
            "--privacy-dataset imagefolder:<dir>."
        ) from None
    x_train, y_train = _to_arrays(*tfds.as_numpy(train))
    x_test, y_test = _to_arrays(*tfds.as_numpy(test))
    names = tuple(info.features["label"].names)
    return Dataset("tfds cifar10", x_train, y_train, x_test, y_test, names)


def _image_folder(root: Path) -> Dataset:
    import tensorflow_datasets as tfds

    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise DatasetError(
                f"image folder {root}: missing {root / split}; expected "
                "<dir>/train/<class>/<image> and <dir>/test/<class>/<image>"
            )
    try:
        builder = tfds.folder_dataset.ImageFolder(str(root))
        train = builder.as_dataset(split="train", batch_size=-1, as_supervised=True)
        test = builder.as_dataset(split="test", batch_size=-1, as_supervised=True)
    except Exception as error:
        raise DatasetError(f"image folder {root} could not be read: {error}") from None
    x_train, y_train = _to_arrays(*tfds.as_numpy(train))
    x_test, y_test = _to_arrays(*tfds.as_numpy(test))
    if len(x_train) == 0 or len(x_test) == 0:
        raise DatasetError(f"image folder {root} has no images in train/ or test/")
    names = tuple(builder.info.features["label"].names)
    return Dataset(f"imagefolder:{root}", x_train, y_train, x_test, y_test, names)


def _subsample_members(dataset: Dataset, members: int | None, seed: int) -> Dataset:
    """Keeps a stratified, seeded subset of the members; the rest are dropped.

    Dropped training images are neither members nor non-members: the test split
    stays the non-member set, as in the tutorial.
    """
    if members is None or members >= len(dataset.y_members):
        return dataset
    from sklearn.model_selection import train_test_split

    x, _, y, _ = train_test_split(
        dataset.x_members,
        dataset.y_members,
        train_size=members,
        stratify=dataset.y_members,
        random_state=seed,
    )
    return dataclasses.replace(dataset, x_members=x, y_members=y)
