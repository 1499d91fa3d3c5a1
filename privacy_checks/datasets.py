"""Members and non-members as arrays, from real data sets only.

Members are the examples a model is trained on; non-members are held out.
Membership inference asks whether an attacker can tell the two apart from the
model's outputs. Sources:

* ``digits`` - scikit-learn's 8x8 digits, shipped with scikit-learn: real and
  offline, the embedded default. A small stratified member set is drawn with
  the profile's data seed; every other image is a non-member.
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

from privacy_checks.profiles import Profile, dataset_kind, dataset_location


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
    kind = dataset_kind(source)
    if kind == "digits":
        dataset = _digits(profile)
    elif kind == "cifar10":
        dataset = _tfds_cifar10(data_dir)
    else:
        dataset = _image_folder(Path(dataset_location(source)))
    dataset = _scaled(_subsample_members(dataset, profile.members, profile.data_seed))
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
        x, y, train_size=profile.members, stratify=y, random_state=profile.data_seed
    )
    names = tuple(str(c) for c in digits.target_names)
    return Dataset("sklearn digits", x_in, y_in, x_out, y_out, names)


def _split_arrays(split) -> tuple[np.ndarray, np.ndarray]:
    """A supervised tf.data split as (images as decoded, labels).

    Read in chunks rather than with tfds' ``batch_size=-1``, which aborts the
    process on datasets of unknown size (tfds' mock data, in tests). Without
    tf.data's autotuner, whose thread can hold up the end of the read by
    seconds (:func:`privacy_checks.training.without_tf_data_autotune`). The
    images stay 8-bit until the members are drawn (:func:`_scaled`): only
    those are converted to floats.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    options = tf.data.Options()
    options.autotune.enabled = False
    chunks = list(tfds.as_numpy(split.batch(8192).with_options(options)))
    if not chunks:
        return np.zeros((0,), np.uint8), np.zeros((0,), np.int64)
    images = np.concatenate([images for images, _ in chunks])
    labels = np.concatenate([labels for _, labels in chunks])
    return images, labels.astype(np.int64)


def _scaled(dataset: Dataset) -> Dataset:
    """8-bit images to floats in [0, 1]; digits are scaled when read."""
    if dataset.x_members.dtype != np.uint8:
        return dataset
    return dataclasses.replace(
        dataset,
        x_members=dataset.x_members.astype(np.float32) / 255.0,
        x_non_members=dataset.x_non_members.astype(np.float32) / 255.0,
    )


def _tfds_cifar10(data_dir: str | None) -> Dataset:
    """tfds ``cifar10``: downloaded where a network exists, or read from a prepared data_dir.

    A given ``data_dir`` is for machines without a network: nothing is
    downloaded into it, so a missing data set fails at once instead of
    waiting on a download that cannot happen.
    """
    import tensorflow_datasets as tfds

    try:
        (train, test), info = tfds.load(
            "cifar10",
            split=["train", "test"],
            as_supervised=True,
            data_dir=data_dir,
            download=data_dir is None,
            with_info=True,
        )
    except Exception as error:  # tfds raises many kinds; all mean "not available"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        where = f" from --privacy-data-dir={data_dir}" if data_dir else ""
        raise DatasetError(
            f"tfds could not load 'cifar10'{where} ({type(error).__name__}: {first_line}). "
            "Without a network, either prepare it once on a machine that has one "
            "(python -c \"import tensorflow_datasets as tfds; tfds.load('cifar10', data_dir='DIR')\") "
            "and pass --privacy-data-dir=DIR, or put the images in a folder "
            "(<dir>/train/<class>/*.png|jpg, <dir>/test/<class>/*) and pass "
            "--privacy-dataset=imagefolder:<dir>."
        ) from None
    x_train, y_train = _split_arrays(train)
    x_test, y_test = _split_arrays(test)
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
        sizes = {split: builder.info.splits[split].num_examples for split in ("train", "test")}
        if not all(sizes.values()):
            raise DatasetError(f"image folder {root} has no images in train/ or test/")
        x_train, y_train = _split_arrays(builder.as_dataset(split="train", as_supervised=True))
        x_test, y_test = _split_arrays(builder.as_dataset(split="test", as_supervised=True))
    except DatasetError:
        raise
    except Exception as error:
        raise DatasetError(f"image folder {root} could not be read: {error}") from None
    names = tuple(builder.info.features["label"].names)
    # The folder's name and size, not its path: the path differs per machine and
    # the source is stored with baselines.
    source = f"imagefolder:{root.resolve().name} ({len(x_train)} train / {len(x_test)} test images)"
    return Dataset(source, x_train, y_train, x_test, y_test, names)


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
