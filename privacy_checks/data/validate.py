"""Whether a data set fits its profile, checked before anything is built or trained: shapes,
labels, finiteness, and enough examples for every attack on every slice."""

from __future__ import annotations

import numpy as np

from privacy_checks.data.dataset import Dataset, rejected
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import ATTACKS


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


def validate(dataset: Dataset, profile: Profile) -> None:
    """Checks that ``dataset`` fits ``profile`` before anything is trained; raises :class:`DatasetError`.

    Training a model on a data set that does not match its profile fails
    minutes later inside Keras, or worse, trains and measures the wrong
    thing (labels beyond the model's classes, a by-class slice too small to
    attack). Each message names the profile key to fix.
    """
    check_arrays(dataset, profile)
    _check_counts(dataset, profile)


def _sides(dataset: Dataset) -> tuple[tuple[str, np.ndarray, np.ndarray], ...]:
    return (
        ("members", np.asarray(dataset.x_members), np.asarray(dataset.y_members)),
        ("non-members", np.asarray(dataset.x_non_members), np.asarray(dataset.y_non_members)),
    )


def check_arrays(dataset: Dataset, profile: Profile) -> None:
    """Shapes, label values and finiteness: what makes the arrays usable at all."""
    data = f"the data of {profile.dataset!r}"
    for side, x, y in _sides(dataset):
        problem = _side_problem(side, x, y)
        if problem:
            raise rejected(profile, "dataset", f"{data} {problem}")
    (_, x_in, _), (_, x_out, _) = _sides(dataset)
    shape = x_in.shape[1:]
    if shape != x_out.shape[1:]:
        raise rejected(
            profile, "dataset",
            f"{data} has members of shape {shape} but non-members of shape {x_out.shape[1:]}; "
            "give both sides one example shape.",
        )
    if shape != tuple(profile.input_shape):
        raise rejected(
            profile, "input_shape",
            f"is {tuple(profile.input_shape)} but {data} has examples of shape {shape}; "
            f"set input_shape = {list(shape)}.",
        )
    names = dataset.class_names
    if len(names) != profile.num_classes:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise rejected(
            profile, "num_classes",
            f"is {profile.num_classes} but {data} has {len(names)} classes ({shown}); "
            f"set num_classes = {len(names)}.",
        )
    for side, x, y in _sides(dataset):
        outside = np.unique(y[(y < 0) | (y >= profile.num_classes)])
        if outside.size:
            raise rejected(
                profile, "num_classes",
                f"is {profile.num_classes}, so labels must lie in 0..{profile.num_classes - 1}, but {data} "
                f"has {side} labelled {', '.join(str(int(v)) for v in outside[:5])}; "
                "set num_classes, or renumber the labels from 0.",
            )
        bad = _non_finite_rows(x)
        if bad.size:
            raise rejected(
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
        raise rejected(
            profile, "members" if few_drawn else "dataset",
            f"the data has {counts['members']} members and {counts['non-members']} non-members; "
            f"the {', '.join(trained)} attack needs at least {MIN_CLASS_EXAMPLES} of each: "
            + (f"set members to at least {MIN_CLASS_EXAMPLES}." if few_drawn else "provide more examples."),
        )
    if profile.references and counts["non-members"] < counts["members"]:
        raise rejected(
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
        raise rejected(
            profile, "by_class",
            f"each class needs at least {MIN_CLASS_EXAMPLES} members and {MIN_CLASS_EXAMPLES} non-members "
            f"for the by-class attacks ({detail}{more}); set by_class = false or provide more examples of {which}"
            + (" (or raise members)." if profile.members is not None else "."),
        )
