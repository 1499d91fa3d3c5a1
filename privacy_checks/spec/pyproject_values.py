"""One value of a pyproject.toml table, read and checked: each reader gets the value and its key's
full name, and a problem is a :class:`KeyProblem` whose sentence names the key and what to write.

Nothing here knows profiles (:mod:`privacy_checks.spec.pyproject` reads their tables); the
sentences are TOML's: values as TOML writes them (:func:`show`), the nearest known key for a
misspelt one (:func:`did_you_mean`).
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Callable, Iterable, Mapping


class KeyProblem(Exception):
    """A problem with one key of a table; :func:`profile_from_table` adds the file and table."""


def show(value: Any) -> str:
    """A value as TOML writes it (``"13"``, ``[8, 8]``, ``true``), for messages about a pyproject."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    return repr(value)


# -- reading one value: each reader gets the value and its key's full name -----------------


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(value: Any, key: str) -> int:
    if not (is_int(value) and value > 0):
        raise KeyProblem(f"{key} must be a positive integer, got {show(value)}: set it to a whole number above 0.")
    return value


def positive_ints(value: Any, key: str) -> tuple[int, ...]:
    if not (isinstance(value, list) and value and all(is_int(v) and v > 0 for v in value)):
        raise KeyProblem(
            f"{key} must be a list of positive integers, got {show(value)}: "
            "write it as a list of whole numbers above 0, e.g. [10, 30]."
        )
    return tuple(value)


def positive_number(value: Any, key: str) -> float:
    if not (is_number(value) and value > 0):
        raise KeyProblem(f"{key} must be a positive number, got {show(value)}: set it to a number above 0, e.g. 0.001.")
    return float(value)


def any_number(value: Any, key: str) -> float:
    if not is_number(value):
        raise KeyProblem(f"{key} must be a number, got {show(value)}: write it without quotes, e.g. 0.05.")
    return float(value)


def number_list(value: Any, key: str) -> tuple[float, ...]:
    if not (isinstance(value, list) and value and all(is_number(v) for v in value)):
        raise KeyProblem(f"{key} must be a list of numbers, got {show(value)}: write it as a list, e.g. [0.001, 0.01].")
    return tuple(float(v) for v in value)


def seed_value(value: Any, key: str) -> int:
    if not (is_int(value) and 0 <= value < 2**31):
        raise KeyProblem(
            f"{key} must be an integer in 0..2147483647, got {show(value)}: set a whole number in that range."
        )
    return value


def string_value(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise KeyProblem(f"{key} must be a string, got {show(value)}: write it in quotes, e.g. {show(str(value))}.")
    return value


def bool_value(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise KeyProblem(f"{key} must be true or false, got {show(value)}: set it to true or false, without quotes.")
    return value


def table_value(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise KeyProblem(f"{key} must be a table ({{key = value, ...}}), got {show(value)}: write it as one.")
    return value


def one_of(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def read(value: Any, key: str) -> str:
        if value not in choices:
            raise KeyProblem(
                f"{key} must be one of {', '.join(map(show, choices))}, got {show(value)}: set it to one of them."
            )
        return value

    return read


def did_you_mean(name: str, known: Iterable[str], at: str) -> str:
    """How a sentence about an unknown name ends: the nearest known name, or all of them, and what to do."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean '{at}{close[0]}'?): rename it to '{at}{close[0]}', or remove it."
    return f": rename it to one of {', '.join(known)}, or remove it."


def unknown_key(key: str, known: Iterable[str], at: str) -> str:
    """The sentence for a key no table of this kind has."""
    return f"unknown key '{at}{key}'{did_you_mean(key, known, at)}"


class Fields:
    """One table's keys, read one by one; unknown and missing keys are found first."""

    def __init__(self, table: Mapping[str, Any], at: str, known: tuple[str, ...], required: tuple[str, ...] = ()):
        self.table = table
        self.at = at  #: the table's place in key names: ``""``, ``"models[0]."``, ``"tolerance."``
        for key in table:
            if key not in known:
                raise KeyProblem(unknown_key(key, known, at))
        missing = [f"'{at}{key}'" for key in required if key not in table]
        if missing:
            several = len(missing) > 1
            raise KeyProblem(
                f"missing required key{'s' if several else ''} {', '.join(missing)}: "
                f"add {'them' if several else 'it'} (docs/your-own-model.md describes every key)."
            )

    def __contains__(self, key: str) -> bool:
        return key in self.table

    def get(self, key: str, read: Callable[[Any, str], Any], default: Any = None) -> Any:
        return read(self.table[key], self.at + key) if key in self.table else default
