"""How a profile names its data: the spellings of a source (``digits``, ``tfds:NAME@SPLITS``,
``imagefolder:DIR``, ``npz:FILE``, ``function:MODULE:FUNCTION``) and their parts.

Spelling only, no reading: :mod:`privacy_checks.data` loads the sources.
"""

from __future__ import annotations

from privacy_checks.spec.model_spec import check_dotted


#: The kinds of data source a profile's ``dataset`` names (:func:`check_dataset` spells them out).
DATASET_KINDS: tuple[str, ...] = ("digits", "cifar10", "imagefolder", "tfds", "npz", "function")

#: Kinds whose location is a file or folder: relative paths are resolved by the
#: caller, and the path (which differs per machine) is not part of a fingerprint.
_PATH_KINDS: tuple[str, ...] = ("imagefolder", "npz")

#: The tfds splits of ``tfds:NAME`` without ``@MEMBER_SPLIT,NON_MEMBER_SPLIT``: as the codelab's cifar10.
DEFAULT_TFDS_SPLITS: tuple[str, str] = ("train", "test")

_DATASET_SPELLINGS = (
    "digits, cifar10 or imagefolder:<dir> (<dir>/train/<class>/*, <dir>/test/<class>/*); "
    "or a team's own data: tfds:<name>[@<member split>,<non-member split>], npz:<file.npz> "
    "(arrays x_members, y_members, x_non_members, y_non_members) or function:<package.module:function>"
)


def dataset_kind(dataset: str) -> str:
    """``imagefolder:/any/path`` -> ``imagefolder``; other names unchanged."""
    return dataset.split(":", 1)[0]


def dataset_location(dataset: str) -> str | None:
    """What follows the kind: ``npz:data/x.npz`` -> ``data/x.npz``; None for a source without one (``digits``)."""
    kind, sep, where = dataset.partition(":")
    return where if sep else None


def is_path_source(dataset: str) -> bool:
    """Whether the source's location is a path (``imagefolder:``, ``npz:``), which callers
    resolve against the project or config directory before loading."""
    return dataset_kind(dataset) in _PATH_KINDS and dataset_location(dataset) is not None


def with_location(dataset: str, where: object) -> str:
    """The same kind of source at another location: ``imagefolder:`` + ``where``."""
    return f"{dataset_kind(dataset)}:{where}"


def tfds_source(dataset: str) -> tuple[str, str, str]:
    """``tfds:NAME[@MEMBERS,NON_MEMBERS]`` -> (NAME, member split, non-member split); ``ValueError`` if malformed.

    Split at the last ``@``: a tfds name may itself hold ``/`` and ``:``
    (``mnist:3.0.1``, ``huggingface:...``), and split names hold neither ``@`` nor ``,``.
    """
    where = dataset_location(dataset) or ""
    name, at, splits = where.rpartition("@")
    if not at:
        name, splits = where, ",".join(DEFAULT_TFDS_SPLITS)
    members, comma, non_members = splits.partition(",")
    if not name or not members.strip() or not non_members.strip() or "," in non_members:
        raise ValueError(
            f"dataset {dataset!r}: write tfds:<name> or tfds:<name>@<member split>,<non-member split>, "
            "e.g. tfds:mnist or tfds:mnist:3.0.1@train,test."
        )
    return name, members.strip(), non_members.strip()


def check_dataset(dataset: str) -> str:
    """Validates a data source spelling; returns it unchanged or raises ``ValueError``."""
    if not isinstance(dataset, str):
        raise ValueError(f"dataset must be a string, got {dataset!r}; use {_DATASET_SPELLINGS}.")
    kind, where = dataset_kind(dataset), dataset_location(dataset)
    if kind not in DATASET_KINDS or (kind in ("digits", "cifar10")) != (where is None):
        raise ValueError(f"unknown dataset {dataset!r}; use {_DATASET_SPELLINGS}.")
    if kind in _PATH_KINDS and not where:
        example = {
            "imagefolder": "a directory: write the dataset as imagefolder:<dir>, e.g. imagefolder:data/cifar10",
            "npz": "a file: write the dataset as npz:<file>, e.g. npz:data/members.npz",
        }
        raise ValueError(f"{kind}: needs {example[kind]}.")
    if kind == "tfds":
        tfds_source(dataset)
    if kind == "function":
        check_dotted(where, f"dataset {dataset!r}: the data function")
    return dataset
