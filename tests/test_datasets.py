"""Data sources (built-in, tfds, image folders, npz files, a project's functions) without a
network, and the checks that refuse data not fitting its profile before any training."""

from __future__ import annotations

import dataclasses
import types
import hashlib
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from lanes import codelab_only

from privacy_checks.data import load, sources, validate
from privacy_checks.data.dataset import Dataset, DatasetError
from privacy_checks.spec.dotted import UserCodeError
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.registry import CIFAR10, CIFAR10_QUICK, DIGITS, PROFILES, SMOKE
from privacy_checks.spec.sources import check_dataset, is_path_source, tfds_source


def test_tfds_cifar10_members_are_train_and_non_members_test():
    tfds = pytest.importorskip("tensorflow_datasets")
    # by_class off: 20 members cannot give each of 10 classes enough for per-class attacks.
    profile = dataclasses.replace(CIFAR10_QUICK, members=20, by_class=False)
    with tfds.testing.mock_data(num_examples=60):
        data = load.load(profile)
    assert data.source == "tfds cifar10"
    assert data.x_members.shape == (20, 32, 32, 3) and data.x_members.dtype == np.float32
    assert data.x_non_members.shape == (60, 32, 32, 3)
    assert 0.0 <= data.x_members.min() and data.x_members.max() <= 1.0
    assert len(data.class_names) == 10


def test_missing_prepared_cifar10_names_both_offline_options(tmp_path):
    with pytest.raises(DatasetError) as info:
        load.load(CIFAR10, data_dir=str(tmp_path))  # empty: nothing prepared there
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
    data = load.load(profile)
    assert data.class_names == ("cat", "dog")
    assert data.source == "imagefolder:pets (12 train / 6 test images)"
    assert data.x_members.shape == (12, 8, 8, 3) and data.x_non_members.shape == (6, 8, 8, 3)
    assert sorted(np.bincount(data.y_members)) == [6, 6]
    red = data.x_members[..., 0].mean(axis=(1, 2))
    assert np.allclose(red[data.y_members == 1], 40 / 255, atol=0.01)


def test_image_folder_decodes_only_the_members_drawn_and_gets_what_decoding_all_gets(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds
    from sklearn.model_selection import train_test_split

    write_image_folder(tmp_path / "pets", per_split=(10, 3))
    profile = dataclasses.replace(
        SMOKE, dataset=f"imagefolder:{tmp_path / 'pets'}", num_classes=2, members=8, input_shape=(8, 8, 3),
    )
    builder = tfds.folder_dataset.ImageFolder(str(tmp_path / "pets"))
    every_x, every_y = sources._split_arrays(builder.as_dataset(split="train", as_supervised=True))
    x, _, y, _ = train_test_split(every_x, every_y, train_size=8, stratify=every_y, random_state=profile.data_seed)
    decoded = []
    real = sources._decoded
    monkeypatch.setattr(sources, "_decoded", lambda files, feature: decoded.append(len(files)) or real(files, feature))
    data = load.load(profile)
    assert decoded == [8]  # of 20 training images
    assert np.array_equal(data.x_members, x.astype(np.float32) / 255.0) and np.array_equal(data.y_members, y)
    assert data.source == "imagefolder:pets (20 train / 6 test images)"  # the folder's size, as before
    # Where tfds keeps no list of the files, they are read undecoded for their labels: the same.
    listed = sources._listed(builder, "train")
    unlisted = sources._listed(types.SimpleNamespace(as_dataset=builder.as_dataset, info=builder.info), "train")
    assert np.array_equal(listed[1], unlisted[1])
    feature = builder.info.features["image"]
    assert np.array_equal(real(listed[0], feature), real(unlisted[0], feature))
    assert np.array_equal(real(listed[0], feature), every_x)


def test_image_folder_without_a_test_split_says_what_is_expected(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(DatasetError, match=r"missing .*test: put the members in <dir>/train/<class>/<image>"):
        load.load(profile)


def test_image_folder_path_is_not_part_of_the_profile_hash():
    a = dataclasses.replace(CIFAR10, dataset="imagefolder:/data/a/cifar10")
    b = dataclasses.replace(CIFAR10, dataset="imagefolder:../shared/cifar10")
    assert a.hash == b.hash != CIFAR10.hash  # JPEG images are another source than tfds'


def test_image_folder_without_images_says_so(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(DatasetError, match="has no images in train/ or test/"):
        load.load(profile)


def test_unreadable_image_is_a_dataset_error(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
        (tmp_path / split / "cat" / "0.png").write_bytes(b"not a png")
    profile = dataclasses.replace(SMOKE, dataset=f"imagefolder:{tmp_path}")
    with pytest.raises(DatasetError, match="could not be read"):
        load.load(profile)


# --- the built-in sources load what they always did ---------------------------------


def digest(data: Dataset) -> str:
    """Every byte of a loaded data set: arrays with their dtypes and shapes, class names and source."""
    h = hashlib.sha256()
    for a in (data.x_members, data.y_members, data.x_non_members, data.y_non_members):
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(data.class_names).encode())
    h.update(data.source.encode())
    return h.hexdigest()


@pytest.mark.parametrize(
    "profile, expected",
    [
        # Computed before tfds:, npz: and function: sources and validation were added:
        # committed baselines were measured on exactly these arrays.
        (DIGITS, "570e04c5ca9f21b8b343c353125e6ff002d95a608ec6ff298dd88f98abb408fc"),
        (SMOKE, "88408506428c40b6ad4821abb1def59966208d4ef1f6929805858b94a4178865"),
    ],
    ids=["digits", "smoke"],
)
def test_built_in_digits_arrays_are_unchanged(profile, expected):
    assert digest(load.load(profile)) == expected


def test_built_in_profile_hashes_are_unchanged():
    expected = {
        "digits": "529b585d7650efb3",  # 9b6558389f87b549 until it gained RMIA
        "cifar10": "e55b7a46f04cd174",
        "cifar10-quick": "be73600e939b9d27",
        "smoke": "26a3ad400bfd64db",
    }
    assert {name: PROFILES[name].hash for name in expected} == expected


# --- spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "dataset",
    [
        "digits", "cifar10", "imagefolder:data/pets", "tfds:mnist", "tfds:mnist:3.0.1@train[:50%],test",
        "tfds:huggingface:acronym_identification@train,validation", "npz:data/wine.npz",
        "function:my_project.data:load_wine",
    ],
)
def test_data_source_spellings_are_accepted(dataset):
    assert check_dataset(dataset) == dataset


@pytest.mark.parametrize(
    "dataset, message",
    [
        ("mnist", "unknown dataset 'mnist'; use digits, cifar10 or imagefolder:<dir>"),
        ("digits:x", "unknown dataset 'digits:x'"),
        ("npz:", "npz: needs a file"),
        ("imagefolder:", "imagefolder: needs a directory"),
        ("tfds:", "write tfds:<name> or tfds:<name>@<member split>,<non-member split>"),
        ("tfds:mnist@train", "write tfds:<name> or"),
        ("tfds:mnist@train,test,validation", "write tfds:<name> or"),
        ("function:load_wine", "'load_wine' is not of the form 'package.module:function'"),
    ],
)
def test_malformed_data_sources_say_how_to_write_them(dataset, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_dataset(dataset)


def test_tfds_name_is_split_from_its_splits_at_the_last_at():
    assert tfds_source("tfds:mnist") == ("mnist", "train", "test")
    assert tfds_source("tfds:mnist:3.0.1@train[:50%],test") == ("mnist:3.0.1", "train[:50%]", "test")
    assert tfds_source("tfds:a/b@c@x,y") == ("a/b@c", "x", "y")


def test_only_file_and_folder_sources_are_paths():
    assert [is_path_source(d) for d in ("imagefolder:a", "npz:a.npz")] == [True, True]
    assert not any(is_path_source(d) for d in ("digits", "cifar10", "tfds:mnist", "function:a.b:c"))


def test_fingerprint_keeps_a_paths_kind_and_a_named_sources_full_spelling():
    here, there = (dataclasses.replace(SMOKE, dataset=f"npz:{d}/wine.npz") for d in ("/a", "../b"))
    assert here.hash == there.hash != SMOKE.hash  # where the file lies is not what it holds
    assert here.fingerprint()["dataset"] == "npz"
    mnist, fashion = (dataclasses.replace(SMOKE, dataset=f"tfds:{n}") for n in ("mnist", "fashion_mnist"))
    assert mnist.hash != fashion.hash and mnist.fingerprint()["dataset"] == "tfds:mnist"
    one, two = (dataclasses.replace(SMOKE, dataset=f"function:p.data:{n}") for n in ("one", "two"))
    assert one.hash != two.hash


# --- tfds:NAME -----------------------------------------------------------------------


def test_tfds_image_data_set_is_scaled_with_its_class_names():
    tfds = pytest.importorskip("tensorflow_datasets")
    profile = dataclasses.replace(SMOKE, dataset="tfds:mnist:3.0.1", input_shape=(28, 28, 1), members=20)
    with tfds.testing.mock_data(num_examples=40):
        data = load.load(profile)
    assert data.source == "tfds:mnist:3.0.1@train,test"
    assert data.x_members.shape == (20, 28, 28, 1) and data.x_members.dtype == np.float32
    assert data.x_non_members.shape == (40, 28, 28, 1) and data.y_members.dtype == np.int64
    assert 0.0 <= data.x_members.min() and data.x_members.max() <= 1.0
    assert data.class_names == tuple(str(i) for i in range(10))


def test_tfds_tabular_data_set_with_named_splits_is_not_scaled():
    tfds = pytest.importorskip("tensorflow_datasets")
    profile = dataclasses.replace(
        SMOKE, dataset="tfds:iris@train[:60%],train[60%:]", input_shape=(4,), num_classes=3, members=None
    )
    with tfds.testing.mock_data(num_examples=30):
        data = load.load(profile)
    assert data.source == "tfds:iris@train[:60%],train[60%:]"
    assert data.x_members.shape == (30, 4) and data.x_members.dtype == np.float32
    assert data.class_names == ("Iris-setosa", "Iris-versicolor", "Iris-virginica")


def test_missing_prepared_tfds_data_set_names_it_and_the_data_dir(tmp_path):
    profile = dataclasses.replace(SMOKE, dataset="tfds:mnist@train,test", input_shape=(28, 28, 1))
    with pytest.raises(DatasetError) as info:
        load.load(profile, data_dir=str(tmp_path))
    message = str(info.value)
    assert message.startswith(f"tfds could not load 'mnist' from --privacy-data-dir={tmp_path}")
    assert "tfds.load('mnist', data_dir='DIR')" in message and "\n" not in message


# --- npz:FILE ------------------------------------------------------------------------


def tabular(members=30, non_members=24, features=13, classes=3, seed=0):
    """A wine-like table: ``features`` numbers per row, labels cycling through ``classes``."""
    rng = np.random.default_rng(seed)
    return {
        "x_members": rng.normal(size=(members, features)),
        "y_members": np.arange(members) % classes,
        "x_non_members": rng.normal(size=(non_members, features)),
        "y_non_members": np.arange(non_members) % classes,
    }


def table_profile(dataset: str, **changes) -> Profile:
    fields = dict(dataset=dataset, num_classes=3, input_shape=(13,), members=None, by_class=False)
    return dataclasses.replace(SMOKE, **{**fields, **changes})


def test_npz_arrays_are_used_as_given_and_members_drawn_stratified(tmp_path):
    arrays = tabular()
    np.savez(tmp_path / "wine.npz", **arrays, class_names=np.array(["barolo", "grignolino", "barbera"]))
    data = load.load(table_profile(f"npz:{tmp_path / 'wine.npz'}", members=15))
    assert data.source == "npz:wine.npz (30 members / 24 non-members)"
    assert data.class_names == ("barolo", "grignolino", "barbera")
    assert data.x_members.shape == (15, 13) and data.x_members.dtype == np.float32
    assert list(np.bincount(data.y_members)) == [5, 5, 5] and data.y_members.dtype == np.int64
    assert np.array_equal(data.x_non_members, arrays["x_non_members"].astype(np.float32))
    rows = {row.tobytes() for row in arrays["x_members"].astype(np.float32)}
    assert all(row.tobytes() in rows for row in data.x_members)  # a subset of the member pool
    again = load.load(table_profile(f"npz:{tmp_path / 'wine.npz'}", members=15))
    assert np.array_equal(again.x_members, data.x_members)  # drawn with the data seed


def test_npz_bytes_are_not_scaled_and_whole_float_labels_become_integers(tmp_path):
    arrays = tabular(features=6)
    arrays = {
        **arrays,
        "x_members": np.full((30, 6), 200, np.uint8),
        "x_non_members": np.full((24, 6), 7, np.uint8),
        "y_members": arrays["y_members"].astype(np.float64),
    }
    np.savez(tmp_path / "counts.npz", **arrays)
    data = load.load(table_profile(f"npz:{tmp_path / 'counts.npz'}", input_shape=(6,)))
    assert data.x_members.dtype == np.float32 and data.x_members.max() == 200.0  # counts, not pixels
    assert data.y_members.dtype == np.int64 and data.class_names == ("0", "1", "2")


def test_npz_sequences_of_any_shape_are_accepted(tmp_path):
    arrays = {**tabular(), "x_members": np.zeros((30, 20, 8)), "x_non_members": np.ones((24, 20, 8))}
    np.savez(tmp_path / "seq.npz", **arrays)
    data = load.load(table_profile(f"npz:{tmp_path / 'seq.npz'}", input_shape=(20, 8)))
    assert data.x_members.shape == (30, 20, 8)


def test_missing_npz_file_names_the_file_and_the_arrays(tmp_path):
    with pytest.raises(DatasetError) as info:
        load.load(table_profile(f"npz:{tmp_path / 'nothing.npz'}"))
    message = str(info.value)
    assert "profile 'smoke', dataset: npz file" in message and "nothing.npz does not exist" in message
    assert "x_members, y_members, x_non_members, y_non_members" in message


def test_npz_without_an_array_names_it(tmp_path):
    arrays = tabular()
    del arrays["y_non_members"]
    np.savez(tmp_path / "wine.npz", **arrays)
    expected = r"profile 'smoke', dataset: npz file .*wine.npz lacks y_non_members; write it with arrays x_members"
    with pytest.raises(DatasetError, match=expected):
        load.load(table_profile(f"npz:{tmp_path / 'wine.npz'}"))


def test_npz_with_an_unknown_array_names_it(tmp_path):
    np.savez(tmp_path / "wine.npz", **tabular(), classnames=np.array(["a", "b", "c"]))
    with pytest.raises(DatasetError, match="has unknown arrays classnames"):
        load.load(table_profile(f"npz:{tmp_path / 'wine.npz'}"))


def test_npz_is_never_unpickled(tmp_path):
    arrays = {**tabular(), "x_members": np.array([{"a": 1}] * 30, dtype=object)}
    np.savez(tmp_path / "objects.npz", **arrays)
    with pytest.raises(DatasetError, match=r"dataset: npz file .* could not be read .*no Python objects"):
        load.load(table_profile(f"npz:{tmp_path / 'objects.npz'}"))


def test_source_files_are_the_npz_file_and_the_data_functions_module(tmp_path, monkeypatch):
    (tmp_path / "unimported_data.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load.source_files("npz:data/wine.npz") == (Path("data/wine.npz"),)
    assert load.source_files("function:unimported_data:load") == (tmp_path / "unimported_data.py",)
    assert "unimported_data" not in sys.modules
    assert load.source_files("function:not_there_at_all:load") == ()
    for dataset in ("digits", "cifar10", "tfds:mnist", "imagefolder:data/pets"):
        assert load.source_files(dataset) == ()


# --- function:package.module:function ------------------------------------------------


@pytest.fixture
def data_module(tmp_path, monkeypatch):
    """A project module ``team_data`` whose functions return data in every shape, good and bad."""
    (tmp_path / "team_data.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def table(members=30, non_members=24):
                rng = np.random.default_rng(0)
                return (rng.normal(size=(members, 13)), np.arange(members) % 3,
                        rng.normal(size=(non_members, 13)), np.arange(non_members) % 3)

            def as_mapping():
                x_in, y_in, x_out, y_out = table()
                return {"x_members": x_in, "y_members": y_in.tolist(), "x_non_members": x_out,
                        "y_non_members": y_out, "class_names": ["a", "b", "c"]}

            def as_tuple():
                return table()

            def typo():
                return {**as_mapping(), "class_name": ["a", "b", "c"]}

            def three():
                return table()[:3]

            def nothing():
                return None

            def broken():
                raise OSError("no such table")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "team_data"
    sys.modules.pop("team_data", None)


def test_data_function_may_return_a_mapping(data_module):
    data = load.load(table_profile(f"function:{data_module}:as_mapping", members=12))
    assert data.source == "function:team_data:as_mapping (30 members / 24 non-members)"
    assert data.class_names == ("a", "b", "c")
    assert data.x_members.shape == (12, 13) and data.x_members.dtype == np.float32
    assert data.y_members.dtype == np.int64 and list(np.bincount(data.y_members)) == [4, 4, 4]


def test_data_function_may_return_a_tuple(data_module):
    data = load.load(table_profile(f"function:{data_module}:as_tuple"))
    assert data.class_names == ("0", "1", "2") and len(data.y_non_members) == 24


@pytest.mark.parametrize(
    "function, message",
    [
        ("three", "returned a tuple of 3 items; return a mapping with keys x_members"),
        ("nothing", "returned a NoneType; return a mapping"),
        ("typo", "'team_data:typo': the mapping it returned has unknown keys class_name"),
        ("broken", "the data function 'team_data:broken' raised OSError: no such table"),
    ],
)
def test_data_function_returning_something_else_says_what_to_return(data_module, function, message):
    with pytest.raises(DatasetError) as info:
        load.load(table_profile(f"function:{data_module}:{function}"))
    assert str(info.value).startswith("profile 'smoke', dataset: ") and message in str(info.value)


def test_data_function_that_cannot_be_found_names_the_key(data_module):
    with pytest.raises(UserCodeError, match=r"profile 'smoke', dataset: module 'team_data' has no 'missing'"):
        load.load(table_profile(f"function:{data_module}:missing"))


# --- validation before training ------------------------------------------------------


def load_arrays(tmp_path, changes=None, **profile_changes):
    """Loads ``tabular()`` arrays with ``changes`` through an npz file."""
    np.savez(tmp_path / "data.npz", **{**tabular(), **(changes or {})})
    return load.load(table_profile(f"npz:{tmp_path / 'data.npz'}", **profile_changes))


@pytest.mark.parametrize(
    "changes, profile_changes, key, message",
    [
        ({"y_members": np.zeros(29, int)}, {}, "dataset", "has 30 examples but 29 labels for its members"),
        ({"y_members": np.eye(3)[np.arange(30) % 3]}, {}, "dataset", "members labels of shape (30, 3)"),
        ({"y_non_members": np.full(24, 0.5)}, {}, "dataset",
         "non-members labels of type float64 that are not whole"),
        ({"y_members": np.arange(30) % 4}, {}, "num_classes", "labels must lie in 0..2, but the data of"),
        ({"y_non_members": np.arange(24) % 3 - 1}, {}, "num_classes", "non-members labelled -1"),
        ({}, {"input_shape": (28, 28, 1)}, "input_shape", "has examples of shape (13,); set input_shape = [13]"),
        ({"x_non_members": np.zeros((24, 12))}, {}, "dataset",
         "members of shape (13,) but non-members of shape (12,)"),
        ({"x_members": np.zeros((0, 13)), "y_members": np.zeros(0, int)}, {}, "dataset", "has no members"),
        ({"x_members": np.where(np.arange(30)[:, None] == 7, np.nan, np.zeros((30, 13)))}, {}, "dataset",
         "1 members with NaN or infinite features (the first at index 7)"),
        ({"x_non_members": np.full((24, 13), np.inf)}, {}, "dataset", "24 non-members with NaN or infinite"),
        ({"x_members": np.array([["a"] * 13] * 30)}, {}, "dataset", "members features of type <U1; give numbers"),
        ({"class_names": np.array(["a", "b"])}, {}, "num_classes", "is 3 but the data of"),
        ({}, {"members": 2}, "members", "cannot draw 2 of the 30 member examples stratified by class"),
        ({}, {"members": 3}, "members",
         "the logistic_regression attack needs at least 5 of each: set members to at least 5"),
        ({"x_non_members": np.zeros((4, 13)), "y_non_members": np.arange(4) % 3}, {}, "dataset",
         "has 30 members and 4 non-members"),
        ({}, {"by_class": True, "members": 12}, "by_class",
         "set by_class = false or provide more examples of classes 0, 1, 2 (or raise members)"),
    ],
    ids=[
        "label-count", "one-hot", "fractional-labels", "label-too-large", "negative-label", "input-shape",
        "side-shapes", "no-members", "nan", "inf", "strings", "class-names", "unstratifiable-members",
        "too-few-members", "too-few-non-members", "by-class",
    ],
)
def test_bad_data_is_refused_before_training_with_the_key_to_fix(tmp_path, changes, profile_changes, key, message):
    with pytest.raises(DatasetError) as info:
        load_arrays(tmp_path, changes, **profile_changes)
    text = str(info.value)
    assert text.startswith(f"profile 'smoke', {key}: ") and message in text, text


def test_by_class_names_the_one_class_that_is_short(tmp_path):
    y_out = np.arange(24) % 3
    y_out[y_out == 2] = 0  # no non-members of class 2
    with pytest.raises(DatasetError) as info:
        load_arrays(tmp_path, {"y_non_members": y_out}, by_class=True)
    text = str(info.value)
    assert text.startswith("profile 'smoke', by_class: each class needs at least 5 members and 5 non-members")
    assert "class 2: 10 members / 0 non-members" in text
    assert text.endswith("set by_class = false or provide more examples of class 2.")


def test_by_class_accepts_min_class_examples_of_each_class(tmp_path):
    k = validate.MIN_CLASS_EXAMPLES
    changes = {
        "x_members": np.zeros((3 * k, 13)), "y_members": np.arange(3 * k) % 3,
        "x_non_members": np.zeros((3 * k, 13)), "y_non_members": np.arange(3 * k) % 3,
    }
    data = load_arrays(tmp_path, changes, by_class=True)
    assert list(np.bincount(data.y_non_members)) == [k, k, k]


def test_validate_checks_a_data_set_made_elsewhere():
    """What a project's own loader (a hook) returns is checked the same way."""
    x = np.zeros((30, 13), np.float32)
    y = np.arange(30) % 3
    good = Dataset("mine", x, y, x, y, ("a", "b", "c"))
    validate.validate(good, table_profile("digits"))
    with pytest.raises(DatasetError, match=r"^profile 'smoke', input_shape: "):
        validate.validate(good, table_profile("digits", input_shape=(8, 8, 1)))


def test_image_folder_arrays_are_checked_against_the_profile(tmp_path):
    write_image_folder(tmp_path / "pets")
    profile = dataclasses.replace(
        SMOKE, dataset=f"imagefolder:{tmp_path / 'pets'}", num_classes=2, members=None, input_shape=(32, 32, 3),
    )
    with pytest.raises(DatasetError, match=r"profile 'smoke', input_shape: .* set input_shape = \[8, 8, 3\]"):
        load.load(profile)


@codelab_only
@pytest.mark.filterwarnings("ignore")  # scikit-learn's small-fold and SciPy's option warnings
@pytest.mark.parametrize("count", [validate.MIN_CLASS_EXAMPLES - 1, validate.MIN_CLASS_EXAMPLES])
def test_min_class_examples_is_what_tf_privacys_by_class_attacks_need(count):
    """Below the minimum, TF Privacy 0.8.12 drops the logistic-regression attack of a class slice."""
    from scipy import special
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
        membership_inference_attack as mia,
    )
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        AttackInputData, AttackType, SlicingSpec,
    )

    rng = np.random.default_rng(0)
    labels = np.concatenate([np.zeros(count, int), np.ones(8, int)])  # class 0 is the short one
    probs = [special.softmax(rng.normal(size=(len(labels), 2)), axis=1) for _ in range(2)]
    np.random.seed(0)
    results = mia.run_attacks(
        AttackInputData(probs_train=probs[0], probs_test=probs[1], labels_train=labels, labels_test=labels),
        SlicingSpec(entire_dataset=True, by_class=True),
        attack_types=[AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION],
    )
    ran = {r.attack_type.name for r in results.single_attack_results if r.slice_spec.value == 0}
    full = {"THRESHOLD_ATTACK", "LOGISTIC_REGRESSION"}
    assert (ran == full) == (count >= validate.MIN_CLASS_EXAMPLES), ran


def test_reference_model_attacks_need_as_many_non_members_as_members():
    """References train on half of members + as many non-members: fewer non-members is refused up front."""
    x = np.zeros((30, 13), np.float32)
    y = np.arange(30) % 3
    few = Dataset("mine", x, y, x[:15], y[:15], ("a", "b", "c"))
    profile = dataclasses.replace(
        table_profile("digits"), attacks=("threshold", "rmia"), reference_models={"rmia": 2}, by_class=False
    )
    with pytest.raises(DatasetError, match=r"30 members and only 15 non-members: lower members, provide more"):
        validate.validate(few, profile)
    validate.validate(few, dataclasses.replace(profile, attacks=("threshold",), reference_models={}))
