"""Ini keys that look like this plugin's but are none of its options: a usage error, before anything trains.

pytest only warns about a key it does not know, and a warning scrolls past:
``privacy_profil = "wine"`` would leave the run on the built-in ``digits``
profile, training for a minute and judging a model nobody meant to judge.
So every unknown key that starts with ``privacy_``, in whichever
configuration file pytest read (``pytest.ini``, ``tox.ini``, ``setup.cfg``,
``pyproject.toml``) or in ``-o``, stops the run with its name, the file and
the nearest option's name.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from privacy_checks.plugin.options import OPTIONS, Option
from privacy_checks.spec.files import display_path

if TYPE_CHECKING:
    import pytest

PREFIX = "privacy_"

#: Why the options without an ini twin have none (see :mod:`privacy_checks.plugin.options`).
_NO_TWIN = "it rewrites the committed baselines, which a configuration file must not do on every run"


def section(inipath: Path | None, mode: str = "ini") -> str:
    """Where pytest read its settings, as a user finds them: ``pyproject.toml [tool.pytest.ini_options]``.

    ``mode`` is pytest 9's: ``toml`` for ``[tool.pytest]`` and ``pytest.toml``.
    """
    if inipath is None:
        return "the ini options"
    name = Path(inipath).name
    table = {
        "pyproject.toml": "[tool.pytest]" if mode == "toml" else "[tool.pytest.ini_options]",
        "setup.cfg": "[tool:pytest]",
    }.get(name, "[pytest]")
    return f"{display_path(inipath)} {table}"


def config_keys(config: pytest.Config) -> dict[str, str]:
    """Every key of the run's ini configuration, with where it was set (:func:`section`, or ``-o``)."""
    values = getattr(config, "_inicfg", None)  # pytest >= 9 (``inicfg`` is deprecated there)
    if values is None:  # pytest < 9: a plain mapping of the file's keys
        return {key: section(config.inipath) for key in config.inicfg}
    found = {}
    for key, value in values.items():
        if getattr(value, "origin", "file") == "override":
            found[key] = "-o/--override-ini"
        else:
            found[key] = section(config.inipath, getattr(value, "mode", "ini"))
    return found


def problems(keys: Mapping[str, str], options: Iterable[Option] = OPTIONS) -> list[str]:
    """One whole sentence for each key that starts with ``privacy_`` but is no ini option of the plugin."""
    options = tuple(options)
    twins = {option.name for option in options if option.ini}
    names = [option.name for option in options]
    by_name = {option.name: option for option in options}
    found = []
    for key, where in sorted(keys.items()):
        if not key.startswith(PREFIX) or key in twins:
            continue
        # Compared without the prefix, which every name shares: privacy_zzz is close to nothing.
        close = difflib.get_close_matches(key[len(PREFIX):], [name[len(PREFIX):] for name in names], n=1)
        option = by_name.get(PREFIX + close[0]) if close else None
        if option is not None and not option.ini:
            found.append(
                f"{where}: {key!r} is no ini key: {option.cli} has no ini twin, because {_NO_TWIN}. "
                f"Pass {option.cli} on the command line when you mean it, and remove the key."
            )
        elif option is not None:
            found.append(
                f"{where}: unknown key {key!r} (did you mean {option.name!r}?): "
                f"rename it to {option.name}, or remove it."
            )
        else:
            found.append(
                f"{where}: unknown key {key!r}; the plugin's ini keys are {', '.join(sorted(twins))}: "
                "rename it to one of them, or remove it."
            )
    return found


def check(config: pytest.Config) -> None:
    """Raises ``pytest.UsageError`` naming every unknown ``privacy_`` key (``pytest_configure``)."""
    import pytest

    found = problems(config_keys(config))
    if found:
        raise pytest.UsageError("\n".join(found))
