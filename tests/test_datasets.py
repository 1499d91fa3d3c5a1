"""Data sources through tensorflow-datasets, without a network."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from privacy_checks import datasets
from privacy_checks.datasets import DatasetError
from privacy_checks.profiles import CIFAR10, CIFAR10_QUICK, SMOKE


def test_tfds_cifar10_members_are_train_and_non_members_test():
    tfds = pytest.importorskip("tensorflow_datasets")
    profile = dataclasses.replace(CIFAR10_QUICK, members=20)
    with tfds.testing.mock_data(num_examples=60):
        data = datasets.load(profile)
    assert data.source == "tfds cifar10"
    assert data.x_members.shape == (20, 32, 32, 3) and data.x_members.dtype == np.float32
    assert data.x_non_members.shape == (60, 32, 32, 3)
    assert 0.0 <= data.x_members.min() and data.x_members.max() <= 1.0
    assert len(data.class_names) == 10


def test_missing_prepared_cifar10_names_both_offline_options(tmp_path):
    with pytest.raises(DatasetError) as info:
        datasets.load(CIFAR10, data_dir=str(tmp_path))  # empty: nothing prepared there
    message = str(info.value)
    assert message.startswith(f"tfds could not load 'cifar10' from --privacy-data-dir={tmp_path}")
    assert "--privacy-data-dir=DIR" in message and "--privacy-dataset=imagefolder:<dir>" in message
    assert "\n" not in message  # one paragraph, no stack trace


def write_image_folder(root, classes=("cat", "dog"), per_split=(6, 3), shape=(8, 8, 3)):
    import matplotlib.image

    rng = np.random.default_rng(0)
    for split, count in zip(("train", "test"), per_split):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, shape).astype(np.uint8)
                pixels[..., 0] = 40 * label  # a class signal, so labels matter
                matplotlib.image.imsave(folder / f"{i}.png", pixels)


def test_image_folder_layout_is_read_with_sorted_class_labels(tmp_path):
    write_image_folder(tmp_path / "pets")
    profile = dataclasses.replace(
        SMOKE, dataset=f"imagefolder:{tmp_path / 'pets'}", num_classes=2, members=None,
        input_shape=(8, 8, 3),
    )
    data = datasets.load(profile)
    assert data.class_names == ("cat", "dog")
    assert data.source == "imagefolder:pets (12 train / 6 test images)"
    assert data.x_members.shape == (12, 8, 8, 3) and data.x_non_members.shape == (6, 8, 8, 3)
    assert sorted(np.bincount(data.y_members)) == [6, 6]
    red = data.x_members[..., 0].mean(axis=(1, 2))
    assert np.allclose(red[data.y_members == 1], 40 / 255, atol=0.01)


def test_image_folder_without_a_test_split_says_what_is_expected(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(DatasetError, match=r"missing .*test; expected <dir>/train/<class>/<image>"):
        datasets.load(profile)


def test_image_folder_path_is_not_part_of_the_profile_hash():
    a = dataclasses.replace(CIFAR10, dataset="imagefolder:/data/a/cifar10")
    b = dataclasses.replace(CIFAR10, dataset="imagefolder:../shared/cifar10")
    assert a.hash == b.hash != CIFAR10.hash  # JPEG images are another source than tfds'


def test_image_folder_without_images_says_so(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(datasets.DatasetError, match="has no images in train/ or test/"):
        datasets.load(profile)


def test_unreadable_image_is_a_dataset_error(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
        (tmp_path / split / "cat" / "0.png").write_bytes(b"not a png")
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(datasets.DatasetError, match="could not be read"):
        datasets.load(profile)
