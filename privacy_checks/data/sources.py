"""The data sources that hold images or tfds data sets: scikit-learn's digits, tfds (``cifar10``,
``tfds:NAME``) and image folders, each read as its member pool and non-members; and
:func:`read_source`, which reads a profile's source of any kind (a team's own arrays:
:mod:`privacy_checks.data.arrays`).

No hand-written downloaders or decoders: scikit-learn's and tfds' own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from privacy_checks.data.arrays import read_function, read_npz
from privacy_checks.data.dataset import Dataset, DatasetError, DatasetRejected, member_rows, members_error, rejected
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.sources import dataset_kind, dataset_location, tfds_source


def read_source(profile: Profile, data_dir: str | None) -> tuple[Dataset, bool]:
    """The source's member pool and non-members as stored, and whether its features are 8-bit images."""
    source = profile.dataset
    kind = dataset_kind(source)
    if kind == "digits":
        return read_digits(profile), True
    if kind == "cifar10":
        return read_tfds("cifar10", "train", "test", data_dir, "tfds cifar10", profile)
    if kind == "imagefolder":
        return read_image_folder(Path(dataset_location(source)), profile), True
    if kind == "tfds":
        name, members, non_members = tfds_source(source)
        return read_tfds(name, members, non_members, data_dir, f"tfds:{name}@{members},{non_members}", profile)
    if kind == "npz":
        return read_npz(Path(dataset_location(source)), profile), False
    return read_function(dataset_location(source), profile), False


def read_digits(profile: Profile) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    try:
        x_in, x_out, y_in, y_out = train_test_split(
            x, y, train_size=profile.members, stratify=y, random_state=profile.data_seed
        )
    except ValueError as error:
        raise members_error(profile, len(y), y, error) from None
    names = tuple(str(c) for c in digits.target_names)
    return Dataset("sklearn digits", x_in, y_in, x_out, y_out, names)


def _split_arrays(split) -> tuple[np.ndarray, np.ndarray]:
    """A supervised tf.data split as (images as decoded, labels).

    Read in chunks rather than with tfds' ``batch_size=-1``, which aborts the
    process on datasets of unknown size (tfds' mock data, in tests). Without
    tf.data's autotuner, whose thread can hold up the end of the read by
    seconds (:func:`privacy_checks.train.fit.without_tf_data_autotune`). The
    images stay 8-bit until the members are drawn (:func:`privacy_checks.data.load._scaled`): only
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


def read_tfds(
    name: str, members: str, non_members: str, data_dir: str | None, source: str, profile: Profile
) -> tuple[Dataset, bool]:
    """A tfds data set, and whether its inputs are images: downloaded where a network
    exists, or read from a prepared data_dir.

    A given ``data_dir`` is for machines without a network: nothing is
    downloaded into it, so a missing data set fails at once instead of
    waiting on a download that cannot happen.
    """
    import tensorflow_datasets as tfds

    try:
        (train, test), info = tfds.load(
            name,
            split=[members, non_members],
            as_supervised=True,
            data_dir=data_dir,
            download=data_dir is None,
            with_info=True,
        )
    except Exception as error:  # tfds raises many kinds; all mean "not available"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        where = f" from --privacy-data-dir={data_dir}" if data_dir else ""
        raise DatasetError(
            f"tfds could not load {name!r}{where} ({type(error).__name__}: {first_line}). "
            "Without a network, either prepare it once on a machine that has one "
            f"(python -c \"import tensorflow_datasets as tfds; tfds.load('{name}', data_dir='DIR')\") "
            "and pass --privacy-data-dir=DIR, or put the images in a folder "
            "(<dir>/train/<class>/*.png|jpg, <dir>/test/<class>/*) and pass "
            "--privacy-dataset=imagefolder:<dir>."
        ) from None
    try:
        x_train, y_train = _split_arrays(train)
        x_test, y_test = _split_arrays(test)
    except Exception as error:  # tf.data cannot batch examples of different shapes
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise DatasetRejected(
            f"profile {profile.name!r}, dataset: tfds {name!r} could not be read as arrays "
            f"({type(error).__name__}: {first_line}); the suite needs numeric examples of one "
            "shape. Pad or encode them in a function of your own and use "
            "dataset = 'function:<package.module:function>'."
        ) from None
    inputs, label = _supervised_features(info)
    names = getattr(label, "names", None)
    names = tuple(names) if names else tuple(str(i) for i in range(profile.num_classes))
    images = isinstance(inputs, tfds.features.Image)
    return Dataset(source, x_train, y_train, x_test, y_test, names), images


def _supervised_features(info) -> tuple[Any, Any]:
    """tfds' (input, label) features of ``as_supervised``; None where they are not plain keys."""
    keys = getattr(info, "supervised_keys", None)
    if not keys or len(keys) != 2 or not all(isinstance(k, str) for k in keys):
        return None, None
    return info.features[keys[0]], info.features[keys[1]]


def read_image_folder(root: Path, profile: Profile) -> Dataset:
    """The folder's images; of the training images, only the members drawn are decoded.

    The training split's labels come from its folder names, in tfds' order
    (:func:`_listed`), and decide the draw (:func:`member_rows`); reading and
    decoding the chosen files alone, with the folder's own image decoder,
    gives the very arrays that decoding all of them and then drawing gives
    (``tests/test_datasets.py``). On ``cifar10-quick``: 10,000 JPEG files
    read instead of 50,000.
    """
    import tensorflow_datasets as tfds

    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise rejected(
                profile, "dataset", f"image folder {root}: missing {root / split}: put the members in "
                "<dir>/train/<class>/<image> and the non-members in <dir>/test/<class>/<image>.",
            )
    try:
        builder = tfds.folder_dataset.ImageFolder(str(root))
        sizes = {split: builder.info.splits[split].num_examples for split in ("train", "test")}
        if not all(sizes.values()):
            raise rejected(
                profile, "dataset", f"image folder {root} has no images in train/ or test/: put the members in "
                "<dir>/train/<class>/<image> and the non-members in <dir>/test/<class>/<image>.",
            )
        paths, y_train = _listed(builder, "train")
        rows = member_rows(y_train, profile.members, profile.data_seed, profile)
        if rows is not None:
            paths, y_train = paths[rows], y_train[rows]
        x_train = _decoded(paths, builder.info.features["image"])
        x_test, y_test = _split_arrays(builder.as_dataset(split="test", as_supervised=True))
    except DatasetError:
        raise
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise rejected(
            profile, "dataset", f"image folder {root} could not be read ({type(error).__name__}: {first_line}): "
            "remove or fix the files under it that are not images.",
        ) from None
    names = tuple(builder.info.features["label"].names)
    # The folder's name and size, not its path: the path differs per machine and
    # the source is stored with baselines.
    source = f"imagefolder:{root.resolve().name} ({sizes['train']} train / {sizes['test']} test images)"
    return Dataset(source, x_train, y_train, x_test, y_test, names)


def _listed(builder, split: str) -> tuple[np.ndarray, np.ndarray]:
    """A split's image files and labels in the order tfds reads them, without reading the files.

    tfds' ``ImageFolder`` keeps that list as ``_split_examples``; where a tfds
    version does not, the files are read (undecoded) for their labels.
    """
    import tensorflow_datasets as tfds

    examples = getattr(builder, "_split_examples", {}).get(split)
    if examples is None:
        undecoded = {"image": tfds.decode.SkipDecoding()}
        return _split_arrays(builder.as_dataset(split=split, as_supervised=True, decoders=undecoded))
    label = builder.info.features["label"]
    paths = np.array([str(example.image_path) for example in examples])
    return paths, np.array([label.str2int(example.label) for example in examples], np.int64)


def _decoded(files: np.ndarray, image_feature) -> np.ndarray:
    """Image files (paths, or their bytes) decoded as tfds decodes them when it reads the folder."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    read = (lambda path: image_feature.decode_example(tf.io.read_file(path))) if files.dtype.kind == "U" \
        else image_feature.decode_example
    images = tf.data.Dataset.from_tensor_slices(files).map(read, num_parallel_calls=os.cpu_count())
    chunks = [np.asarray(chunk) for chunk in images.batch(8192).with_options(options).as_numpy_iterator()]
    return np.concatenate(chunks) if chunks else np.zeros((0,), np.uint8)
