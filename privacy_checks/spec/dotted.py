"""User code named in a profile: ``"package.module:function"`` resolved to the callable, with errors that say what to do.

A profile names a model builder or a data function by path, the way
pytest names plugins and setuptools names entry points: importable from the
project (pytest's ``pythonpath`` ini option puts a project directory on the
path). Resolving imports the module; :func:`module_file` finds its file
without running it, for the cache key.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path
from typing import Any, Callable

from privacy_checks.spec.model_spec import callable_name, check_dotted


class UserCodeError(RuntimeError):
    """A builder or data function cannot be used; the message names the profile key and what to do."""


def resolve(function: str | Callable[..., Any], where: str) -> Callable[..., Any]:
    """The callable ``function`` names (or ``function`` itself); ``where`` names the profile key.

    ``where`` reads like ``profile 'wine', models[0].builder``.
    """
    if not isinstance(function, str):
        if not callable(function):
            raise UserCodeError(f"{where}: {function!r} is not callable: pass the function itself.")
        return function
    try:
        check_dotted(function, where)
    except ValueError as error:
        raise UserCodeError(str(error)) from None
    module_name, _, attribute = function.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # the user's module may raise anything while importing
        hint = (
            " Is the project's directory importable? Add it with pytest's ini option "
            "pythonpath = [\".\"] (in [tool.pytest.ini_options]) or install the project."
            if isinstance(error, ModuleNotFoundError) and error.name and module_name.startswith(error.name)
            else " Fix the error that importing it raises."
        )
        raise UserCodeError(
            f"{where}: cannot import {module_name!r} for {function!r} "
            f"({type(error).__name__}: {error}).{hint}"
        ) from None
    found: Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise UserCodeError(
                f"{where}: module {module_name!r} has no {attribute!r} (from {function!r}); "
                "fix the name after the colon."
            ) from None
    if not callable(found):
        raise UserCodeError(
            f"{where}: {function!r} is not callable (it is of type {type(found).__name__}); "
            "name a function that returns what the profile needs."
        )
    return found


def module_file(function: str | Callable[..., Any]) -> Path | None:
    """The source file of the module that defines ``function``, without importing it; None if unknown.

    A callable names its own file (a conftest.py's module name, ``conftest``,
    would find another project's file on the path).
    """
    if not isinstance(function, str):
        try:
            found = inspect.getsourcefile(function)
        except TypeError:  # built-ins, C extensions
            found = None
        return Path(found) if found and Path(found).is_file() else None
    module_name = callable_name(function).partition(":")[0]
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None)
    if not origin or not Path(origin).is_file():
        return None
    return Path(origin)
