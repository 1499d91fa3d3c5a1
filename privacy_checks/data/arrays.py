"""A team's own arrays: an ``npz:`` file, a ``function:`` of the project, or what the
``pytest_privacy_load_data`` hook returns, as a :class:`~privacy_checks.data.dataset.Dataset`.

Used as given (float32 features of any shape, int64 labels), never unpickled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from privacy_checks.data.dataset import Dataset, DatasetError, DatasetRejected
from privacy_checks.spec import dotted
from privacy_checks.spec.profile import Profile


#: The arrays an ``npz:`` file or a ``function:`` mapping holds, in the order of the tuple form.
ARRAY_NAMES: tuple[str, ...] = ("x_members", "y_members", "x_non_members", "y_non_members")
_OPTIONAL_NAMES: tuple[str, ...] = ("class_names",)


def _expected_arrays() -> str:
    return f"arrays {', '.join(ARRAY_NAMES)} (and optionally class_names, a string array)"


def read_npz(path: Path, profile: Profile) -> Dataset:
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


def read_function(path: str, profile: Profile) -> Dataset:
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
