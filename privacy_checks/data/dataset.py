"""Members and non-members as arrays (:class:`Dataset`), the errors a data source raises, and the
seeded, stratified draw of the members from the member pool (:func:`member_rows`)."""

from __future__ import annotations

import dataclasses

import numpy as np

from privacy_checks.spec.profile import Profile


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


def member_rows(labels: np.ndarray, members: int | None, seed: int, profile: Profile) -> np.ndarray | None:
    """The rows of the member pool drawn as members (stratified by ``labels``, seeded), in the
    order drawn; None: all of them. The draw depends on the labels alone, not on the images."""
    if members is None or members >= len(labels):
        return None
    from sklearn.model_selection import train_test_split

    try:
        rows, _ = train_test_split(np.arange(len(labels)), train_size=members, stratify=labels, random_state=seed)
    except ValueError as error:
        raise members_error(profile, len(labels), labels, error) from None
    return rows


def members_error(profile: Profile, pool: int, labels: np.ndarray, error: Exception) -> DatasetError:
    classes = len(np.unique(labels))
    return rejected(
        profile,
        "members",
        f"cannot draw {profile.members} of the {pool} member examples stratified by class "
        f"(scikit-learn: {error}); set members to at least {classes} (one per class) and at most "
        f"{pool - classes}, or leave it unset to train on all {pool}.",
    )


def rejected(profile: Profile, key: str, text: str) -> DatasetRejected:
    return DatasetRejected(f"profile {profile.name!r}, {key}: {text}")
