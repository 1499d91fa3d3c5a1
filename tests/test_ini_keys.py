"""Unknown ``privacy_`` ini keys: which file and table they are named by, and what each message suggests.

Through pytest (every kind of ini file, the usage error): plugin/test_plugin_project.py.
"""

from __future__ import annotations

import types

import pytest

from privacy_checks.plugin import ini_keys
from privacy_checks.plugin.options import OPTIONS


@pytest.mark.parametrize(
    "name, mode, shown",
    [
        ("pyproject.toml", "ini", "pyproject.toml [tool.pytest.ini_options]"),
        ("pyproject.toml", "toml", "pyproject.toml [tool.pytest]"),
        ("pytest.toml", "toml", "pytest.toml [pytest]"),
        ("pytest.ini", "ini", "pytest.ini [pytest]"),
        ("tox.ini", "ini", "tox.ini [pytest]"),
        ("setup.cfg", "ini", "setup.cfg [tool:pytest]"),
    ],
)
def test_the_section_is_named_as_the_user_wrote_it(tmp_path, monkeypatch, name, mode, shown):
    monkeypatch.chdir(tmp_path)
    assert ini_keys.section(tmp_path / name, mode) == shown


def test_keys_set_with_override_ini_are_named_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value = types.SimpleNamespace
    config = types.SimpleNamespace(
        inipath=tmp_path / "tox.ini",
        _inicfg={"privacy_seed": value(origin="file", mode="ini"), "privacy_sed": value(origin="override", mode="ini")},
    )
    assert ini_keys.config_keys(config) == {"privacy_seed": "tox.ini [pytest]", "privacy_sed": "-o/--override-ini"}


def test_only_unknown_privacy_keys_are_problems():
    known = {option.name: "tox.ini [pytest]" for option in OPTIONS if option.ini}
    assert ini_keys.problems({**known, "testpaths": "tox.ini [pytest]", "privacy": "tox.ini [pytest]"}) == []
    assert ini_keys.problems({"privacy_sed": "-o/--override-ini"}) == [
        "-o/--override-ini: unknown key 'privacy_sed' (did you mean 'privacy_seed'?): rename it to privacy_seed, or remove it."
    ]


def test_a_key_close_to_nothing_lists_the_known_ones():
    (message,) = ini_keys.problems({"privacy_zzz": "tox.ini [pytest]"})
    assert message.startswith("tox.ini [pytest]: unknown key 'privacy_zzz'; the plugin's ini keys are privacy_baselines_dir, ")
    assert "privacy_update_baselines" not in message  # no ini twin: not offered
    assert message.endswith(": rename it to one of them, or remove it.")


@pytest.mark.parametrize("key", ["privacy_calibrate", "privacy_update_baseline"])
def test_a_command_line_only_option_is_sent_to_the_command_line(key):
    (message,) = ini_keys.problems({key: "tox.ini [pytest]"})
    cli = "--privacy-calibrate" if "calibrate" in key else "--privacy-update-baselines"
    assert message.startswith(f"tox.ini [pytest]: {key!r} is no ini key: {cli} has no ini twin")
    assert message.endswith(f"Pass {cli} on the command line when you mean it, and remove the key.")
