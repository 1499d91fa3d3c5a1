"""Profiles a project declares for itself: pyproject.toml tables and the ``pytest_privacy_profiles`` hook.

A team puts the gate on its own model without writing Python::

    [tool.privacy_checks.profiles.wine]
    dataset = "function:wine_gate.data:load"
    num_classes = 3
    input_shape = [13]
    epochs = 60

    [[tool.privacy_checks.profiles.wine.models]]
    name = "mlp"
    builder = "wine_gate.model:build"

:func:`profile_from_table` turns one table into a :class:`~privacy_checks.profiles.Profile`;
every problem is a :class:`ProfileError` that names the file, the table and
the exact key, because a typo in a configuration file must not silently
measure something else. :class:`RunProfiles` registers what one pytest run
declares and forgets it when the run ends (docs/your-own-model.md).

No TensorFlow here: collection and ``pytest --help`` read this on every run.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

from privacy_checks import profiles
from privacy_checks.files import display_path
from privacy_checks.profiles import (
    ATTACKS,
    DEFAULT_DELTA,
    DEFAULT_FPRS,
    DEFAULT_THREADS,
    DPSGD,
    OUTPUTS,
    REFERENCE_ATTACKS,
    ModelSpec,
    Origin,
    Profile,
    Tolerance,
    check_dotted,
    dataset_location,
    is_path_source,
    with_location,
)

if TYPE_CHECKING:
    import pytest

#: Where profiles are declared in pyproject.toml.
TABLE = "tool.privacy_checks.profiles"

#: What a profile leaves out gets these (a member count of None: the whole member set).
DEFAULT_BATCH_SIZE = 50
DEFAULT_LEARNING_RATE = 1e-3
DEFAULT_ATTACKS: tuple[str, ...] = ("threshold", "logistic_regression")
DEFAULT_TOLERANCE = Tolerance(auc=0.03, attacker_advantage=0.05, tpr=0.05)
DEFAULT_CLASS_TOLERANCE = Tolerance(auc=0.10, attacker_advantage=0.15, tpr=0.25)
#: A new baseline is recorded with its seed spread over this many seeds (0: uncalibrated).
DEFAULT_CALIBRATION_SEEDS = 5
PADDINGS: tuple[str, ...] = ("valid", "same")

_PROFILE_KEYS: tuple[str, ...] = (
    "description", "dataset", "num_classes", "input_shape", "members", "epochs", "report_epochs",
    "batch_size", "learning_rate", "padding", "attacks", "by_class", "seed", "fprs", "tolerance",
    "class_tolerance", "intra_op_threads", "inter_op_threads", "models", "reference_models",
    "calibration_seeds",
)
_PROFILE_REQUIRED: tuple[str, ...] = ("dataset", "num_classes", "input_shape", "epochs", "models")
_MODEL_KEYS: tuple[str, ...] = (
    "name", "label", "builder", "params", "outputs", "version", "dp", "compare_to",
    "num_conv", "activation", "filters", "dense_units",
)
#: Keys that describe the built-in codelab CNN, meaningless next to a builder.
_CODELAB_KEYS: tuple[str, ...] = ("num_conv", "activation", "filters", "dense_units")
#: The keys of [tool.privacy_checks] itself.
_PLUGIN_KEYS: tuple[str, ...] = ("profiles",)
_DP_KEYS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(DPSGD))
_TOLERANCE_KEYS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(Tolerance))


class ProfileError(ValueError):
    """A declared profile cannot be used; the message names the file, the table and the key."""


class _Bad(Exception):
    """A problem with one key of a table; :func:`profile_from_table` adds the file and table."""


@dataclasses.dataclass(frozen=True)
class Declared:
    """A profile a project declared, and where."""

    profile: Profile
    origin: Origin


def table_name(name: str) -> str:
    """The TOML header of a profile's table: ``tool.privacy_checks.profiles.wine``."""
    key = name if name and all(c.isalnum() or c in "_-" for c in name) and name.isascii() else json.dumps(name)
    return f"{TABLE}.{key}"


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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(value: Any, key: str) -> int:
    if not (_is_int(value) and value > 0):
        raise _Bad(f"{key} must be a positive integer, got {show(value)}: set it to a whole number above 0.")
    return value


def _positive_ints(value: Any, key: str) -> tuple[int, ...]:
    if not (isinstance(value, list) and value and all(_is_int(v) and v > 0 for v in value)):
        raise _Bad(
            f"{key} must be a list of positive integers, got {show(value)}: "
            "write it as a list of whole numbers above 0, e.g. [10, 30]."
        )
    return tuple(value)


def _positive_number(value: Any, key: str) -> float:
    if not (_is_number(value) and value > 0):
        raise _Bad(f"{key} must be a positive number, got {show(value)}: set it to a number above 0, e.g. 0.001.")
    return float(value)


def _number(value: Any, key: str) -> float:
    if not _is_number(value):
        raise _Bad(f"{key} must be a number, got {show(value)}: write it without quotes, e.g. 0.05.")
    return float(value)


def _numbers(value: Any, key: str) -> tuple[float, ...]:
    if not (isinstance(value, list) and value and all(_is_number(v) for v in value)):
        raise _Bad(f"{key} must be a list of numbers, got {show(value)}: write it as a list, e.g. [0.001, 0.01].")
    return tuple(float(v) for v in value)


def _calibration_seeds(value: Any, key: str) -> int:
    if not (_is_int(value) and (value == 0 or value >= 2)):
        raise _Bad(
            f"{key} must be 0 (record baselines uncalibrated) or a number of seeds of at least 2, "
            f"got {show(value)}: set {key} = 5 (the default), or 0 to opt out."
        )
    return value


def _seed(value: Any, key: str) -> int:
    if not (_is_int(value) and 0 <= value < 2**31):
        raise _Bad(f"{key} must be an integer in 0..2147483647, got {show(value)}: set a whole number in that range.")
    return value


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{key} must be a string, got {show(value)}: write it in quotes, e.g. {show(str(value))}.")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"{key} must be true or false, got {show(value)}: set it to true or false, without quotes.")
    return value


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{key} must be a table ({{key = value, ...}}), got {show(value)}: write it as one.")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def read(value: Any, key: str) -> str:
        if value not in choices:
            raise _Bad(
                f"{key} must be one of {', '.join(map(show, choices))}, got {show(value)}: set it to one of them."
            )
        return value

    return read


def _attacks(value: Any, key: str) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise _Bad(
            f"{key} must be a list of attack names, got {show(value)}: "
            'write it as a list, e.g. ["threshold", "logistic_regression"].'
        )
    known = (*ATTACKS, *REFERENCE_ATTACKS)
    for attack in value:
        if attack not in known:
            raise _Bad(f"{key}: unknown attack {show(attack)}{_did_you_mean(attack, known, '')}")
    return tuple(value)


def _reference_models(value: Any, key: str) -> dict[str, int]:
    """``{rmia = 2, lira_online = 16}``: reference models per reference-model attack."""
    table = _table(value, key)
    for attack, count in table.items():
        if attack not in REFERENCE_ATTACKS:
            raise _Bad(
                f"{key}.{attack} is no reference-model attack{_did_you_mean(attack, REFERENCE_ATTACKS, f'{key}.')}"
            )
        if not (_is_int(count) and count >= 2 and count % 2 == 0):
            raise _Bad(
                f"{key}.{attack} must be an even number >= 2 (references come in pairs), got {show(count)}: "
                "set it to an even number, e.g. 2 or 16."
            )
    return dict(table)


def _did_you_mean(name: str, known: Iterable[str], at: str) -> str:
    """How a sentence about an unknown name ends: the nearest known name, or all of them, and what to do."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean '{at}{close[0]}'?): rename it to '{at}{close[0]}', or remove it."
    return f": rename it to one of {', '.join(known)}, or remove it."


def _unknown_key(key: str, known: Iterable[str], at: str) -> str:
    """The sentence for a key no table of this kind has."""
    return f"unknown key '{at}{key}'{_did_you_mean(key, known, at)}"


class _Fields:
    """One table's keys, read one by one; unknown and missing keys are found first."""

    def __init__(self, table: Mapping[str, Any], at: str, known: tuple[str, ...], required: tuple[str, ...] = ()):
        self.table = table
        self.at = at  #: the table's place in key names: ``""``, ``"models[0]."``, ``"tolerance."``
        for key in table:
            if key not in known:
                raise _Bad(_unknown_key(key, known, at))
        missing = [f"'{at}{key}'" for key in required if key not in table]
        if missing:
            several = len(missing) > 1
            raise _Bad(
                f"missing required key{'s' if several else ''} {', '.join(missing)}: "
                f"add {'them' if several else 'it'} (docs/your-own-model.md describes every key)."
            )

    def __contains__(self, key: str) -> bool:
        return key in self.table

    def get(self, key: str, read: Callable[[Any, str], Any], default: Any = None) -> Any:
        return read(self.table[key], self.at + key) if key in self.table else default


# -- tables -------------------------------------------------------------------------------


def _tolerance(default: Tolerance) -> Callable[[Any, str], Tolerance]:
    def read(value: Any, key: str) -> Tolerance:
        fields = _Fields(_table(value, key), f"{key}.", _TOLERANCE_KEYS)
        values = {}
        for name in _TOLERANCE_KEYS:
            values[name] = fields.get(name, _number, getattr(default, name))
            if not 0 <= values[name] <= 1:
                raise _Bad(
                    f"{key}.{name} must lie between 0 and 1, got {show(fields.table[name])}: set it to how far "
                    "the metric may rise above its baseline, e.g. 0.05."
                )
        return Tolerance(**values)

    return read


def _dp(value: Any, key: str) -> DPSGD:
    fields = _Fields(_table(value, key), f"{key}.", _DP_KEYS, required=("l2_norm_clip", "noise_multiplier", "learning_rate"))
    return DPSGD(
        l2_norm_clip=fields.get("l2_norm_clip", _number),
        noise_multiplier=fields.get("noise_multiplier", _number),
        learning_rate=fields.get("learning_rate", _number),
        delta=fields.get("delta", _number, DEFAULT_DELTA),
        max_epsilon=fields.get("max_epsilon", _positive_number),
    )


def _builder(value: Any, key: str) -> str:
    try:
        return check_dotted(_string(value, key), key)
    except ValueError as error:
        raise _Bad(str(error)) from None


def _model(value: Any, key: str) -> ModelSpec:
    at = f"{key}."
    fields = _Fields(_table(value, key), at, _MODEL_KEYS, required=("name",))
    name = fields.get("name", _string)
    builder = fields.get("builder", _builder)
    if builder is not None:
        codelab = [k for k in _CODELAB_KEYS if k in fields]
        if codelab:
            raise _Bad(
                f"{at}{codelab[0]} describes the built-in codelab CNN, not a builder's model: "
                f"pass your builder's arguments in {at}params."
            )
    elif "num_conv" not in fields:
        raise _Bad(
            f"{key} needs {at}builder (\"package.module:function\" returning a tf.keras.Model) "
            f"or {at}num_conv (the conv layers of the built-in codelab CNN): set one of them."
        )
    elif "params" in fields:
        raise _Bad(f"{at}params are a builder's keyword arguments: set {at}builder too, or remove {at}params.")
    return ModelSpec(
        name=name,
        label=fields.get("label", _string, name),
        num_conv=fields.get("num_conv", _positive_int),
        activation=fields.get("activation", _string, "relu"),
        dp=fields.get("dp", _dp),
        compare_to=fields.get("compare_to", _string),
        filters=fields.get("filters", _positive_int),
        dense_units=fields.get("dense_units", _positive_int),
        builder=builder,
        params=fields.get("params", _table),
        outputs=fields.get("outputs", _choice(OUTPUTS)),
        version=fields.get("version", _string),
    )


def _models(header: str) -> Callable[[Any, str], tuple[ModelSpec, ...]]:
    def read(value: Any, key: str) -> tuple[ModelSpec, ...]:
        if not (isinstance(value, list) and value):
            raise _Bad(
                f"{key} must hold at least one model: a [[{header}.{key}]] table each, got {show(value)}: "
                "add one such table per model."
            )
        return tuple(_model(item, f"{key}[{i}]") for i, item in enumerate(value))

    return read


def resolve_dataset(dataset: str, base: Path) -> str:
    """A path source's relative location taken from ``base``, the pyproject.toml's directory.

    A pyproject is read from wherever pytest runs; its paths must mean the
    same files from every working directory, as a path in an ini file does.
    """
    where = dataset_location(dataset)
    if not is_path_source(dataset) or not where:
        return dataset
    location = Path(where).expanduser()
    return dataset if location.is_absolute() else with_location(dataset, os.path.normpath(base / location))


def profile_from_table(name: str, table: Mapping[str, Any], *, path: Path) -> Profile:
    """The profile ``[tool.privacy_checks.profiles.NAME]`` of the pyproject.toml at ``path`` declares.

    Raises :class:`ProfileError` naming the file, the table and the key.
    """
    prefix = f"{display_path(path)} [{table_name(name)}]"
    try:
        fields = _Fields(_table(table, table_name(name)), "", _PROFILE_KEYS, _PROFILE_REQUIRED)
        epochs = fields.get("epochs", _positive_int)
        arguments = dict(
            name=name,
            description=fields.get("description", _string, ""),
            dataset=resolve_dataset(fields.get("dataset", _string), Path(path).absolute().parent),
            num_classes=fields.get("num_classes", _positive_int),
            input_shape=fields.get("input_shape", _positive_ints),
            members=fields.get("members", _positive_int),
            models=fields.get("models", _models(table_name(name))),
            epochs=epochs,
            report_epochs=fields.get("report_epochs", _positive_ints, (epochs,)),
            batch_size=fields.get("batch_size", _positive_int, DEFAULT_BATCH_SIZE),
            learning_rate=fields.get("learning_rate", _positive_number, DEFAULT_LEARNING_RATE),
            padding=fields.get("padding", _choice(PADDINGS), "valid"),
            attacks=fields.get("attacks", _attacks, DEFAULT_ATTACKS),
            reference_models=fields.get("reference_models", _reference_models, {}),
            by_class=fields.get("by_class", _bool, True),
            seed=fields.get("seed", _seed, 0),
            fprs=fields.get("fprs", _numbers, DEFAULT_FPRS),
            tolerance=fields.get("tolerance", _tolerance(DEFAULT_TOLERANCE), DEFAULT_TOLERANCE),
            class_tolerance=fields.get(
                "class_tolerance", _tolerance(DEFAULT_CLASS_TOLERANCE), DEFAULT_CLASS_TOLERANCE
            ),
            intra_op_threads=fields.get("intra_op_threads", _positive_int, DEFAULT_THREADS),
            inter_op_threads=fields.get("inter_op_threads", _positive_int, DEFAULT_THREADS),
            calibration_seeds=fields.get("calibration_seeds", _calibration_seeds, DEFAULT_CALIBRATION_SEEDS),
        )
    except _Bad as error:
        raise ProfileError(f"{prefix}: {error}") from None
    try:
        return Profile(**arguments)
    except ValueError as error:  # the profile's own checks (epochs, attacks, DP, names, data source)
        message = str(error).removeprefix(f"profile {name!r}: ")
        raise ProfileError(f"{prefix}: {message}") from None


def find_pyproject(rootpath: Path, inipath: Path | None) -> Path | None:
    """The pyproject.toml of a pytest run: its ini file when that is one, else the rootdir's, if any."""
    if inipath is not None and Path(inipath).name == "pyproject.toml":
        return Path(inipath)
    candidate = Path(rootpath) / "pyproject.toml"
    return candidate if candidate.is_file() else None


def read_pyproject(path: Path) -> tuple[Declared, ...]:
    """Every profile the pyproject.toml at ``path`` declares (none without the table)."""
    shown = display_path(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ProfileError(
            f"{shown}: cannot be read: {error.strerror or error}: fix the file or its permissions."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProfileError(f"{shown}: not valid TOML: {error}; fix the TOML there.") from None
    tool: Any = data.get("tool", {})
    plugin = tool.get("privacy_checks") if isinstance(tool, dict) else None
    if plugin is None:
        return ()
    if not isinstance(plugin, dict):
        raise ProfileError(
            f"{shown}: [tool.privacy_checks] must be a table, got {show(plugin)}: "
            f"declare profiles as [{TABLE}.NAME] tables."
        )
    for key in plugin:  # a misspelt table must not leave the run on a built-in profile
        if key not in _PLUGIN_KEYS:
            raise ProfileError(f"{shown}: {_unknown_key(key, _PLUGIN_KEYS, 'tool.privacy_checks.')}")
    section = plugin.get("profiles")
    if section is None:
        return ()
    if not isinstance(section, dict):
        raise ProfileError(
            f"{shown}: [{TABLE}] must be a table of profiles, got {show(section)}: "
            f"declare each profile as a [{TABLE}.NAME] table."
        )
    file = os.path.abspath(path)
    return tuple(
        Declared(
            profile_from_table(name, table, path=path),
            Origin(f"{shown} [{table_name(name)}]", file, declared=True),
        )
        for name, table in section.items()
    )


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
                    f"{origin}: returned {profile!r}, not a privacy_checks.profiles.Profile: "
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
        self._previous_project_file = profiles.set_project_file(
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
                profiles.register_profile(item.profile, origin=item.origin)
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
            profiles.unregister_profile(profile)
        self._registered.clear()
        if self._noted:
            profiles.set_project_file(self._previous_project_file)
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
        known = profiles.PROFILES.get(name)
        origin = profiles.origin_of(name)
        if known is not None and origin is not None and not self.is_current(origin):
            profiles.unregister_profile(known)
