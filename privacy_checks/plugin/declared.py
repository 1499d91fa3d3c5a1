"""The profiles one pytest run declares: the pyproject.toml's tables (:mod:`privacy_checks.spec.pyproject`)
and the ``pytest_privacy_profiles`` hook, registered while the run lasts and forgotten when it ends."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from privacy_checks.spec import registry
from privacy_checks.spec.files import display_path
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.pyproject import Declared, ProfileError, find_pyproject, read_pyproject
from privacy_checks.spec.registry import Origin

if TYPE_CHECKING:
    import pytest


def hook_profiles(config: pytest.Config) -> tuple[Declared, ...]:
    """What the project's ``pytest_privacy_profiles`` implementations return, each with its origin.

    The implementations are called one by one, in pluggy's order, so that
    each profile is known by the implementation that made it.
    """
    caller = getattr(config.hook, "pytest_privacy_profiles", None)
    if caller is None:
        return ()
    found: list[Declared] = []
    for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last registered first
        if impl.hookwrapper or getattr(impl, "wrapper", False):
            continue
        code = getattr(impl.function, "__code__", None)
        file = os.path.abspath(code.co_filename) if code else getattr(impl.plugin, "__file__", None)
        where = f"{display_path(file)}:{code.co_firstlineno}" if code else str(file or impl.plugin_name)
        origin = Origin(f"{where} (pytest_privacy_profiles)", file, declared=True)
        result = impl.function(*[{"config": config}[name] for name in impl.argnames])
        if result is None:
            continue
        if isinstance(result, Profile) or not isinstance(result, Iterable):
            shown = f"the Profile {result.name!r} itself" if isinstance(result, Profile) else repr(result)
            raise ProfileError(
                f"{origin}: returned {shown}: return an iterable of Profiles (a list, even of one), or None."
            )
        for profile in result:
            if not isinstance(profile, Profile):
                raise ProfileError(
                    f"{origin}: returned {profile!r}, not a privacy_checks.Profile: "
                    "return Profile objects only."
                )
            found.append(Declared(profile, origin))
    return tuple(found)


class RunProfiles:
    """The profiles one pytest run declares, registered while it runs and forgotten when it ends.

    pytester's in-process runs share this process, and with it the registry,
    across projects in other directories. So a definition whose file lies
    outside this run's rootdir and belongs to no module loaded now (a
    ``conftest.py`` of an earlier run) is a leftover, not a conflict; a
    declaration is forgotten at the end of its run. Everything else that
    shares a declared name is an error naming both places.
    """

    def __init__(self, rootpath: Path) -> None:
        self.rootpath = Path(os.path.realpath(rootpath))
        self._registered: list[Profile] = []
        self._project_file: str | None = None
        self._previous_project_file: str | None = None
        self._noted = False
        self._loaded: frozenset[str] | None = None

    def declare(self, config: pytest.Config) -> None:
        """Registers the pyproject's profiles, then those of ``pytest_privacy_profiles`` hooks.

        In that order, so that a hook may derive its profiles from declared ones.
        """
        pyproject = find_pyproject(config.rootpath, config.inipath)
        # Set even to None: an enclosing run in this process may have named its own.
        self._previous_project_file = registry.set_project_file(
            None if pyproject is None else os.path.abspath(pyproject)
        )
        self._noted = True
        if pyproject is not None:
            self.register(read_pyproject(pyproject))
        self.register(hook_profiles(config))

    def register(self, declared: Iterable[Declared]) -> None:
        for item in declared:
            self._drop_leftover(item.profile.name)
            try:
                registry.register_profile(item.profile, origin=item.origin)
            except ValueError as error:
                raise ProfileError(str(error)) from None
            self._registered.append(item.profile)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the profiles this run declared, in the order declared."""
        return tuple(profile.name for profile in self._registered)

    def forget(self) -> None:
        """Unregisters what :meth:`register` registered; :func:`get_profile` forgets the pyproject."""
        for profile in reversed(self._registered):
            registry.unregister_profile(profile)
        self._registered.clear()
        if self._noted:
            registry.set_project_file(self._previous_project_file)
            self._noted = False

    def is_current(self, origin: Origin) -> bool:
        """Whether a definition belongs to this run: under its rootdir, or in a module loaded now."""
        if origin.file is None:
            return True  # nobody said where: it may well be this run's
        file = os.path.realpath(origin.file)
        if Path(file).is_relative_to(self.rootpath):
            return True
        if self._loaded is None:
            self._loaded = frozenset(
                os.path.realpath(module.__file__)
                for module in list(sys.modules.values())
                if isinstance(getattr(module, "__file__", None), str)
            )
        return file in self._loaded

    def _drop_leftover(self, name: str) -> None:
        """Forgets a definition of ``name`` left by an earlier run (built-ins are always current)."""
        known = registry.PROFILES.get(name)
        origin = registry.origin_of(name)
        if known is not None and origin is not None and not self.is_current(origin):
            registry.unregister_profile(known)
