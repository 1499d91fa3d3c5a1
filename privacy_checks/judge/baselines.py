"""Stored baselines: reviewed JSON files, compared one-sidedly, written atomically.

One file per profile and model, ``baselines/<profile>/<model>.json``. The
file is written so that a change reads as a clean diff in review: fixed key
order, one entry per line sorted by epoch, attack and slice, and every metric
with exactly six decimals. It records what it was made from (profile, its
hash and fingerprint, seed, data source, package versions, the machine type
it was measured on) but no timestamp:
git already knows when, and a rerun that measures the same numbers must write
the same bytes. A baseline recorded with ``--privacy-calibrate`` also holds,
per entry, the seed-to-seed standard deviation of each metric (``seed_sd``)
and the seeds it came from; tolerances are derived from it (see
:mod:`privacy_checks.judge.tolerances`).

How a measured value is judged against an entry lives in
:mod:`privacy_checks.judge.verdicts`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Mapping

from privacy_checks.judge import messages
from privacy_checks.spec.cases import entry_key
from privacy_checks.spec.files import display_path, write_atomic
from privacy_checks.spec.vocabulary import ATTACKS, ENTIRE_DATASET, METRICS, metric_fpr

SCHEMA = 2
DECIMALS = 6


class BaselineError(ValueError):
    """A baseline file cannot be used; the message names the file and what to do."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(messages.unusable_baseline(display_path(path), problem))
        self.path = path


@dataclasses.dataclass(frozen=True)
class Entry:
    """The stored metrics of one (epoch, attack, slice) of one model."""

    epoch: int
    attack: str
    slice: str
    metrics: Mapping[str, float]
    #: Seed-to-seed standard deviation per metric; empty unless calibrated.
    seed_sd: Mapping[str, float] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        return entry_key(self.epoch, self.attack, self.slice)


def _sort_key(entry: Entry) -> tuple:
    attack_order = list(ATTACKS)
    attack_rank = attack_order.index(entry.attack) if entry.attack in ATTACKS else len(ATTACKS)
    if entry.slice == ENTIRE_DATASET:
        slice_rank: tuple = (0, 0, "")
    elif entry.slice.startswith("class_") and entry.slice[6:].isdigit():
        slice_rank = (1, int(entry.slice[6:]), "")
    else:
        slice_rank = (2, 0, entry.slice)
    return (entry.epoch, attack_rank, entry.attack, slice_rank)


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The contents of one baseline file."""

    profile: str
    profile_hash: str
    model: str
    seed: int
    data_source: str
    versions: Mapping[str, str]
    entries: Mapping[str, Entry]  #: by :func:`entry_key`
    #: :meth:`Profile.fingerprint` of the recording profile: says *what* changed
    #: when the hash no longer matches.
    fingerprint: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: Seeds whose spread is stored in the entries' ``seed_sd``; empty: not calibrated.
    calibration_seeds: tuple[int, ...] = ()
    #: :func:`privacy_checks.spec.environment.machine` where it was recorded; None: not
    #: recorded (files from before it was), which is unknown, not different.
    machine: Mapping[str, Any] | None = None
    #: A DP model's accountant epsilon by report epoch (empty for other models): a later
    #: run whose training promises less privacy (a larger epsilon) fails like a leak.
    epsilon: Mapping[int, float] = dataclasses.field(default_factory=dict)


#: The fields of a baseline's ``machine`` record and the JSON types each may take.
MACHINE_FIELDS: dict[str, tuple[type, ...]] = {
    "cpu": (str,),
    "cpu_flags": (str,),
    "cores": (int, type(None)),
    "gpu": (str, type(None)),
}


#: The folder, under a profile's, of the current lane's baselines (:mod:`privacy_checks.train.lane`).
CURRENT_LANE_FOLDER = "current"


def baseline_folder(root: Path, profile: str, lane: str = "codelab") -> Path:
    """Where a profile's baselines of ``lane`` live: ``baselines/<profile>/`` for the codelab lane,
    ``baselines/<profile>/current/`` for the current lane.

    Each lane has its own: the same seed gives other numbers on another stack (a DP model's noise is
    drawn by another optimizer; TensorFlow's kernels differ), by about a seed's spread, and a check
    must never fail because a team moved to Keras 3. The codelab lane keeps the place its baselines
    always had.
    """
    folder = Path(root) / profile
    return folder / CURRENT_LANE_FOLDER if lane == "current" else folder


def baseline_path(root: Path, profile: str, model: str, lane: str = "codelab") -> Path:
    return baseline_folder(root, profile, lane) / f"{model}.json"


def dumps(baseline: Baseline) -> str:
    """The file's text: stable order, one entry per line, fixed precision."""
    lines = ["{", f'  "schema": {SCHEMA},']
    for name in ("profile", "profile_hash", "model", "seed", "data_source"):
        lines.append(f'  "{name}": {json.dumps(getattr(baseline, name))},')
    lines.append(f'  "versions": {json.dumps(dict(baseline.versions), sort_keys=True)},')
    if baseline.machine is not None:
        lines.append(f'  "machine": {json.dumps(dict(baseline.machine), sort_keys=True)},')
    lines.append(f'  "fingerprint": {json.dumps(baseline.fingerprint, sort_keys=True)},')
    lines.append(f'  "calibration_seeds": {json.dumps(list(baseline.calibration_seeds))},')
    if baseline.epsilon:
        lines.append(f'  "epsilon": {{{_epsilons(baseline.epsilon)}}},')
    entries = sorted(baseline.entries.values(), key=_sort_key)
    lines.append('  "entries": [' if entries else '  "entries": []')
    for i, entry in enumerate(entries):
        comma = "," if i < len(entries) - 1 else ""
        lines.append(f"    {dumps_entry(entry)}{comma}")
    if entries:
        lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def metric_order(name: str) -> tuple:
    """AUC, attacker advantage, then TPRs by increasing FPR."""
    if name in METRICS:
        return (0, METRICS.index(name))
    return (1, metric_fpr(name) or 0.0, name)


def _numbers(values: Mapping[str, float]) -> str:
    return ", ".join(
        f'"{name}": {values[name]:.{DECIMALS}f}' for name in sorted(values, key=metric_order)
    )


def _epsilons(values: Mapping[int, float]) -> str:
    return ", ".join(f'"{epoch}": {values[epoch]:.{DECIMALS}f}' for epoch in sorted(values))


def dumps_entry(entry: Entry) -> str:
    """One entry as one line of JSON, metrics with fixed precision."""
    spread = f', "seed_sd": {{{_numbers(entry.seed_sd)}}}' if entry.seed_sd else ""
    return (
        f'{{"epoch": {entry.epoch}, "attack": {json.dumps(entry.attack)}, '
        f'"slice": {json.dumps(entry.slice)}, {_numbers(entry.metrics)}{spread}}}'
    )


def is_metric(name: str) -> bool:
    return name in METRICS or metric_fpr(name) is not None


def write(path: Path, baseline: Baseline) -> None:
    write_atomic(path, dumps(baseline))


def _require(condition: bool, path: Path, problem: str) -> None:
    if not condition:
        raise BaselineError(path, problem)


def _number(value: Any, path: Path, where: str) -> float:
    _require(
        isinstance(value, (int, float)) and not isinstance(value, bool),
        path,
        f"{where} is {value!r}, not a number",
    )
    _require(math.isfinite(value), path, f"{where} is {value!r}, not a finite number")
    return float(value)


def parse(text: str | bytes, path: Path) -> Baseline:
    """Parses and validates a baseline file's text; any problem is a :class:`BaselineError`."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BaselineError(path, f"not valid JSON ({error})") from None
    _require(isinstance(data, dict), path, "the top level must be a JSON object")
    _require(
        data.get("schema") == SCHEMA,
        path,
        f"schema is {data.get('schema')!r}, this version of privacy_checks reads schema {SCHEMA}",
    )
    for name, kind in (
        ("profile", str),
        ("profile_hash", str),
        ("model", str),
        ("seed", int),
        ("data_source", str),
        ("versions", dict),
        ("entries", list),
        ("fingerprint", dict),
        ("calibration_seeds", list),
    ):
        _require(name in data, path, f'the field "{name}" is missing')
        _require(
            isinstance(data[name], kind) and not isinstance(data[name], bool),
            path,
            f'the field "{name}" must be a {kind.__name__}',
        )
    entries: dict[str, Entry] = {}
    for index, raw in enumerate(data["entries"]):
        where = f"entries[{index}]"
        _require(isinstance(raw, dict), path, f"{where} must be an object")
        epoch = raw.get("epoch")
        _require(
            isinstance(epoch, int) and not isinstance(epoch, bool) and epoch > 0,
            path,
            f"{where}.epoch must be a positive integer",
        )
        for name in ("attack", "slice"):
            _require(isinstance(raw.get(name), str), path, f"{where}.{name} must be a string")
        for name in METRICS:
            _require(name in raw, path, f"{where} has no {name}")
        unknown = sorted(k for k in raw if k not in ("epoch", "attack", "slice", "seed_sd") and not is_metric(k))
        _require(not unknown, path, f"{where} has unknown fields {unknown}")
        metrics = {
            name: _number(value, path, f"{where}.{name}") for name, value in raw.items() if is_metric(name)
        }
        spread = raw.get("seed_sd", {})
        _require(isinstance(spread, dict), path, f"{where}.seed_sd must be an object")
        seed_sd = {}
        for name, value in spread.items():
            _require(name in metrics, path, f"{where}.seed_sd has {name!r}, which the entry lacks")
            seed_sd[name] = _number(value, path, f"{where}.seed_sd.{name}")
            _require(seed_sd[name] >= 0, path, f"{where}.seed_sd.{name} is negative")
        entry = Entry(epoch, raw["attack"], raw["slice"], metrics, seed_sd)
        _require(entry.key not in entries, path, f"{where} repeats {entry.key}")
        entries[entry.key] = entry
    return Baseline(
        profile=data["profile"],
        profile_hash=data["profile_hash"],
        model=data["model"],
        seed=data["seed"],
        data_source=data["data_source"],
        versions={str(k): str(v) for k, v in data["versions"].items()},
        entries=entries,
        fingerprint=data["fingerprint"],
        calibration_seeds=tuple(_seeds(data["calibration_seeds"], path)),
        machine=_machine(data["machine"], path) if "machine" in data else None,
        epsilon=_epsilon(data.get("epsilon", {}), path),
    )


def _epsilon(value: Any, path: Path) -> dict[int, float]:
    """A validated ``epsilon`` record: report epoch (a JSON key) -> the accountant's positive epsilon."""
    _require(isinstance(value, dict), path, 'the field "epsilon" must be an object of epoch: epsilon')
    found = {}
    for epoch, number in value.items():
        _require(epoch.isdigit() and int(epoch) > 0, path, f"epsilon has the key {epoch!r}, not a report epoch")
        found[int(epoch)] = _number(number, path, f"epsilon.{epoch}")
        _require(found[int(epoch)] > 0, path, f"epsilon.{epoch} is {number!r}, not a positive epsilon")
    return found


def _machine(value: Any, path: Path) -> dict[str, Any]:
    """A validated ``machine`` record: exactly :data:`MACHINE_FIELDS`, each of its type."""
    _require(isinstance(value, dict), path, 'the field "machine" must be an object')
    missing = [name for name in MACHINE_FIELDS if name not in value]
    _require(not missing, path, f'the field "machine" lacks {missing}')
    unknown = sorted(name for name in value if name not in MACHINE_FIELDS)
    _require(not unknown, path, f'the field "machine" has unknown fields {unknown}')
    for name, kinds in MACHINE_FIELDS.items():
        item = value[name]
        _require(
            isinstance(item, kinds) and not isinstance(item, bool),
            path,
            f"machine.{name} is {item!r}, not "
            + " or ".join("null" if kind is type(None) else kind.__name__ for kind in kinds),
        )
    _require(
        value["cores"] is None or value["cores"] > 0,
        path,
        f"machine.cores is {value['cores']!r}, not a positive number of cores",
    )
    return dict(value)


def _seeds(values: list, path: Path) -> list[int]:
    for value in values:
        _require(
            isinstance(value, int) and not isinstance(value, bool),
            path,
            f"calibration_seeds holds {value!r}, not an integer seed",
        )
    return values


def load(path: Path) -> Baseline | None:
    """The baseline at ``path``, ``None`` if there is none, or a :class:`BaselineError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BaselineError(path, f"cannot be read ({error.strerror})") from None
    return parse(raw, path)
