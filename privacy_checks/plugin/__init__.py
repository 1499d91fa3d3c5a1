"""pytest glue: options, the ``privacy`` marker, parametrization, fixtures, summary, report.

Load it with ``pytest_plugins = ["privacy_checks.plugin"]`` in a conftest.py
(or ``-p privacy_checks.plugin``). A test opts in by asking for
``privacy_case`` and ``privacy_check``; the plugin parametrizes it with one
item per (model, report epoch, attack, slice) of the active profile::

    def test_membership_inference(privacy_case, privacy_check):
        privacy_check(privacy_case)

Options and their ini twins are declared once, in :mod:`privacy_checks.plugin.options`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from privacy_checks.judge import messages
from privacy_checks.judge.baselines import baseline_folder
from privacy_checks.judge.session import PrivacyRun
from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck, Status
from privacy_checks.plugin import hookspec, ini_keys, options
from privacy_checks.plugin.declared import RunProfiles
from privacy_checks.report import summary
from privacy_checks.report.markdown import append_step_summary, summary_markdown
from privacy_checks.report.measured import measured_of
from privacy_checks.report.results import write_report
from privacy_checks.run.nodes import UserHooks
from privacy_checks.run.settings import CheckFailed
from privacy_checks.spec import pyproject, registry
from privacy_checks.spec.cases import BASELINE, Case, cases
from privacy_checks.spec.files import display_path
from privacy_checks.spec.sources import dataset_location, is_path_source, with_location
from privacy_checks.train import lane, quiet

RUN_KEY = pytest.StashKey[PrivacyRun]()
DECLARED_KEY = pytest.StashKey[RunProfiles]()
#: Whether the summary reached ``$GITHUB_STEP_SUMMARY``, and the line that says so (None: no such variable).
STEP_SUMMARY_KEY = pytest.StashKey["tuple[bool, str] | None"]()
#: ``--privacy-report-examples``, validated at start (None: by the data source).
EXAMPLES_KEY = pytest.StashKey["str | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The hooks a project may implement: :mod:`privacy_checks.plugin.hookspec`."""
    pluginmanager.add_hookspecs(hookspec)


@pytest.hookimpl(trylast=True)  # after the cache provider has set config.cache
def pytest_configure(config: pytest.Config) -> None:
    # TensorFlow's C++ start-up chatter (CUDA probes, CPU features) would fill every
    # failure's captured stderr; users who want it can set the variable themselves.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    ini_keys.check(config)  # a misspelt setting must not leave the run on another profile
    backend = lane.backend_problem()
    if backend is not None:
        raise pytest.UsageError(backend)
    _refuse_xdist(config)
    config.addinivalue_line(
        "markers",
        "privacy: a membership-inference privacy regression check (privacy_checks); "
        "select with -m privacy.",
    )
    config.addinivalue_line("filterwarnings", quiet.TRACING_FILTER)  # Python 3.13's autograph chatter

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

    # The project's own profiles (pyproject.toml, pytest_privacy_profiles), before the
    # options name one; stashed first, so that pytest_unconfigure forgets them even
    # when a later one is refused.
    declared = config.stash[DECLARED_KEY] = RunProfiles(config.rootpath)
    try:
        declared.declare(config)
    except pyproject.ProfileError as error:
        raise pytest.UsageError(str(error)) from None

    settings = options.resolve_settings(config)
    config.stash[EXAMPLES_KEY] = options.get(config, "privacy_report_examples")
    run_executor = options.resolve_executor(config, settings)
    config.stash[RUN_KEY] = PrivacyRun(settings, progress, user_hooks(config), run_executor)


def _refuse_xdist(config: pytest.Config) -> None:
    """``pytest -n N`` with privacy checks selected: refused before anything runs.

    Each xdist worker would measure the checks it is given by itself, training
    the same models again in every worker, and write a report of its own
    share. The work is spread by the executor instead (``--privacy-executor``).
    """
    workers = getattr(config.option, "numprocesses", None)
    if not workers or hasattr(config, "workerinput") or not _selects_privacy(config):
        return
    raise pytest.UsageError(messages.xdist_refused(workers))


def _selects_privacy(config: pytest.Config) -> bool:
    """Whether ``-m`` can select a check marked only ``privacy`` (``-m 'not privacy'`` cannot)."""
    expression = config.option.markexpr
    if not expression:
        return True
    try:
        from _pytest.mark.expression import Expression

        return bool(Expression.compile(expression).evaluate(lambda name, **kwargs: name == "privacy"))
    except Exception:  # pytest's own error for a bad -m comes later, with its message
        return True


def user_hooks(config: pytest.Config) -> UserHooks:
    """The project's ``pytest_privacy_build_model`` / ``pytest_privacy_load_data`` implementations, if any.

    A hook nobody implements is not called at all, and the module files of
    those implemented go into the cache key.
    """
    hook = config.hook
    files: list[Path] = []

    def implemented(name: str):
        caller = getattr(hook, name, None)
        impls = caller.get_hookimpls() if caller is not None else []
        files.extend(Path(impl.plugin.__file__) for impl in impls if getattr(impl.plugin, "__file__", None))
        return caller if impls else None

    build = implemented("pytest_privacy_build_model")
    load = implemented("pytest_privacy_load_data")
    return UserHooks(
        make_model=None if build is None else lambda profile, spec: build(
            config=config, profile=profile, model=spec,
            input_shape=tuple(profile.input_shape), num_classes=profile.num_classes,
        ),
        load_data=None if load is None else lambda profile, data_dir: load(
            config=config, profile=profile, data_dir=data_dir
        ),
        files=tuple(files),
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Forgets the profiles this run declared: other runs in this process (pytester) declare their own."""
    declared = config.stash.get(DECLARED_KEY, None)
    if declared is not None:
        declared.forget()


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
        f"privacy: profile {profile.name} (hash {profile.hash}, seed {profile.seed}, "
        f"TF threads {profile.intra_op_threads}/{profile.inter_op_threads}), "
        f"baselines {display_path(baseline_folder(settings.baselines_dir, profile.name, lane.lane()))} ({mode}), "
        f"report {display_path(settings.report_dir)}",
        f"privacy: data {_display_dataset(profile.dataset)}"
        + (f" (tfds data_dir {settings.data_dir})" if settings.data_dir else ""),
        f"privacy: {lane.describe()}: {packages}",
    ] + ([f"privacy: trainings and attacks run {run.executor.describe()}"] if run.executor.trains else []) + (
        _unselected(config, profile.name)
    )


def _unselected(config: pytest.Config, name: str) -> list[str]:
    """A line saying that a built-in profile runs while the project declares its own, if it does.

    A team that declared ``wine`` and forgot to select it would otherwise read
    green checks of the built-in ``digits`` as its own model's.
    """
    declared = config.stash.get(DECLARED_KEY, None)
    names = declared.names if declared is not None else ()
    if not names or not registry.is_built_in(name):
        return []
    return [
        f"privacy: profile {name} is built in; this project declares {', '.join(names)} "
        f"(select {'it' if len(names) == 1 else 'one'} with privacy_profile = \"{names[0]}\" "
        f"or --privacy-profile={names[0]})"
    ]


def _display_dataset(dataset: str) -> str:
    if not is_path_source(dataset):
        return dataset
    return with_location(dataset, display_path(Path(dataset_location(dataset))))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "privacy_case" not in metafunc.fixturenames:
        return
    profile = _run(metafunc.config).profile
    metafunc.parametrize(
        "privacy_case",
        [pytest.param(case, id=case.id, marks=pytest.mark.privacy) for case in cases(profile)],
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Plans the run from the selected items (after ``-k``/``-m``): nothing else is measured ahead."""
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None:
        cost = run.plan(
            item.callspec.params["privacy_case"]
            for item in session.items
            if "privacy_case" in getattr(getattr(item, "callspec", None), "params", {})
        )
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if cost and reporter is not None:
            reporter.write_line(f"privacy: {cost}", yellow=True)


@pytest.fixture(scope="session")
def privacy_run(pytestconfig: pytest.Config) -> PrivacyRun:
    """The session's privacy run: trained models, attack results, comparisons."""
    return _run(pytestconfig)


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
                pytest.fail(privacy_run.guarantee_message(result), pytrace=False)
            return result
        comparison = result
        if comparison is None:
            pytest.skip(f"TF Privacy ran no attack on {case.slice}: too few examples")
        if privacy_run.settings.update_baselines:
            return comparison
        if comparison.status in (Status.REGRESSED, Status.MISSING):
            path = display_path(privacy_run.baseline_path(case.model))
            pytest.fail(messages.regression(comparison, path, privacy_run.profile.name), pytrace=False)
        return comparison

    return check


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is None or not run.checked():
        return
    try:
        run.finish()
    except OSError as error:
        run.report_error = f"could not write the baselines: {error}"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    measured = measured_of(run, session.config.stash[EXAMPLES_KEY])
    try:
        run.report_files = write_report(run.settings.report_dir, measured)
    except OSError as error:
        run.report_error = (
            f"could not write the privacy report to "
            f"{display_path(run.settings.report_dir)}: {error.strerror or error}. "
            "Choose a writable directory with --privacy-report-dir=DIR."
        )
        # An artifact reviewers rely on is missing: the run must not look green.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    # The CI's checks page (GitHub Actions): said in the summary, never a failure.
    session.config.stash[STEP_SUMMARY_KEY] = append_step_summary(summary_markdown(measured))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None or not run.checked():
        return
    terminalreporter.section(f"privacy summary (profile {run.profile.name})")
    for line in summary.lines(run):
        terminalreporter.write_line(line.text, **line.markup)
    step_summary = config.stash.get(STEP_SUMMARY_KEY, None)
    if step_summary is not None:
        written, text = step_summary
        terminalreporter.write_line(text, **({} if written else {"yellow": True}))
