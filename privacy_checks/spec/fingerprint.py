"""A profile's fingerprint read back: which fields describe the data, the member split's seed,
and what differs between two fingerprints, as lines a reviewer reads (``epochs 200 -> 600``)."""

from __future__ import annotations

import json
from typing import Any, Mapping


#: TensorFlow threads per pool unless a profile says otherwise (see ``Profile.intra_op_threads``).
DEFAULT_THREADS = 2

#: Fingerprint fields that say which data was measured: a baseline whose values
#: for these differ from the run's describes another data set.
DATA_FIELDS: tuple[str, ...] = ("dataset", "num_classes", "input_shape")


def split_seed_of(fingerprint: Mapping[str, Any]) -> Any:
    """The member split's seed a fingerprint records (it leaves out the default: ``seed``)."""
    return fingerprint.get("split_seed", fingerprint.get("seed"))


def fingerprint_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two fingerprints, as short lines: ``epochs 200 -> 600``."""

    def show(value: Any) -> str:
        return "unset" if value is None else json.dumps(value)

    defaults = {"intra_op_threads": DEFAULT_THREADS, "inter_op_threads": DEFAULT_THREADS}
    old = {**defaults, **old, "split_seed": split_seed_of(old)}
    new = {**defaults, **new, "split_seed": split_seed_of(new)}

    found = [
        f"{key} {show(old.get(key))} -> {show(new.get(key))}"
        for key in sorted(set(old) | set(new))
        if key != "models" and old.get(key) != new.get(key)
    ]
    old_models = {m.get("name"): m for m in old.get("models", []) if isinstance(m, dict)}
    new_models = {m.get("name"): m for m in new.get("models", []) if isinstance(m, dict)}
    for name in sorted(set(old_models) | set(new_models), key=str):
        if name not in new_models:
            found.append(f"model {name} removed")
        elif name not in old_models:
            found.append(f"model {name} added")
        else:
            a, b = old_models[name], new_models[name]
            found += [
                f"{name}.{key} {show(a.get(key))} -> {show(b.get(key))}"
                for key in sorted(set(a) | set(b))
                if a.get(key) != b.get(key)
            ]
    return found
