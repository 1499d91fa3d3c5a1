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
data seed, and :func:`validate` checks the result against the profile before
any model is built, so a wrong shape or label fails in seconds with the
profile key to fix instead of minutes into training.

No hand-written downloaders or decoders: everything goes through scikit-learn,
tfds or NumPy.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from privacy_checks.spec import dotted
from privacy_checks.spec.vocabulary import ATTACKS
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.sources import dataset_kind, dataset_location
from privacy_checks.spec.sources import tfds_source


class DatasetError(RuntimeError):
    """A data source cannot be loaded or does not fit its profile; the message says what to do."""


class DatasetRejected(DatasetError):
    """The data was loaded, and refused: it does not fit its profile (shapes, labels, counts)."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Features (float32, one example per row, any example shape) and int64 labels."""

    source: str
    x_members: np.ndarray
    y_members: np.ndarray
    x_non_members: np.ndarray
    y_non_members: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


#: The arrays an ``npz:`` file or a ``function:`` mapping holds, in the order of the tuple form.
ARRAY_NAMES: tuple[str, ...] = ("x_members", "y_members", "x_non_members", "y_non_members")
_OPTIONAL_NAMES: tuple[str, ...] = ("class_names",)

#: The fewest members and non-members a slice needs for TF Privacy 0.8.12's trained
#: attacks (logistic regression, MLP, random forest, KNN) to run on it. Its
#: ``_run_trained_attack`` balances the slice to n = min(members, non-members)
#: of each side and splits those 2n examples with an unshuffled 2-fold
#: ``StratifiedKFold``; each half then trains a ``GridSearchCV(cv=3)``, whose
#: stratified 3-fold split needs a side with at least 3 examples in that half.
#: With n = 5 the halves hold 2 + 3 examples, so both attacks run; with n = 3
#: or 4 every half has fewer than 3 per side and TF Privacy silently drops the
#: attack for that slice; with n = 2 a half has 2 examples in all and the
#: whole ``run_attacks`` call raises. (The threshold attacks need only one
#: of each.) Checked by running ``run_attacks`` on slices of 1 to 7 examples.
MIN_CLASS_EXAMPLES = 5


#: The ``pytest_privacy_load_data`` hook: members and non-members for (profile, data_dir), or None.
LoadData = Callable[[Profile, "str | None"], Any]


def load(profile: Profile, *, data_dir: str | None = None, hook: LoadData | None = None) -> Dataset:
    """Loads the profile's data source (or what ``hook`` returns instead), draws its member set,
    and checks it (:func:`validate`)."""
    returned = None if hook is None else hook(profile, data_dir)
    if returned is None:
        pool, images = _read(profile, data_dir)
    else:
        pool, images = from_returned(returned, "pytest_privacy_load_data", "pytest_privacy_load_data", profile), False
    _check_arrays(pool, profile)  # before drawing members: stratifying needs sound labels
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


def _read(profile: Profile, data_dir: str | None) -> tuple[Dataset, bool]:
    """The source's member pool and non-members as stored, and whether its features are 8-bit images."""
    source = profile.dataset
    kind = dataset_kind(source)
    if kind == "digits":
        return _digits(profile), True
    if kind == "cifar10":
        return _tfds("cifar10", "train", "test", data_dir, "tfds cifar10", profile)
    if kind == "imagefolder":
        return _image_folder(Path(dataset_location(source)), profile), True
    if kind == "tfds":
        name, members, non_members = tfds_source(source)
        return _tfds(name, members, non_members, data_dir, f"tfds:{name}@{members},{non_members}", profile)
    if kind == "npz":
        return _npz(Path(dataset_location(source)), profile), False
    return _function(dataset_location(source), profile), False


def _digits(profile: Profile) -> Dataset:
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
        raise _members_error(profile, len(y), y, error) from None
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


def _float32(dataset: Dataset) -> Dataset:
    """Features as the models take them; float32 arrays are kept as they are (no copy)."""
    return dataclasses.replace(
        dataset,
        x_members=np.asarray(dataset.x_members, dtype=np.float32),
        x_non_members=np.asarray(dataset.x_non_members, dtype=np.float32),
    )


def _tfds(
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


def _image_folder(root: Path, profile: Profile) -> Dataset:
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
            raise _error(
                profile, "dataset", f"image folder {root}: missing {root / split}: put the members in "
                "<dir>/train/<class>/<image> and the non-members in <dir>/test/<class>/<image>.",
            )
    try:
        builder = tfds.folder_dataset.ImageFolder(str(root))
        sizes = {split: builder.info.splits[split].num_examples for split in ("train", "test")}
        if not all(sizes.values()):
            raise _error(
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
        raise _error(
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


def _expected_arrays() -> str:
    return f"arrays {', '.join(ARRAY_NAMES)} (and optionally class_names, a string array)"


def _npz(path: Path, profile: Profile) -> Dataset:
    """An ``.npz`` of plain arrays. Never unpickled: a data file must not be able to run code."""
    where = f"profile {profile.name!r}, dataset: npz file {path}"
    save = "np.savez(FILE, x_members=..., y_members=..., x_non_members=..., y_non_members=...)"
    if not path.is_file():
        raise DatasetError(f"{where} does not exist; write one with {_expected_arrays()}, e.g. with {save}.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            found = set(npz.files)
            missing = [name for name in ARRAY_NAMES if name not in found]
            unknown = sorted(found - set(ARRAY_NAMES) - set(_OPTIONAL_NAMES))
            if missing or unknown:
                raise DatasetRejected(
                    f"{where} "
                    + (f"lacks {', '.join(missing)}" if missing else f"has unknown arrays {', '.join(unknown)}")
                    + f"; write it with {_expected_arrays()}, as {save} does."
                )
            arrays = {name: npz[name] for name in found}
    except DatasetError:
        raise
    except Exception as error:  # not a zip, an object array (needs pickle), a damaged member
        raise DatasetRejected(
            f"{where} could not be read ({type(error).__name__}: {error}); save plain numeric "
            f"arrays (no Python objects, which would need pickle) with {save}."
        ) from None
    dataset = _from_arrays(arrays, where, profile)
    source = f"npz:{path.name} ({_rows(dataset.y_members)} members / {_rows(dataset.y_non_members)} non-members)"
    return dataclasses.replace(dataset, source=source)


def _function(path: str, profile: Profile) -> Dataset:
    """The arrays a project's function returns; see the module docstring for what it may return."""
    where = f"profile {profile.name!r}, dataset"
    function = dotted.resolve(path, where)
    try:
        returned = function()
    except Exception as error:  # the user's code may raise anything
        raise DatasetError(
            f"{where}: the data function {path!r} raised {type(error).__name__}: {error}. Fix it so that, "
            "called with no arguments, it returns the members and non-members."
        ) from error
    return from_returned(returned, f"{where}: the data function {path!r}", f"function:{path}", profile)


def from_returned(returned: Any, where: str, source: str, profile: Profile) -> Dataset:
    """What a data function or the ``pytest_privacy_load_data`` hook returned, as a :class:`Dataset`.

    ``where`` names the function in messages; ``source`` is what baselines record.
    """
    shape = (
        "return a mapping with keys x_members, y_members, x_non_members, y_non_members "
        "(and optionally class_names), or a tuple (x_members, y_members, x_non_members, y_non_members)."
    )
    if isinstance(returned, Mapping):
        missing = [name for name in ARRAY_NAMES if name not in returned]
        unknown = sorted(str(k) for k in returned if k not in ARRAY_NAMES + _OPTIONAL_NAMES)
        if missing or unknown:
            what = f"lacks {', '.join(missing)}" if missing else f"has unknown keys {', '.join(unknown)}"
            raise DatasetRejected(f"{where}: the mapping it returned {what}; {shape}")
        arrays = dict(returned)
    elif isinstance(returned, Sequence) and not isinstance(returned, str) and len(returned) == 4:
        arrays = dict(zip(ARRAY_NAMES, returned))
    else:
        raise DatasetRejected(f"{where}: it returned {_describe(returned)}; {shape}")
    dataset = _from_arrays(arrays, where, profile)
    source = f"{source} ({_rows(dataset.y_members)} members / {_rows(dataset.y_non_members)} non-members)"
    return dataclasses.replace(dataset, source=source)


def _rows(labels: np.ndarray) -> int:
    """Examples in a side as the source line counts them; a single value (refused later, with why) is one."""
    return len(labels) if np.ndim(labels) else 1


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def _from_arrays(arrays: Mapping[str, Any], where: str, profile: Profile) -> Dataset:
    """A team's arrays as a :class:`Dataset`; class names ``0``, ``1``, ... unless given."""
    try:
        x_in, y_in, x_out, y_out = (np.asarray(arrays[name]) for name in ARRAY_NAMES)
    except Exception as error:  # ragged lists, tensors that will not convert
        raise DatasetRejected(
            f"{where}: the arrays could not be converted to NumPy ({type(error).__name__}: {error}); "
            "give arrays of one example shape (pad sequences to one length)."
        ) from None
    names = arrays.get("class_names")
    if names is None:
        class_names = tuple(str(i) for i in range(profile.num_classes))
    else:
        names = np.asarray(names)
        if names.ndim != 1 or names.dtype.kind not in "US":
            raise DatasetRejected(
                f"{where}: class_names must be a 1-D array of strings, got {names.dtype} of shape "
                f"{names.shape}: give one name per class, e.g. np.array(['red', 'white', 'rose'])."
            )
        class_names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
    return Dataset("", x_in, y_in, x_out, y_out, class_names)


def _subsample_members(dataset: Dataset, members: int | None, seed: int, profile: Profile) -> Dataset:
    """Keeps a stratified, seeded subset of the members; the rest are dropped.

    Dropped training images are neither members nor non-members: the test split
    stays the non-member set, as in the tutorial.
    """
    rows = member_rows(dataset.y_members, members, seed, profile)
    if rows is None:
        return dataset
    return dataclasses.replace(dataset, x_members=dataset.x_members[rows], y_members=dataset.y_members[rows])


def member_rows(labels: np.ndarray, members: int | None, seed: int, profile: Profile) -> np.ndarray | None:
    """The rows of the member pool drawn as members (stratified by ``labels``, seeded), in the
    order drawn; None: all of them. The draw depends on the labels alone, not on the images."""
    if members is None or members >= len(labels):
        return None
    from sklearn.model_selection import train_test_split

    try:
        rows, _ = train_test_split(np.arange(len(labels)), train_size=members, stratify=labels, random_state=seed)
    except ValueError as error:
        raise _members_error(profile, len(labels), labels, error) from None
    return rows


def _members_error(profile: Profile, pool: int, labels: np.ndarray, error: Exception) -> DatasetError:
    classes = len(np.unique(labels))
    return _error(
        profile,
        "members",
        f"cannot draw {profile.members} of the {pool} member examples stratified by class "
        f"(scikit-learn: {error}); set members to at least {classes} (one per class) and at most "
        f"{pool - classes}, or leave it unset to train on all {pool}.",
    )


def _error(profile: Profile, key: str, text: str) -> DatasetRejected:
    return DatasetRejected(f"profile {profile.name!r}, {key}: {text}")


def validate(dataset: Dataset, profile: Profile) -> None:
    """Checks that ``dataset`` fits ``profile`` before anything is trained; raises :class:`DatasetError`.

    Training a model on a data set that does not match its profile fails
    minutes later inside Keras, or worse, trains and measures the wrong
    thing (labels beyond the model's classes, a by-class slice too small to
    attack). Each message names the profile key to fix.
    """
    _check_arrays(dataset, profile)
    _check_counts(dataset, profile)


def _sides(dataset: Dataset) -> tuple[tuple[str, np.ndarray, np.ndarray], ...]:
    return (
        ("members", np.asarray(dataset.x_members), np.asarray(dataset.y_members)),
        ("non-members", np.asarray(dataset.x_non_members), np.asarray(dataset.y_non_members)),
    )


def _check_arrays(dataset: Dataset, profile: Profile) -> None:
    """Shapes, label values and finiteness: what makes the arrays usable at all."""
    data = f"the data of {profile.dataset!r}"
    for side, x, y in _sides(dataset):
        problem = _side_problem(side, x, y)
        if problem:
            raise _error(profile, "dataset", f"{data} {problem}")
    (_, x_in, _), (_, x_out, _) = _sides(dataset)
    shape = x_in.shape[1:]
    if shape != x_out.shape[1:]:
        raise _error(
            profile, "dataset",
            f"{data} has members of shape {shape} but non-members of shape {x_out.shape[1:]}; "
            "give both sides one example shape.",
        )
    if shape != tuple(profile.input_shape):
        raise _error(
            profile, "input_shape",
            f"is {tuple(profile.input_shape)} but {data} has examples of shape {shape}; "
            f"set input_shape = {list(shape)}.",
        )
    names = dataset.class_names
    if len(names) != profile.num_classes:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise _error(
            profile, "num_classes",
            f"is {profile.num_classes} but {data} has {len(names)} classes ({shown}); "
            f"set num_classes = {len(names)}.",
        )
    for side, x, y in _sides(dataset):
        outside = np.unique(y[(y < 0) | (y >= profile.num_classes)])
        if outside.size:
            raise _error(
                profile, "num_classes",
                f"is {profile.num_classes}, so labels must lie in 0..{profile.num_classes - 1}, but {data} "
                f"has {side} labelled {', '.join(str(int(v)) for v in outside[:5])}; "
                "set num_classes, or renumber the labels from 0.",
            )
        bad = _non_finite_rows(x)
        if bad.size:
            raise _error(
                profile, "dataset",
                f"{data} has {bad.size} {side} with NaN or infinite features (the first at index "
                f"{int(bad[0])}); drop or impute them.",
            )


def _side_problem(side: str, x: np.ndarray, y: np.ndarray) -> str | None:
    """What is wrong with one side's arrays on their own (completing "the data of ... "), if anything."""
    if x.ndim == 0 or y.ndim == 0:
        return f"has a single value as its {side}' features or labels; give arrays with one row per example."
    if len(x) != len(y):
        return f"has {len(x)} examples but {len(y)} labels for its {side}; give one label per example."
    if len(y) == 0:
        return f"has no {side}; give at least one example of each side."
    if y.ndim != 1:
        return (
            f"has {side} labels of shape {y.shape}; give one integer class per example "
            "(a 1-D array; one-hot labels: take the argmax over the class axis)."
        )
    whole = y.dtype.kind in "iub" or (
        y.dtype.kind == "f" and bool(np.all(np.isfinite(y))) and bool(np.all(y == np.round(y)))
    )
    if not whole:
        return f"has {side} labels of type {y.dtype} that are not whole numbers; give integer class indices."
    if x.dtype.kind not in "biuf":
        return f"has {side} features of type {x.dtype}; give numbers (encode text or categories first)."
    return None


def _non_finite_rows(x: np.ndarray, rows: int = 4096) -> np.ndarray:
    """Indices of examples with a NaN or infinite feature; in blocks, so that a large image set
    (CIFAR-10's 50,000 members) needs no second full-size array."""
    if x.dtype.kind != "f":
        return np.zeros(0, np.int64)
    found = [np.zeros(0, np.int64)]
    for start in range(0, len(x), rows):
        block = x[start : start + rows]
        found.append(start + np.flatnonzero(~np.isfinite(block.reshape(len(block), -1)).all(axis=1)))
    return np.concatenate(found)


def _trained_attacks(profile: Profile) -> list[str]:
    return [a for a in profile.tf_privacy_attacks if not ATTACKS[a].startswith("THRESHOLD")]


def _check_counts(dataset: Dataset, profile: Profile) -> None:
    """Enough examples for every attack on every slice the profile asks for (:data:`MIN_CLASS_EXAMPLES`)."""
    counts = {side: len(y) for side, _, y in _sides(dataset)}
    trained = _trained_attacks(profile)
    if trained and min(counts.values()) < MIN_CLASS_EXAMPLES:
        few_drawn = profile.members is not None and profile.members < MIN_CLASS_EXAMPLES
        raise _error(
            profile, "members" if few_drawn else "dataset",
            f"the data has {counts['members']} members and {counts['non-members']} non-members; "
            f"the {', '.join(trained)} attack needs at least {MIN_CLASS_EXAMPLES} of each: "
            + (f"set members to at least {MIN_CLASS_EXAMPLES}." if few_drawn else "provide more examples."),
        )
    if profile.references and counts["non-members"] < counts["members"]:
        raise _error(
            profile, "members" if profile.members is not None else "dataset",
            f"the reference-model attacks ({', '.join(profile.reference_models)}) train each reference "
            "model on half of the members plus as many non-members, but the data has "
            f"{counts['members']} members and only {counts['non-members']} non-members: "
            "lower members, provide more non-members, or drop those attacks.",
        )
    if not profile.by_class:
        return
    members = np.bincount(np.asarray(dataset.y_members, dtype=np.int64), minlength=profile.num_classes)
    non_members = np.bincount(np.asarray(dataset.y_non_members, dtype=np.int64), minlength=profile.num_classes)
    short = [k for k in range(profile.num_classes) if min(members[k], non_members[k]) < MIN_CLASS_EXAMPLES]
    if short:
        detail = ", ".join(f"class {k}: {members[k]} members / {non_members[k]} non-members" for k in short[:5])
        more = ", ..." if len(short) > 5 else ""
        which = f"class {short[0]}" if len(short) == 1 else f"classes {', '.join(str(k) for k in short)}"
        raise _error(
            profile, "by_class",
            f"each class needs at least {MIN_CLASS_EXAMPLES} members and {MIN_CLASS_EXAMPLES} non-members "
            f"for the by-class attacks ({detail}{more}); set by_class = false or provide more examples of {which}"
            + (" (or raise members)." if profile.members is not None else "."),
        )
