"""pytest glue: options, the ``privacy`` marker, parametrization, fixtures, summary, report.

Load it with ``pytest_plugins = ["privacy_checks.plugin"]`` in a conftest.py
(or ``-p privacy_checks.plugin``). A test opts in by asking for
``privacy_case`` and ``privacy_check``; the plugin parametrizes it with one
item per (model, report epoch, attack, slice) of the active profile::

    def test_membership_inference(privacy_case, privacy_check):
        privacy_check(privacy_case)

Every option has an ini twin; the command line wins over the ini file, which
wins over the profile's defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Callable

import pytest

from privacy_checks import baselines
from privacy_checks.baselines import Comparison, Status
from privacy_checks.profiles import (
    DEFAULT_PROFILE,
    METRICS,
    PROFILES,
    Profile,
    check_dataset,
    dataset_kind,
    get_profile,
)
from privacy_checks.report import Measured, write_report
from privacy_checks.session import (
    BASELINE,
    EPSILON,
    Case,
    CheckFailed,
    GuaranteeCheck,
    PrivacyRun,
    Settings,
    cases,
)

RUN_KEY = pytest.StashKey[PrivacyRun]()
MAX_LISTED = 10


def _dataset(value: str) -> str:
    try:
        return check_dataset(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


TOLERANCE_KEYS = (*METRICS, "tpr")


def parse_tolerance(value: str) -> dict[str, float]:
    """``"auc=0.03, attacker_advantage=0.05, tpr=0.02"`` -> ``{"auc": 0.03, ...}``; any may be left out.

    ``tpr`` applies to the TPR at every FPR the profile checks.
    """
    result: dict[str, float] = {}
    for part in value.replace(",", " ").split():
        name, sep, number = part.partition("=")
        if not sep or name not in TOLERANCE_KEYS:
            raise argparse.ArgumentTypeError(
                f"{value!r}: expected METRIC=NUMBER pairs with METRIC in {', '.join(TOLERANCE_KEYS)}"
            )
        try:
            result[name] = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r}: {number!r} is not a number") from None
        if not 0 <= result[name] <= 1:
            raise argparse.ArgumentTypeError(f"{value!r}: a tolerance lies between 0 and 1")
    return result


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("privacy", "privacy regression checks (privacy_checks)")
    group.addoption(
        "--privacy-profile",
        dest="privacy_profile",
        default=None,
        metavar="NAME",
        help=f"profile to run: {', '.join(sorted(PROFILES))}, or one a conftest.py "
        f"registers with privacy_checks.profiles.register_profile (ini: privacy_profile; "
        f"default: {DEFAULT_PROFILE}).",
    )
    group.addoption(
        "--privacy-update-baselines",
        dest="privacy_update_baselines",
        action="store_true",
        default=False,
        help="record the measured metrics as the new baselines (checks pass; files are "
        "written atomically at the end of the session).",
    )
    group.addoption(
        "--privacy-no-cache",
        dest="privacy_no_cache",
        action="store_true",
        default=False,
        help="retrain and re-attack instead of reusing results cached in pytest's cache "
        "directory (--cache-clear also empties it).",
    )
    group.addoption(
        "--privacy-baselines-dir",
        dest="privacy_baselines_dir",
        default=None,
        metavar="DIR",
        help="where baselines live (ini: privacy_baselines_dir; default: baselines).",
    )
    group.addoption(
        "--privacy-report-dir",
        dest="privacy_report_dir",
        default=None,
        metavar="DIR",
        help="where the privacy report is written (ini: privacy_report_dir; "
        "default: privacy-report).",
    )
    group.addoption(
        "--privacy-dataset",
        dest="privacy_dataset",
        type=_dataset,
        default=None,
        metavar="SOURCE",
        help="data source instead of the profile's: digits, cifar10 (tfds) or "
        "imagefolder:<dir> with <dir>/train/<class>/* and <dir>/test/<class>/* "
        "(ini: privacy_dataset).",
    )
    group.addoption(
        "--privacy-data-dir",
        dest="privacy_data_dir",
        default=None,
        metavar="DIR",
        help="tensorflow-datasets data_dir holding prepared data sets, for machines "
        "without a network (ini: privacy_data_dir).",
    )
    for flag, ini, where in (
        ("--privacy-tolerance", "privacy_tolerance", "the entire-dataset slice"),
        ("--privacy-class-tolerance", "privacy_class_tolerance", "per-class slices"),
    ):
        group.addoption(
            flag,
            dest=ini,
            type=parse_tolerance,
            default=None,
            metavar="auc=X,attacker_advantage=Y,tpr=Z",
            help=f"how far a metric of {where} may rise above its baseline; wins over "
            f"calibrated tolerances (ini: {ini}; default: calibrated, else the profile's).",
        )
    group.addoption(
        "--privacy-seed",
        dest="privacy_seed",
        type=_seed,
        default=None,
        metavar="N",
        help="seed instead of the profile's: initialisation, batch order and attacks follow "
        "it; the member split stays the profile's, as a team's data would (ini: privacy_seed).",
    )
    group.addoption(
        "--privacy-calibrate",
        dest="privacy_calibrate",
        type=_calibrate,
        default=0,
        metavar="N",
        help="record baselines (like --privacy-update-baselines) together with the "
        "seed-to-seed spread of every metric over N seeds (the seed and the N-1 after "
        "it); tolerances are then derived from it. Costs N trainings per model.",
    )
    parser.addini("privacy_profile", "privacy profile to run", default=DEFAULT_PROFILE)
    parser.addini("privacy_baselines_dir", "directory of privacy baselines", default="baselines")
    parser.addini("privacy_report_dir", "directory of the privacy report", default="privacy-report")
    parser.addini("privacy_dataset", "data source instead of the profile's", default="")
    parser.addini("privacy_data_dir", "tensorflow-datasets data_dir", default="")
    parser.addini("privacy_tolerance", "entire-dataset tolerance: auc=X attacker_advantage=Y")
    parser.addini("privacy_class_tolerance", "per-class tolerance: auc=X attacker_advantage=Y")
    parser.addini("privacy_seed", "seed instead of the profile's", default="")


def _seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer seed") from None
    if not 0 <= seed < 2**31:
        raise argparse.ArgumentTypeError(f"{value!r}: a seed lies in 0..2147483647")
    return seed


def _calibrate(value: str) -> int:
    try:
        seeds = int(value)
    except ValueError:
        seeds = 0
    if seeds < 2:
        raise argparse.ArgumentTypeError(
            f"{value!r}: calibration needs a number of seeds, at least 2 (5 or more is better)"
        )
    return seeds


def _path_option(config: pytest.Config, name: str) -> Path:
    """CLI paths are relative to the invocation directory, ini paths to the rootdir."""
    cli = config.getoption(name)
    if cli:
        return Path(config.invocation_params.dir, cli)
    return Path(config.rootpath, config.getini(name))


def _tolerance(config: pytest.Config, name: str) -> dict[str, float]:
    """Explicit tolerances from the command line, else from the ini file; may be empty."""
    values = config.getoption(name)
    if values is None and config.getini(name):
        try:
            values = parse_tolerance(config.getini(name))
        except argparse.ArgumentTypeError as error:
            raise pytest.UsageError(f"ini option {name}: {error}") from None
    return dict(values or {})


def _with_seed(config: pytest.Config, profile: Profile) -> Profile:
    seed = config.getoption("privacy_seed")
    if seed is None and config.getini("privacy_seed"):
        try:
            seed = _seed(config.getini("privacy_seed"))
        except argparse.ArgumentTypeError as error:
            raise pytest.UsageError(f"ini option privacy_seed: {error}") from None
    return profile if seed is None else profile.with_seed(seed)


def _with_dataset(config: pytest.Config, profile: Profile) -> Profile:
    """The profile with ``--privacy-dataset`` / ini ``privacy_dataset`` applied.

    An image folder's relative path is taken from where pytest was invoked
    (command line) or from the rootdir (ini), like the other path options.
    """
    value, base = config.getoption("privacy_dataset"), config.invocation_params.dir
    if not value and config.getini("privacy_dataset"):
        value, base = config.getini("privacy_dataset"), config.rootpath
        try:
            check_dataset(value)
        except ValueError as error:
            raise pytest.UsageError(f"ini option privacy_dataset: {error}") from None
    if not value:
        return profile
    if dataset_kind(value) == "imagefolder":
        value = f"imagefolder:{Path(base, value.split(':', 1)[1])}"
    return dataclasses.replace(profile, dataset=value)


def _cache_dir(config: pytest.Config) -> Path | None:
    """pytest's cache directory for this plugin, unless disabled (``-p no:cacheprovider`` too)."""
    if config.getoption("privacy_no_cache") or getattr(config, "cache", None) is None:
        return None
    return config.cache.mkdir("privacy_checks")


def resolve_settings(config: pytest.Config) -> Settings:
    """All privacy options, resolved once: CLI > ini > profile default."""
    # Checked here, not while parsing the command line: a conftest.py may register
    # its own profiles, and conftest files are imported after the first parse.
    cli = config.getoption("privacy_profile")
    name = cli or config.getini("privacy_profile")
    try:
        profile = get_profile(name)
    except KeyError as error:
        where = "--privacy-profile" if cli else "ini option privacy_profile"
        raise pytest.UsageError(f"{where}: {error.args[0]}") from None
    profile = _with_seed(config, _with_dataset(config, profile))
    calibrate = config.getoption("privacy_calibrate")
    data_dir = config.getoption("privacy_data_dir") or config.getini("privacy_data_dir") or None
    return Settings(
        profile=profile,
        baselines_dir=_path_option(config, "privacy_baselines_dir"),
        report_dir=_path_option(config, "privacy_report_dir"),
        update_baselines=config.getoption("privacy_update_baselines") or calibrate >= 2,
        data_dir=data_dir,
        cache_dir=_cache_dir(config),
        tolerance=_tolerance(config, "privacy_tolerance"),
        class_tolerance=_tolerance(config, "privacy_class_tolerance"),
        calibrate=calibrate,
    )


@pytest.hookimpl(trylast=True)  # after the cache provider has set config.cache
def pytest_configure(config: pytest.Config) -> None:
    # TensorFlow's C++ start-up chatter (CUDA probes, CPU features) would fill every
    # failure's captured stderr; users who want it can set the variable themselves.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config.addinivalue_line(
        "markers",
        "privacy: a membership-inference privacy regression check (privacy_checks); "
        "select with -m privacy.",
    )

    def progress(message: str) -> None:
        """A line on the terminal while training runs inside a test, without ``-s``."""
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or config.get_verbosity() < 0:
            return
        capture = config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            reporter.write_line(f"[privacy] {message}")
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[privacy] {message}")

    config.stash[RUN_KEY] = PrivacyRun(resolve_settings(config), progress)


def _run(config: pytest.Config) -> PrivacyRun:
    return config.stash[RUN_KEY]


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = _run(config)
    settings = run.settings
    profile = settings.profile
    packages = ", ".join(f"{name} {version}" for name, version in run.versions.items())
    mode = (
        f"calibrate over {settings.calibrate} seeds"
        if settings.calibrate
        else "update" if settings.update_baselines else "check"
    )
    return [
        f"privacy: profile {profile.name} (hash {profile.hash}, seed {profile.seed}), "
        f"baselines {baselines.display_path(settings.baselines_dir / profile.name)} ({mode}), "
        f"report {baselines.display_path(settings.report_dir)}",
        f"privacy: data {_display_dataset(profile.dataset)}"
        + (f" (tfds data_dir {settings.data_dir})" if settings.data_dir else ""),
        f"privacy: {packages}",
    ]


def _display_dataset(dataset: str) -> str:
    if dataset_kind(dataset) != "imagefolder":
        return dataset
    return f"imagefolder:{baselines.display_path(Path(dataset.split(':', 1)[1]))}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "privacy_case" not in metafunc.fixturenames:
        return
    profile = _run(metafunc.config).profile
    metafunc.parametrize(
        "privacy_case",
        [pytest.param(case, id=case.id, marks=pytest.mark.privacy) for case in cases(profile)],
    )


@pytest.fixture(scope="session")
def privacy_run(pytestconfig: pytest.Config) -> PrivacyRun:
    """The session's privacy run: trained models, attack results, comparisons."""
    return _run(pytestconfig)


def _command(run: PrivacyRun) -> str:
    return (
        f"pytest -m privacy --privacy-profile {run.profile.name} {baselines.UPDATE_HINT}"
    )


def failure_message(run: PrivacyRun, case: Case, comparison: Comparison) -> str:
    """The table of one failing check, followed by the command that accepts it."""
    path = baselines.display_path(run.baseline_path(case.model))
    where = f"{case.model} at epoch {case.epoch}, {case.attack} attack, slice {case.slice}"
    table = baselines.format_table(comparison)
    if comparison.status is Status.MISSING:
        return (
            f"no baseline for {where} in {path}.\n{table}\n"
            f"Record baselines with:\n  {_command(run)}"
        )
    return (
        f"privacy regression: {where} leaks more than its baseline ({path}).\n{table}\n"
        f"If this leakage is expected, review it and accept it as the new baseline with:\n"
        f"  {_command(run)}"
    )


def guarantee_message(check: GuaranteeCheck) -> str:
    """Why a DP model's guarantee check failed, at what confidence, and where to look."""
    where = f"{check.model} at epoch {check.epoch}, {check.attack} attack, slice entire_dataset"
    confidence = (
        f"confidence {1 - check.alpha:.6g} for this check; the {check.family} guarantee checks "
        f"of this run together err with probability at most {check.alpha * check.family:.3g}"
    )
    if check.check == EPSILON:
        return (
            f"DP guarantee broken: {where}: the measured epsilon lower bound "
            f"{check.obtained:.3f} exceeds {check.detail} = {check.limit:.3f}.\n"
            f"The bound ({confidence}) uses a threshold chosen on part of the attack's scores "
            "and Clopper-Pearson bounds on the rest (median of 9 such splits). No training with that guarantee "
            "lets an attacker do this well. Check that the model trains with TF Privacy's DP "
            "optimizer with the profile's noise multiplier and clip, on a per-example loss "
            "(reduction NONE), and that members, batch size and epochs are what the accountant "
            "was told. An update of the baselines does not accept this."
        )
    return (
        f"DP model leaks more than the non-private one: {where}: AUC {check.obtained:.4f} "
        f"exceeds {check.detail} = {check.limit:.4f} ({confidence}).\n"
        "DP-SGD that works lowers membership inference; check the DP training, or set "
        "--privacy-tolerance=auc=X if this epoch is known to be noise."
    )


@pytest.fixture
def privacy_check(
    privacy_run: PrivacyRun,
) -> Callable[[Case], Comparison | GuaranteeCheck | None]:
    """Checks one case against its baseline (or a DP guarantee); fails with a clear message."""

    def check(case: Case) -> Comparison | GuaranteeCheck | None:
        __tracebackhide__ = True
        measure = privacy_run.check if case.check == BASELINE else privacy_run.check_guarantee
        try:
            result = measure(case)
        except CheckFailed as error:
            reason = str(error)
        else:
            reason = None
        if reason is not None:  # failed outside the except block: the message, once
            pytest.fail(reason, pytrace=False)
        if case.check != BASELINE:
            if not result.passed:
                pytest.fail(guarantee_message(result), pytrace=False)
            return result
        comparison = result
        if comparison is None:
            pytest.skip(f"TF Privacy ran no attack on {case.slice}: too few examples")
        if privacy_run.settings.update_baselines:
            return comparison
        if comparison.status in (Status.REGRESSED, Status.MISSING):
            pytest.fail(failure_message(privacy_run, case, comparison), pytrace=False)
        return comparison

    return check


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is None or not run.comparisons and not run.evaluations():
        return
    try:
        run.finish()
    except OSError as error:
        run.report_error = f"could not write the baselines: {error}"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    try:
        measured = Measured(
            profile=run.profile,
            evaluations=run.evaluations(),
            comparisons=run.comparisons,
            versions=run.versions,
            data_source=run.data_source,
            histories=run.histories(),
            baselines=run.loaded_baselines(),
            guarantees=run.guarantees,
        )
        run.report_files = write_report(run.settings.report_dir, measured)
    except OSError as error:
        run.report_error = (
            f"could not write the privacy report to "
            f"{baselines.display_path(run.settings.report_dir)}: {error.strerror or error}. "
            "Choose a writable directory with --privacy-report-dir=DIR."
        )
        # An artifact reviewers rely on is missing: the run must not look green.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def dp_summary(run: PrivacyRun) -> list[str]:
    """Per DP model: its epsilon at the last epoch measured, the largest measured bound, verdicts."""
    lines = []
    for spec in run.profile.dp_models:
        checks = [c for c in run.guarantees.values() if c.model == spec.name]
        bounds = [
            record
            for evaluation in run.evaluations()
            for record in evaluation.records
            if record.model == spec.name and record.epsilon_lower_bound is not None
        ]
        if not checks and not bounds:
            continue
        line = f"{spec.name} (DP-SGD, noise {spec.dp.noise_multiplier:g}, clip {spec.dp.l2_norm_clip:g})"
        if bounds:
            last = max(record.epoch for record in bounds)
            line += f": epsilon {run.accountant_epsilon(spec.name, last):.2f} at epoch {last} (delta {spec.dp.delta:g})"
            best = max(bounds, key=lambda record: record.epsilon_lower_bound)
            line += (
                f"; largest measured lower bound {best.epsilon_lower_bound:.2f} "
                f"({best.attack}, epoch {best.epoch})"
            )
        failed = sum(1 for c in checks if not c.passed)
        line += f"; {len(checks) - failed} guarantee checks passed, {failed} failed"
        lines.append(line)
    return lines


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None or not run.comparisons and not run.evaluations():
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"privacy summary (profile {run.profile.name})")
    counts = run.counts()
    stale, not_run = run.unused_entries()
    write(
        f"{counts[Status.PASSED]} passed, {counts[Status.REGRESSED]} regressed, "
        f"{counts[Status.IMPROVED]} improved, {counts[Status.MISSING]} new (no baseline), "
        f"{len(stale)} unused baseline entries"
        + (f", {len(not_run)} not checked this session" if not_run else "")
    )
    improved = [c for c in run.comparisons.values() if c.status is Status.IMPROVED]
    if improved:
        write("improved beyond tolerance (consider tightening the baseline):")
        for comparison in improved[:MAX_LISTED]:
            deltas = ", ".join(
                f"{check.metric} {check.difference:+.4f}"
                for check in comparison.checks
                if check.status is Status.IMPROVED
            )
            write(f"  {comparison.key}: {deltas}")
        if len(improved) > MAX_LISTED:
            write(f"  ... {len(improved) - MAX_LISTED} more in results.json")
    if stale:
        write(
            "unused baseline entries, which the profile no longer produces "
            f"(removed by {baselines.UPDATE_HINT}):"
        )
        for key in stale[:MAX_LISTED]:
            write(f"  {key}")
        if len(stale) > MAX_LISTED:
            write(f"  ... {len(stale) - MAX_LISTED} more")
    for path in run.orphan_baseline_files():
        write(
            f"unused baseline file {baselines.display_path(path)}: profile {run.profile.name} "
            f"has no model {path.stem!r} (delete it if the model is gone)",
            yellow=True,
        )
    for model, record in run.most_vulnerable().items():
        write(
            f"most vulnerable slice of {model}: epoch {record.epoch}, {record.attack}, "
            f"{record.slice}: AUC {record.auc:.3f}, attacker advantage "
            f"{record.attacker_advantage:.3f}"
        )
    for line in dp_summary(run):
        write(line)
    for change in run.changes:
        verb = "wrote" if change.written else "unchanged"
        write(
            f"baseline {verb}: {baselines.display_path(change.path)} "
            f"({change.added} added, {change.changed} changed, {change.removed} removed)"
        )
    hits = ", ".join(f"{count} {what}" for what, count in run.cache_hits.items() if count)
    if hits:
        write(f"reused from the privacy cache: {hits} (--privacy-no-cache to redo them)")
    if run.cache_error:
        write(run.cache_error, yellow=True)
    for line in run.version_warnings():
        write(line, yellow=True)
    for model, changes in sorted(run.setup_changes.items()):
        write(
            f"{baselines.display_path(run.baseline_path(model))} was recorded from another "
            f"setup ({'; '.join(changes)}): this run was compared with it, which is how a "
            f"change is judged; once reviewed, re-record with {baselines.UPDATE_HINT}",
            yellow=True,
        )
    if run.report_error:
        write(run.report_error, red=True)
    elif run.report_files:
        names = ", ".join(path.name for path in run.report_files)
        write(f"privacy report: {baselines.display_path(run.settings.report_dir)}/ ({names})")
