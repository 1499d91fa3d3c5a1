"""Profiles a project declares for itself in its pyproject.toml.

A team puts the gate on its own model without writing Python::

    [tool.privacy_checks.profiles.wine]
    dataset = "function:wine_gate.data:load"
    num_classes = 3
    input_shape = [13]
    epochs = 60

    [[tool.privacy_checks.profiles.wine.models]]
    name = "mlp"
    builder = "wine_gate.model:build"

:func:`profile_from_table` turns one table into a :class:`~privacy_checks.spec.profile.Profile`;
every problem is a :class:`ProfileError` that names the file, the table and
the exact key, because a typo in a configuration file must not silently
measure something else. :class:`~privacy_checks.plugin.declared.RunProfiles`
registers what one pytest run declares and forgets it when the run ends
(docs/your-own-model.md).

No TensorFlow here: collection and ``pytest --help`` read this on every run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

from privacy_checks.spec.files import display_path
from privacy_checks.spec.fingerprint import DEFAULT_THREADS
from privacy_checks.spec.model_spec import DPSGD, OUTPUTS, ModelSpec, Tolerance, check_dotted
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.pyproject_values import (
    Fields, KeyProblem, any_number, bool_value, did_you_mean, is_int, number_list, one_of, positive_int, positive_ints,
    positive_number, seed_value, show, string_value, table_value, unknown_key,
)
from privacy_checks.spec.registry import Origin
from privacy_checks.spec.sources import dataset_location, is_path_source, with_location
from privacy_checks.spec.vocabulary import ATTACKS, DEFAULT_DELTA, DEFAULT_FPRS, REFERENCE_ATTACKS


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


@dataclasses.dataclass(frozen=True)
class Declared:
    """A profile a project declared, and where."""

    profile: Profile
    origin: Origin


def table_name(name: str) -> str:
    """The TOML header of a profile's table: ``tool.privacy_checks.profiles.wine``."""
    key = name if name and all(c.isalnum() or c in "_-" for c in name) and name.isascii() else json.dumps(name)
    return f"{TABLE}.{key}"


def _calibration_seeds(value: Any, key: str) -> int:
    if not (is_int(value) and (value == 0 or value >= 2)):
        raise KeyProblem(
            f"{key} must be 0 (record baselines uncalibrated) or a number of seeds of at least 2, "
            f"got {show(value)}: set {key} = 5 (the default), or 0 to opt out."
        )
    return value


def _attacks(value: Any, key: str) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise KeyProblem(
            f"{key} must be a list of attack names, got {show(value)}: "
            'write it as a list, e.g. ["threshold", "logistic_regression"].'
        )
    known = (*ATTACKS, *REFERENCE_ATTACKS)
    for attack in value:
        if attack not in known:
            raise KeyProblem(f"{key}: unknown attack {show(attack)}{did_you_mean(attack, known, '')}")
    return tuple(value)


def _reference_models(value: Any, key: str) -> dict[str, int]:
    """``{rmia = 2, lira_online = 16}``: reference models per reference-model attack."""
    table = table_value(value, key)
    for attack, count in table.items():
        if attack not in REFERENCE_ATTACKS:
            raise KeyProblem(
                f"{key}.{attack} is no reference-model attack{did_you_mean(attack, REFERENCE_ATTACKS, f'{key}.')}"
            )
        if not (is_int(count) and count >= 2 and count % 2 == 0):
            raise KeyProblem(
                f"{key}.{attack} must be an even number >= 2 (references come in pairs), got {show(count)}: "
                "set it to an even number, e.g. 2 or 16."
            )
    return dict(table)


def _tolerance(default: Tolerance) -> Callable[[Any, str], Tolerance]:
    def read(value: Any, key: str) -> Tolerance:
        fields = Fields(table_value(value, key), f"{key}.", _TOLERANCE_KEYS)
        values = {}
        for name in _TOLERANCE_KEYS:
            values[name] = fields.get(name, any_number, getattr(default, name))
            if not 0 <= values[name] <= 1:
                raise KeyProblem(
                    f"{key}.{name} must lie between 0 and 1, got {show(fields.table[name])}: set it to how far "
                    "the metric may rise above its baseline, e.g. 0.05."
                )
        return Tolerance(**values)

    return read


def _dp(value: Any, key: str) -> DPSGD:
    fields = Fields(
        table_value(value, key), f"{key}.", _DP_KEYS, required=("l2_norm_clip", "noise_multiplier", "learning_rate")
    )
    return DPSGD(
        l2_norm_clip=fields.get("l2_norm_clip", any_number),
        noise_multiplier=fields.get("noise_multiplier", any_number),
        learning_rate=fields.get("learning_rate", any_number),
        delta=fields.get("delta", any_number, DEFAULT_DELTA),
        max_epsilon=fields.get("max_epsilon", positive_number),
    )


def _builder(value: Any, key: str) -> str:
    try:
        return check_dotted(string_value(value, key), key)
    except ValueError as error:
        raise KeyProblem(str(error)) from None


def _model(value: Any, key: str) -> ModelSpec:
    at = f"{key}."
    fields = Fields(table_value(value, key), at, _MODEL_KEYS, required=("name",))
    name = fields.get("name", string_value)
    builder = fields.get("builder", _builder)
    if builder is not None:
        codelab = [k for k in _CODELAB_KEYS if k in fields]
        if codelab:
            raise KeyProblem(
                f"{at}{codelab[0]} describes the built-in codelab CNN, not a builder's model: "
                f"pass your builder's arguments in {at}params."
            )
    elif "num_conv" not in fields:
        raise KeyProblem(
            f"{key} needs {at}builder (\"package.module:function\" returning a tf.keras.Model) "
            f"or {at}num_conv (the conv layers of the built-in codelab CNN): set one of them."
        )
    elif "params" in fields:
        raise KeyProblem(f"{at}params are a builder's keyword arguments: set {at}builder too, or remove {at}params.")
    return ModelSpec(
        name=name,
        label=fields.get("label", string_value, name),
        num_conv=fields.get("num_conv", positive_int),
        activation=fields.get("activation", string_value, "relu"),
        dp=fields.get("dp", _dp),
        compare_to=fields.get("compare_to", string_value),
        filters=fields.get("filters", positive_int),
        dense_units=fields.get("dense_units", positive_int),
        builder=builder,
        params=fields.get("params", table_value),
        outputs=fields.get("outputs", one_of(OUTPUTS)),
        version=fields.get("version", string_value),
    )


def _models(header: str) -> Callable[[Any, str], tuple[ModelSpec, ...]]:
    def read(value: Any, key: str) -> tuple[ModelSpec, ...]:
        if not (isinstance(value, list) and value):
            raise KeyProblem(
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
        fields = Fields(table_value(table, table_name(name)), "", _PROFILE_KEYS, _PROFILE_REQUIRED)
        epochs = fields.get("epochs", positive_int)
        arguments = dict(
            name=name,
            description=fields.get("description", string_value, ""),
            dataset=resolve_dataset(fields.get("dataset", string_value), Path(path).absolute().parent),
            num_classes=fields.get("num_classes", positive_int),
            input_shape=fields.get("input_shape", positive_ints),
            members=fields.get("members", positive_int),
            models=fields.get("models", _models(table_name(name))),
            epochs=epochs,
            report_epochs=fields.get("report_epochs", positive_ints, (epochs,)),
            batch_size=fields.get("batch_size", positive_int, DEFAULT_BATCH_SIZE),
            learning_rate=fields.get("learning_rate", positive_number, DEFAULT_LEARNING_RATE),
            padding=fields.get("padding", one_of(PADDINGS), "valid"),
            attacks=fields.get("attacks", _attacks, DEFAULT_ATTACKS),
            reference_models=fields.get("reference_models", _reference_models, {}),
            by_class=fields.get("by_class", bool_value, True),
            seed=fields.get("seed", seed_value, 0),
            fprs=fields.get("fprs", number_list, DEFAULT_FPRS),
            tolerance=fields.get("tolerance", _tolerance(DEFAULT_TOLERANCE), DEFAULT_TOLERANCE),
            class_tolerance=fields.get(
                "class_tolerance", _tolerance(DEFAULT_CLASS_TOLERANCE), DEFAULT_CLASS_TOLERANCE
            ),
            intra_op_threads=fields.get("intra_op_threads", positive_int, DEFAULT_THREADS),
            inter_op_threads=fields.get("inter_op_threads", positive_int, DEFAULT_THREADS),
            calibration_seeds=fields.get("calibration_seeds", _calibration_seeds, DEFAULT_CALIBRATION_SEEDS),
        )
    except KeyProblem as error:
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
            raise ProfileError(f"{shown}: {unknown_key(key, _PLUGIN_KEYS, 'tool.privacy_checks.')}")
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
