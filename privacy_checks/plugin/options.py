"""Every option of the plugin, declared once with its ini twin and validator, resolved in one place.

pytest-mpl's habit: each setting is a command-line option and an ini value
of the same name (``--privacy-seed`` and ``privacy_seed``); the command line
wins over the ini file, which wins over the profile's defaults. A bad value
is a usage error that names the option or ini key it came from.

Two options have no ini twin, on purpose: ``--privacy-update-baselines``
and ``--privacy-calibrate`` rewrite the committed baselines, which must
never happen because a configuration file says so on every run. (Skipping
the cache is harmless, so ``--privacy-no-cache`` has one:
``privacy_no_cache = true``.) Paths on the command line are relative to where
pytest was invoked, paths in the ini file to the rootdir.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
from pathlib import Path
from typing import Any, Callable

import pytest

from privacy_checks.plugin.values import (
    parse_calibrate, parse_dataset, parse_examples, parse_executor, parse_gpus, parse_seed, parse_tolerance,
    parse_workers,
)
from privacy_checks.run.executors import MAX_WORKERS, Executor, default_workers, executor
from privacy_checks.run.ray_tasks import RAY_INSTALL, ray_tasks
from privacy_checks.run.settings import Settings
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.registry import DEFAULT_PROFILE, PROFILES, get_profile
from privacy_checks.spec.sources import dataset_location, is_path_source, with_location

@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: ``--privacy-NAME`` on the command line and ``privacy_NAME`` in the ini file."""

    name: str  #: the ini key and argparse dest, e.g. ``privacy_seed``
    help: str
    metavar: str | None = None
    #: Validates and converts a value (argparse ``type=``); None: a plain string.
    parse: Callable[[str], Any] | None = None
    flag: bool = False  #: a switch (``store_true``); its ini twin is a bool
    ini: bool = True  #: has an ini twin
    default: Any = None  #: when neither the command line nor the ini file sets it

    @property
    def cli(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option(
        "privacy_profile",
        f"profile to run: {', '.join(sorted(PROFILES))}, one the project declares in pyproject.toml "
        "([tool.privacy_checks.profiles.NAME]), or one a conftest.py registers with "
        "privacy_checks.register_profile",
        metavar="NAME",
        default=DEFAULT_PROFILE,
    ),
    Option(
        "privacy_update_baselines",
        "record the measured metrics as the new baselines (checks pass; files are written "
        "atomically at the end of the session)",
        flag=True,
        ini=False,
    ),
    Option(
        "privacy_no_cache",
        "retrain and re-attack instead of reusing results cached in pytest's cache directory "
        "(--cache-clear also empties it)",
        flag=True,
    ),
    Option("privacy_baselines_dir", "where baselines live", metavar="DIR", default="baselines"),
    Option("privacy_report_dir", "where the privacy report is written", metavar="DIR", default="privacy-report"),
    Option(
        "privacy_report_examples",
        "what the report shows of the members the strongest attack is surest of: images (thumbnails), "
        "indices (their positions among the members) or none (default: images for the public data "
        "sets digits and CIFAR-10, indices for a team's own data, which may be private)",
        metavar="images|indices|none",
        parse=parse_examples,
    ),
    Option(
        "privacy_dataset",
        "data source instead of the profile's: digits, cifar10 (tfds), tfds:NAME[@MEMBERS,NON_MEMBERS] "
        "(splits; default train,test), imagefolder:<dir> (<dir>/train/<class>/*, <dir>/test/<class>/*), "
        "npz:<file> (x_members, y_members, x_non_members, y_non_members) or "
        "function:package.module:function (returns those arrays)",
        metavar="SOURCE",
        parse=parse_dataset,
    ),
    Option(
        "privacy_data_dir",
        "tensorflow-datasets data_dir holding prepared data sets, for machines without a network",
        metavar="DIR",
    ),
    Option(
        "privacy_tolerance",
        "how far a metric of the entire-dataset slice may rise above its baseline; wins over "
        "calibrated tolerances (default: calibrated, else the profile's)",
        metavar="auc=X,attacker_advantage=Y,tpr=Z",
        parse=parse_tolerance,
        default={},
    ),
    Option(
        "privacy_class_tolerance",
        "how far a metric of per-class slices may rise above its baseline; wins over "
        "calibrated tolerances (default: calibrated, else the profile's)",
        metavar="auc=X,attacker_advantage=Y,tpr=Z",
        parse=parse_tolerance,
        default={},
    ),
    Option(
        "privacy_seed",
        "seed instead of the profile's: initialisation, batch order and attacks follow it; "
        "the member split stays the profile's, as a team's data would",
        metavar="N",
        parse=parse_seed,
    ),
    Option(
        "privacy_calibrate",
        "record baselines (like --privacy-update-baselines) together with the seed-to-seed "
        "spread of every metric over N seeds (the seed and the N-1 after it), re-measured for "
        "every model; tolerances are then derived from it. Costs N trainings per model. "
        "Without it an update calibrates only models with no calibrated baseline of their "
        "current setup, over the profile's calibration_seeds (default 5); 0 records without",
        metavar="N",
        parse=parse_calibrate,
        ini=False,
    ),
    Option(
        "privacy_workers",
        "worker processes that run the attacks on each snapshot while training goes on; "
        "0 runs them in the pytest process, one after another (default: one per CPU, at most "
        f"{MAX_WORKERS}). The numbers are the same either way",
        metavar="N",
        parse=parse_workers,
        default=default_workers(),
    ),
    Option(
        "privacy_executor",
        "where the work runs: local (train in the pytest process, attack in worker processes "
        "beside it) or ray (every training, calibration seed and reference model, and every "
        "attack run, is a Ray task; needs the ray extra). The numbers are the same either way",
        metavar="local|ray",
        parse=parse_executor,
        default="local",
    ),
    Option(
        "privacy_ray_address",
        "with --privacy-executor=ray: the cluster to connect to (auto, HOST:PORT or "
        "ray://HOST:PORT); empty starts a local Ray on this machine's cores",
        metavar="ADDRESS",
    ),
    Option(
        "privacy_ray_gpus",
        "with --privacy-executor=ray: GPUs each training task asks for (default 0: CPU only). "
        "A GPU gives other numbers than a CPU: record baselines the way the checks run",
        metavar="N",
        parse=parse_gpus,
        default=0.0,
    ),
)

_BY_NAME = {option.name: option for option in OPTIONS}


def add(parser: pytest.Parser) -> None:
    """Registers every option and its ini twin (``pytest_addoption``)."""
    group = parser.getgroup("privacy", "privacy regression checks (privacy_checks)")
    for option in OPTIONS:
        twin = f"ini: {option.name}" if option.ini else "no ini twin"
        default = f"; default: {option.default}" if option.default not in (None, {}, 0, False) else ""
        if option.flag:
            group.addoption(option.cli, dest=option.name, action="store_true", default=None,
                            help=f"{option.help} ({twin}).")
        else:
            group.addoption(option.cli, dest=option.name, type=option.parse, default=None,
                            metavar=option.metavar, help=f"{option.help} ({twin}{default}).")
        if option.ini:
            parser.addini(option.name, option.help, type="bool" if option.flag else "string",
                          default=False if option.flag else "")


def get(config: pytest.Config, name: str) -> Any:
    """The value of one option: the command line's, else the ini file's (validated), else the default."""
    option = _BY_NAME[name]
    value = config.getoption(name)
    if value is not None:
        return value
    if option.ini:
        raw = config.getini(name)
        if option.flag:
            return bool(raw)
        if raw:
            try:
                return option.parse(raw) if option.parse else raw
            except argparse.ArgumentTypeError as error:
                raise pytest.UsageError(f"ini option {name}: {error}") from None
    return False if option.flag else option.default


def _from_cli(config: pytest.Config, name: str) -> bool:
    return config.getoption(name) is not None


def path(config: pytest.Config, name: str, value: str | None = None) -> Path:
    """A path option (or ``value`` given to it): relative to the invocation directory on
    the command line, to the rootdir in the ini file."""
    base = config.invocation_params.dir if _from_cli(config, name) else config.rootpath
    return Path(base, get(config, name) if value is None else value)


def _profile(config: pytest.Config) -> Profile:
    """The profile, with ``privacy_dataset`` and ``privacy_seed`` applied.

    Checked here, not while parsing the command line: a conftest.py may
    register its own profiles, and conftest files are imported after the
    first parse. An image folder's relative path is taken like a path option's.
    """
    try:
        profile = get_profile(get(config, "privacy_profile"))
    except KeyError as error:
        where = "--privacy-profile" if _from_cli(config, "privacy_profile") else "ini option privacy_profile"
        raise pytest.UsageError(f"{where}: {error.args[0]}") from None
    dataset = get(config, "privacy_dataset")
    if dataset:
        if is_path_source(dataset):
            dataset = with_location(dataset, path(config, "privacy_dataset", dataset_location(dataset)))
        profile = dataclasses.replace(profile, dataset=dataset)
    seed = get(config, "privacy_seed")
    return profile if seed is None else profile.with_seed(seed)


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def resolve_executor(config: pytest.Config, settings: Settings) -> Executor:
    """The executor the options ask for; Ray refused up front, with what to run, when it is not installed."""
    address = get(config, "privacy_ray_address") or None
    gpus = get(config, "privacy_ray_gpus")
    if get(config, "privacy_executor") != "ray":
        if address or gpus:
            raise pytest.UsageError(
                "--privacy-ray-address and --privacy-ray-gpus (or their ini twins) apply to "
                "--privacy-executor=ray only: add it, or drop them"
            )
        return executor(settings.workers)
    if not ray_installed():
        raise pytest.UsageError(f"--privacy-executor=ray needs Ray, which is not installed: {RAY_INSTALL}")
    return ray_tasks(address, gpus)


def resolve_settings(config: pytest.Config) -> Settings:
    """All privacy options, resolved once: CLI > ini > profile default."""
    profile = _profile(config)
    calibrate = get(config, "privacy_calibrate")
    no_cache = get(config, "privacy_no_cache") or getattr(config, "cache", None) is None
    return Settings(
        profile=profile,
        baselines_dir=path(config, "privacy_baselines_dir"),
        report_dir=path(config, "privacy_report_dir"),
        update_baselines=get(config, "privacy_update_baselines") or calibrate is not None,
        data_dir=get(config, "privacy_data_dir") or None,
        # pytest's cache directory for this plugin, unless disabled (-p no:cacheprovider too)
        cache_dir=None if no_cache else config.cache.mkdir("privacy_checks"),
        tolerance=dict(get(config, "privacy_tolerance")),
        class_tolerance=dict(get(config, "privacy_class_tolerance")),
        calibrate=calibrate,
        workers=get(config, "privacy_workers"),
    )
