"""Stored baselines: reviewed JSON files, compared one-sidedly, written atomically.

One file per profile and model, ``baselines/<profile>/<model>.json``. The
file is written so that a change reads as a clean diff in review: fixed key
order, one entry per line sorted by epoch, attack and slice, and every metric
with exactly six decimals. It records what it was made from (profile, its
hash and fingerprint, seed, data source, package versions) but no timestamp:
git already knows when, and a rerun that measures the same numbers must write
the same bytes. A baseline recorded with ``--privacy-calibrate`` also holds,
per entry, the seed-to-seed standard deviation of each metric (``seed_sd``)
and the seeds it came from; tolerances are derived from it (see
:mod:`privacy_checks.tolerances`).

The check is one-sided. More leakage than baseline + tolerance is a
regression; much less is an improvement (reported, not failed) whose baseline
is worth tightening.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from privacy_checks.metrics import metric_fpr
from privacy_checks.profiles import ATTACKS, ENTIRE_DATASET, METRICS

if TYPE_CHECKING:
    from privacy_checks.tolerances import MetricTolerance

SCHEMA = 2
DECIMALS = 6
UPDATE_HINT = "--privacy-update-baselines"


class BaselineError(ValueError):
    """A baseline file cannot be used; the message names the file and what to do."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{display_path(path)}: {problem}. Fix the file, or delete it and run "
            f"pytest -m privacy {UPDATE_HINT} to record it again."
        )
        self.path = path


def display_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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


def entry_key(epoch: int, attack: str, slice_name: str) -> str:
    return f"epoch{epoch}/{attack}/{slice_name}"


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


def baseline_path(root: Path, profile: str, model: str) -> Path:
    return Path(root) / profile / f"{model}.json"


def dumps(baseline: Baseline) -> str:
    """The file's text: stable order, one entry per line, fixed precision."""
    lines = ["{", f'  "schema": {SCHEMA},']
    for name in ("profile", "profile_hash", "model", "seed", "data_source"):
        lines.append(f'  "{name}": {json.dumps(getattr(baseline, name))},')
    lines.append(f'  "versions": {json.dumps(dict(baseline.versions), sort_keys=True)},')
    lines.append(f'  "fingerprint": {json.dumps(baseline.fingerprint, sort_keys=True)},')
    lines.append(f'  "calibration_seeds": {json.dumps(list(baseline.calibration_seeds))},')
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


def dumps_entry(entry: Entry) -> str:
    """One entry as one line of JSON, metrics with fixed precision."""
    spread = f', "seed_sd": {{{_numbers(entry.seed_sd)}}}' if entry.seed_sd else ""
    return (
        f'{{"epoch": {entry.epoch}, "attack": {json.dumps(entry.attack)}, '
        f'"slice": {json.dumps(entry.slice)}, {_numbers(entry.metrics)}{spread}}}'
    )


def is_metric(name: str) -> bool:
    return name in METRICS or metric_fpr(name) is not None


def write_atomic(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The text goes to a temporary file in the same directory, is flushed to
    disk, and replaces the target with one ``os.replace``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)  # mkstemp creates 0600; keep the file as readable as before
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    )


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


class Status(str, enum.Enum):
    """The verdict of one check, worst first."""

    REGRESSED = "regressed"
    MISSING = "missing"
    IMPROVED = "improved"
    PASSED = "passed"


@dataclasses.dataclass(frozen=True)
class MetricCheck:
    """One metric compared with its baseline."""

    metric: str
    obtained: float
    baseline: float | None
    tolerance: float
    #: Where the tolerance came from: ``explicit``, ``calibrated`` or ``profile``.
    tolerance_source: str = "profile"
    #: Bootstrap confidence interval of ``obtained`` (members and non-members resampled).
    interval: tuple[float, float] | None = None

    @property
    def difference(self) -> float | None:
        return None if self.baseline is None else self.obtained - self.baseline

    @property
    def status(self) -> Status:
        if self.baseline is None:
            return Status.MISSING
        if self.obtained > self.baseline + self.tolerance:
            return Status.REGRESSED
        if self.obtained < self.baseline - self.tolerance:
            return Status.IMPROVED
        return Status.PASSED


@dataclasses.dataclass(frozen=True)
class Comparison:
    """All metrics of one (model, epoch, attack, slice) against the baseline."""

    key: str
    checks: tuple[MetricCheck, ...]

    @property
    def status(self) -> Status:
        statuses = {check.status for check in self.checks}
        for status in Status:  # worst first
            if status in statuses:
                return status
        return Status.PASSED


def compare(
    key: str,
    obtained: Mapping[str, float],
    expected: Mapping[str, float] | None,
    tolerances: Mapping[str, "MetricTolerance"],
    intervals: Mapping[str, tuple[float, float]] | None = None,
) -> Comparison:
    """Compares each metric one-sidedly: only a rise beyond its tolerance regresses.

    A metric the baseline lacks (e.g. a newly added FPR) is missing, like a
    missing entry.
    """
    intervals = intervals or {}
    return Comparison(
        key,
        tuple(
            MetricCheck(
                metric=name,
                obtained=float(obtained[name]),
                baseline=None if expected is None or name not in expected else float(expected[name]),
                tolerance=tolerances[name].value,
                tolerance_source=tolerances[name].source,
                interval=intervals.get(name),
            )
            for name in obtained
        ),
    )


def format_table(comparison: Comparison) -> str:
    """A small aligned table: metric, obtained, baseline, difference, tolerance, verdict."""

    def number(value: float | None, signed: bool = False) -> str:
        if value is None:
            return "-"
        return f"{value:+.4f}" if signed else f"{value:.4f}"

    def interval(check: MetricCheck) -> str:
        if check.interval is None:
            return "-"
        return f"[{check.interval[0]:.4f}, {check.interval[1]:.4f}]"

    header = ("metric", "obtained", "95% CI", "baseline", "difference", "tolerance", "verdict")
    rows = [header] + [
        (
            check.metric,
            number(check.obtained),
            interval(check),
            number(check.baseline),
            number(check.difference, signed=True),
            f"+{check.tolerance:.4f} ({check.tolerance_source})",
            check.status.value,
        )
        for check in comparison.checks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    )
