"""A project's own profiles through pytest: pyproject.toml tables and the pytest_privacy_profiles hook.

Collection only: nothing here trains, so no run waits for TensorFlow. Bad
tables are usage errors (exit 4) before any training; the table reader's
messages one by one are in test_project.py.
"""

from __future__ import annotations

import pytest

from privacy_checks.spec import registry as profiles
from privacy_checks.spec.cases import cases
from privacy_checks.spec.registry import SMOKE
from privacy_pytester import CASES, SUITE, run

PYPROJECT = """
[tool.pytest.ini_options]

[tool.privacy_checks.profiles.mydigits]
description = "The built-in CNN on digits, declared by the project"
dataset = "digits"
num_classes = 10
input_shape = [8, 8, 1]
padding = "same"
members = 100
epochs = 4
report_epochs = [2, 4]
attacks = ["threshold"]
by_class = false

[[tool.privacy_checks.profiles.mydigits.models]]
name = "cnn"
label = "CNN"
num_conv = 2
"""

PLUGIN = 'pytest_plugins = ["privacy_checks.plugin"]\n'

REGISTERS_MYDIGITS = PLUGIN + """import dataclasses
from privacy_checks import SMOKE, register_profile

register_profile(dataclasses.replace(SMOKE, name="mydigits"))
"""

HOOK = PLUGIN + """import dataclasses
from privacy_checks import SMOKE


def pytest_privacy_profiles(config):
    return [dataclasses.replace(SMOKE, name={name!r}, description="computed in conftest.py")]
"""


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """A private copy of the profile registry: the inner runs share this process."""
    monkeypatch.setattr(profiles, "PROFILES", dict(profiles.PROFILES))
    monkeypatch.setattr(profiles, "_ORIGINS", dict(profiles._ORIGINS))


def make(pytester: pytest.Pytester, pyproject: str | None = PYPROJECT, conftest: str = PLUGIN) -> pytest.Pytester:
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_suite=SUITE)
    if pyproject is not None:
        pytester.makepyprojecttoml(pyproject)
    else:
        pytester.makeini("[pytest]\n")
    return pytester


def test_a_profile_declared_in_pyproject_is_selected_and_collected(pytester):
    make(pytester)
    result = run(pytester, "--collect-only", "-q", "-m", "privacy", "--privacy-profile=mydigits")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "test_suite.py::test_membership_inference[[]cnn-epoch2-threshold-entire_dataset[]]",
            "test_suite.py::test_membership_inference[[]cnn-epoch4-threshold-entire_dataset[]]",
            "2 tests collected*",
        ]
    )
    assert "mydigits" not in profiles.PROFILES, "forgotten when the run ended"


def test_the_header_shows_the_declared_profile(pytester):
    make(pytester)
    result = run(pytester, "--collect-only", "--privacy-profile=mydigits")
    result.stdout.fnmatch_lines(["privacy: profile mydigits (hash *, seed 0, TF threads 2/2)*", "privacy: data digits"])


def test_a_bad_key_is_a_usage_error_that_names_it(pytester):
    make(pytester, PYPROJECT.replace("epochs = 4", "epoch = 4"))
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=mydigits")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: pyproject.toml [[]tool.privacy_checks.profiles.mydigits[]]: unknown key 'epoch' (did you mean 'epochs'?): "
         "rename it to 'epochs', or remove it."]
    )
    assert "Traceback" not in result.stderr.str()


def test_a_bad_table_stops_the_run_even_when_another_profile_is_chosen(pytester):
    """A broken declaration is a broken configuration: never silently skipped."""
    make(pytester, PYPROJECT.replace("input_shape = [8, 8, 1]", 'input_shape = "8x8"'))
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(['*mydigits[]]: input_shape must be a list of positive integers, got "8x8": *'])


def test_pyproject_and_conftest_defining_one_name_is_an_error_naming_both(pytester):
    make(pytester, conftest=REGISTERS_MYDIGITS)
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=mydigits")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: profile 'mydigits' is defined twice: in conftest.py:5 and in "
            "pyproject.toml [[]tool.privacy_checks.profiles.mydigits[]]; define it in one place only, "
            "or give one of them another name"
        ]
    )


def test_registering_a_declared_name_later_is_an_error_naming_both(pytester):
    """A test module imported after pytest_configure meets the declaration first."""
    make(pytester)
    pytester.makepyfile(test_late="import dataclasses\nfrom privacy_checks import SMOKE, register_profile\n"
                                  "register_profile(dataclasses.replace(SMOKE, name='mydigits'))\n")
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=mydigits")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines(
        ["*profile 'mydigits' is defined twice: in pyproject.toml [[]tool.privacy_checks.profiles.mydigits[]] "
         "and in test_late.py:3*"]
    )


def test_a_profile_from_the_hook_is_selectable(pytester):
    make(pytester, pyproject=None, conftest=HOOK.format(name="computed"))
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=computed")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"{len(cases(SMOKE))} tests collected*"])
    assert CASES == len(cases(SMOKE))
    assert "computed" not in profiles.PROFILES, "forgotten when the run ended"


def test_the_hook_and_pyproject_defining_one_name_is_an_error_naming_both(pytester):
    make(pytester, conftest=HOOK.format(name="mydigits"))
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=mydigits")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: profile 'mydigits' is defined twice: in pyproject.toml [[]tool.privacy_checks.profiles.mydigits[]] "
         "and in conftest.py:6 (pytest_privacy_profiles); *"]
    )


def test_a_hook_returning_something_else_is_a_usage_error(pytester):
    make(pytester, pyproject=None, conftest=PLUGIN + "def pytest_privacy_profiles(config):\n    return ['smoke']\n")
    result = run(pytester, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: conftest.py:2 (pytest_privacy_profiles): returned 'smoke', not a privacy_checks.Profile: "
         "return Profile objects only."]
    )


def test_an_unknown_profile_says_where_to_declare_it(pytester):
    make(pytester)
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=mydigit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --privacy-profile: unknown privacy profile 'mydigit'; choose one of: cifar10, cifar10-quick, "
         "cifar10-quick-strong, digits, digits-strong, mydigits, smoke. pyproject.toml declares no [[]tool.privacy_checks.profiles.mydigit[]]: *"]
    )


def test_runs_in_one_process_do_not_see_each_others_profiles(pytester, monkeypatch):
    """pytester's in-process runs share the registry: an earlier project's conftest is no conflict."""
    first, second = pytester.mkdir("first"), pytester.mkdir("second")
    (first / "conftest.py").write_text(REGISTERS_MYDIGITS)
    (first / "tox.ini").write_text("[pytest]\n")
    (first / "test_suite.py").write_text(SUITE)
    (second / "conftest.py").write_text(PLUGIN)
    (second / "pyproject.toml").write_text(PYPROJECT)
    (second / "test_suite.py").write_text(SUITE)

    monkeypatch.chdir(first)
    run(pytester, "--collect-only", "-q", "--privacy-profile=mydigits").stdout.fnmatch_lines(
        [f"{CASES} tests collected*"]
    )
    assert "mydigits" in profiles.PROFILES  # a conftest's registration outlives its run

    monkeypatch.chdir(second)
    result = run(pytester, "--collect-only", "-q", "--privacy-profile=mydigits")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["2 tests collected*"])
    assert "mydigits" not in profiles.PROFILES


# -- misspelt settings: never a silent fall-back to a built-in profile -------------------------


@pytest.mark.parametrize(
    "file, text, where",
    [
        ("pyproject.toml", '[tool.pytest.ini_options]\nprivacy_profil = "mydigits"\n', "pyproject.toml [[]tool.pytest.ini_options[]]"),
        ("pytest.ini", "[pytest]\nprivacy_profil = mydigits\n", "pytest.ini [[]pytest[]]"),
        ("tox.ini", "[pytest]\nprivacy_profil = mydigits\n", "tox.ini [[]pytest[]]"),
        ("setup.cfg", "[tool:pytest]\nprivacy_profil = mydigits\n", "setup.cfg [[]tool:pytest[]]"),
    ],
)
def test_a_misspelt_ini_key_is_a_usage_error_not_the_default_profile(pytester, file, text, where):
    make(pytester, pyproject=None)
    (pytester.path / "tox.ini").unlink()  # make()'s; the file under test is the only one
    (pytester.path / file).write_text(text)
    result = run(pytester, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: {where}: unknown key 'privacy_profil' (did you mean 'privacy_profile'?): "
         "rename it to privacy_profile, or remove it."]
    )
    assert "collected" not in result.stdout.str()


def test_an_ini_key_of_a_command_line_only_option_says_to_pass_it(pytester):
    make(pytester, pyproject=None)
    pytester.makeini("[pytest]\nprivacy_update_baselines = true\nprivacy_nonsense = 1\n")
    result = run(pytester, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: tox.ini [[]pytest[]]: unknown key 'privacy_nonsense'; the plugin's ini keys are "
            "privacy_baselines_dir, privacy_class_tolerance, *: rename it to one of them, or remove it.",
            "tox.ini [[]pytest[]]: 'privacy_update_baselines' is no ini key: --privacy-update-baselines has no "
            "ini twin, because it rewrites the committed baselines, *. Pass --privacy-update-baselines on the "
            "command line when you mean it, and remove the key.",
        ]
    )


def test_a_misspelt_plugin_table_is_a_usage_error(pytester):
    make(pytester, PYPROJECT.replace("[tool.privacy_checks.profiles.mydigits]", "[tool.privacy_checks.profile.mydigits]")
         .replace("[[tool.privacy_checks.profiles.mydigits.models]]", "[[tool.privacy_checks.profile.mydigits.models]]"))
    result = run(pytester, "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: pyproject.toml: unknown key 'tool.privacy_checks.profile' (did you mean "
         "'tool.privacy_checks.profiles'?): rename it to 'tool.privacy_checks.profiles', or remove it."]
    )


def test_the_header_says_when_a_built_in_profile_runs_beside_the_projects_own(pytester):
    make(pytester)
    result = run(pytester, "--collect-only", "-m", "not privacy")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(
        ['privacy: profile digits is built in; this project declares mydigits '
         '(select it with privacy_profile = "mydigits" or --privacy-profile=mydigits)']
    )
    selected = run(pytester, "--collect-only", "-m", "not privacy", "--privacy-profile=mydigits")
    assert "is built in" not in selected.stdout.str()
