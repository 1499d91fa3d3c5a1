"""Profiles declared in pyproject.toml: the table reader, its messages, and who owns a name.

Every message names the file, the table and the exact key, because a typo in a
configuration file must stop the run, not measure something else. Through
pytest (usage errors, selection, hooks): plugin/test_plugin_project.py.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from privacy_checks.plugin.declared import RunProfiles
from privacy_checks.spec import registry as profiles
from privacy_checks.spec.files import display_path
from privacy_checks.spec.model_spec import DPSGD, ModelSpec, Tolerance
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.pyproject import ProfileError, profile_from_table, read_pyproject, resolve_dataset
from privacy_checks.spec.registry import SMOKE, Origin
from privacy_checks.spec.vocabulary import DEFAULT_FPRS

FULL = """
[tool.privacy_checks.profiles.wine]
description = "Wine, as our gate runs it"
dataset = "imagefolder:data/wine"
num_classes = 3
input_shape = [13]
members = 100
epochs = 60
report_epochs = [10, 30, 60]
batch_size = 25
learning_rate = 2e-3
padding = "same"
attacks = ["threshold"]
by_class = false
seed = 7
fprs = [0.01]
tolerance = {auc = 0.02, attacker_advantage = 0.04, tpr = 0.03}
class_tolerance = {auc = 0.2}
intra_op_threads = 1
inter_op_threads = 4

[[tool.privacy_checks.profiles.wine.models]]
name = "mlp"
label = "MLP"
builder = "wine_gate.model:build"
params = {hidden = 64, layers = [32, 16]}
outputs = "probabilities"
version = "2"

[[tool.privacy_checks.profiles.wine.models]]
name = "dp_cnn"
num_conv = 2
activation = "tanh"
filters = 16
dense_units = 32
dp = {l2_norm_clip = 1.0, noise_multiplier = 1.1, learning_rate = 0.01, delta = 1e-6}
compare_to = "mlp"
"""

#: The smallest table: the built-in CNN on digits.
MINIMAL = {
    "dataset": "digits",
    "num_classes": 10,
    "input_shape": [8, 8, 1],
    "epochs": 60,
    "report_epochs": [10, 30, 60],
    "members": 100,
    "models": [{"name": "cnn", "num_conv": 2}, {"name": "dp", "num_conv": 2, "dp": {"l2_norm_clip": 1.0, "noise_multiplier": 1.1, "learning_rate": 0.01}}],
}
PREFIX = "pyproject.toml [tool.privacy_checks.profiles.wine]: "


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the profile registry, so that no test sees another's profiles."""
    monkeypatch.setattr(profiles, "PROFILES", dict(profiles.PROFILES))
    monkeypatch.setattr(profiles, "_ORIGINS", dict(profiles._ORIGINS))
    monkeypatch.setattr(profiles, "_PROJECT_FILE", None)


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """A project directory, also the working directory (messages show ``pyproject.toml``)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(directory: Path, text: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text(text)
    return path


def test_a_full_table_becomes_the_profile_it_describes(here):
    (declared,) = read_pyproject(write(here, FULL))
    assert declared.profile == Profile(
        name="wine",
        description="Wine, as our gate runs it",
        dataset=f"imagefolder:{here / 'data' / 'wine'}",  # relative to the pyproject, not the cwd
        num_classes=3,
        input_shape=(13,),
        members=100,
        models=(
            ModelSpec(
                "mlp", "MLP", builder="wine_gate.model:build", params={"hidden": 64, "layers": [32, 16]},
                outputs="probabilities", version="2",
            ),
            ModelSpec(
                "dp_cnn", "dp_cnn", 2, activation="tanh", filters=16, dense_units=32,
                dp=DPSGD(l2_norm_clip=1.0, noise_multiplier=1.1, learning_rate=0.01, delta=1e-6),
                compare_to="mlp",
            ),
        ),
        epochs=60,
        report_epochs=(10, 30, 60),
        batch_size=25,
        learning_rate=2e-3,
        padding="same",
        attacks=("threshold",),
        by_class=False,
        seed=7,
        tolerance=Tolerance(auc=0.02, attacker_advantage=0.04, tpr=0.03),
        class_tolerance=Tolerance(auc=0.2, attacker_advantage=0.15, tpr=0.25),  # the others: defaults
        fprs=(0.01,),
        intra_op_threads=1,
        inter_op_threads=4,
    )
    assert declared.origin == Origin(
        "pyproject.toml [tool.privacy_checks.profiles.wine]", str(here / "pyproject.toml"), declared=True
    )


def test_left_out_keys_take_the_documented_defaults(here):
    table = {**MINIMAL, "models": [{"name": "cnn", "num_conv": 2}]}
    del table["report_epochs"], table["members"]
    profile = profile_from_table("wine", table, path=here / "pyproject.toml")
    assert (profile.description, profile.members, profile.report_epochs) == ("", None, (60,))
    assert (profile.batch_size, profile.learning_rate, profile.padding) == (50, 1e-3, "valid")
    assert (profile.attacks, profile.by_class, profile.seed, profile.fprs) == (
        ("threshold", "logistic_regression"), True, 0, DEFAULT_FPRS
    )
    assert profile.tolerance == Tolerance(auc=0.03, attacker_advantage=0.05, tpr=0.05)
    assert profile.class_tolerance == Tolerance(auc=0.10, attacker_advantage=0.15, tpr=0.25)
    assert (profile.intra_op_threads, profile.inter_op_threads) == (2, 2)
    assert profile.models == (ModelSpec("cnn", "cnn", 2),)
    assert profile.reference_models == {} and profile.references == 0


def test_reference_model_attacks_are_declared_with_their_counts(here):
    table = {**MINIMAL, "attacks": ["threshold", "rmia", "lira_online"], "reference_models": {"rmia": 2, "lira_online": 16}}
    profile = profile_from_table("wine", table, path=here / "pyproject.toml")
    assert profile.reference_models == {"lira_online": 16, "rmia": 2}
    assert (profile.references, profile.tf_privacy_attacks) == (16, ("threshold",))


def set_key(table: dict, key: str, value) -> dict:
    """A copy of ``table`` with ``key`` (``epochs``, ``models[1].dp.delta``) set, or deleted when value is ...."""
    table = copy.deepcopy(table)
    *parents, last = key.split(".")
    node = table
    for part in parents:
        name, _, index = part.partition("[")
        node = node[name][int(index[:-1])] if index else node[name]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return table


def rename(table: dict, key: str, new: str) -> dict:
    table = set_key(table, new, table[key])
    del table[key]
    return table


@pytest.mark.parametrize(
    "table, message",
    [
        (rename(MINIMAL, "epochs", "epoch"), "unknown key 'epoch' (did you mean 'epochs'?): rename it to 'epochs', or remove it."),
        ({**MINIMAL, "colour": "red"}, "unknown key 'colour': rename it to one of description, dataset, "),
        (set_key(MINIMAL, "epochs", ...), "missing required key 'epochs'"),
        ({"models": MINIMAL["models"]}, "missing required keys 'dataset', 'num_classes', 'input_shape', 'epochs'"),
        ({**MINIMAL, "input_shape": "13"}, 'input_shape must be a list of positive integers, got "13"'),
        ({**MINIMAL, "input_shape": [8, 0]}, "input_shape must be a list of positive integers, got [8, 0]"),
        ({**MINIMAL, "num_classes": 2.5}, "num_classes must be a positive integer, got 2.5"),
        ({**MINIMAL, "members": 0}, "members must be a positive integer, got 0"),
        ({**MINIMAL, "epochs": True}, "epochs must be a positive integer, got true"),
        ({**MINIMAL, "learning_rate": 0}, "learning_rate must be a positive number, got 0"),
        ({**MINIMAL, "padding": "full"}, 'padding must be one of "valid", "same", got "full"'),
        ({**MINIMAL, "by_class": "yes"}, 'by_class must be true or false, got "yes"'),
        ({**MINIMAL, "seed": -1}, "seed must be an integer in 0..2147483647, got -1"),
        ({**MINIMAL, "attacks": ["threshhold"]}, "attacks: unknown attack \"threshhold\" (did you mean 'threshold'?)"),
        ({**MINIMAL, "fprs": 0.01}, "fprs must be a list of numbers, got 0.01"),
        ({**MINIMAL, "attacks": ["threshold", "rmia"]},
         "attacks ['rmia'] need reference models: set reference_models = {'rmia': 4} (an even number per attack)"),
        ({**MINIMAL, "attacks": ["rmia"], "reference_models": {"rmai": 2}},
         "reference_models.rmai is no reference-model attack (did you mean 'reference_models.rmia'?)"),
        ({**MINIMAL, "attacks": ["rmia"], "reference_models": {"rmia": 3}},
         "reference_models.rmia must be an even number >= 2 (references come in pairs), got 3"),
        ({**MINIMAL, "tolerance": {"aucc": 0.1}}, "unknown key 'tolerance.aucc' (did you mean 'tolerance.auc'?)"),
        ({**MINIMAL, "tolerance": {"auc": 2}}, "tolerance.auc must lie between 0 and 1, got 2"),
        ({**MINIMAL, "class_tolerance": 0.1}, "class_tolerance must be a table ({key = value, ...}), got 0.1"),
        ({**MINIMAL, "intra_op_threads": 0}, "intra_op_threads must be a positive integer, got 0"),
        ({**MINIMAL, "models": []}, "models must hold at least one model: a [[tool.privacy_checks.profiles.wine.models]] table each, got []"),
        (set_key(MINIMAL, "models[0].filter", 16), "unknown key 'models[0].filter' (did you mean 'models[0].filters'?)"),
        (set_key(MINIMAL, "models[0].name", ...), "missing required key 'models[0].name'"),
        (set_key(MINIMAL, "models[0].num_conv", ...),
         'models[0] needs models[0].builder ("package.module:function" returning a tf.keras.Model) '
         "or models[0].num_conv (the conv layers of the built-in codelab CNN)"),
        (set_key(MINIMAL, "models[0].num_conv", "2"), 'models[0].num_conv must be a positive integer, got "2"'),
        (set_key(MINIMAL, "models[0].builder", "wine_gate.model:build"),
         "models[0].num_conv describes the built-in codelab CNN, not a builder's model: pass your builder's arguments in models[0].params"),
        (set_key(MINIMAL, "models[0].builder", "wine_gate.model"),
         "models[0].builder 'wine_gate.model' is not of the form 'package.module:function'"),
        (set_key(MINIMAL, "models[0].params", {"hidden": 64}), "models[0].params are a builder's keyword arguments: set models[0].builder too"),
        (set_key(MINIMAL, "models[0].version", 1), "models[0].version must be a string, got 1"),
        (set_key(MINIMAL, "models[0].outputs", "softmax"), 'models[0].outputs must be one of "logits", "probabilities", got "softmax"'),
        (set_key(MINIMAL, "models[1].dp.noise_multipler", 1.0), "unknown key 'models[1].dp.noise_multipler' (did you mean 'models[1].dp.noise_multiplier'?)"),
        (set_key(MINIMAL, "models[1].dp.learning_rate", ...), "missing required key 'models[1].dp.learning_rate'"),
        # The profile's own checks, with the file and table in front:
        ({**MINIMAL, "report_epochs": [10, 90]}, "report_epochs (10, 90) must lie in 1..60"),
        ({**MINIMAL, "report_epochs": [10, 30]}, "report_epochs [10, 30] end before the last epoch 60: "),
        ({**MINIMAL, "members": 110}, "model dp trains with DP-SGD: members (110) must be a multiple of batch_size (50)"),
        (set_key(MINIMAL, "models[1].dp.noise_multiplier", 0), "model dp: noise_multiplier must be > 0"),
        ({**MINIMAL, "dataset": "mnist"}, "unknown dataset 'mnist'"),
    ],
)
def test_every_problem_names_the_file_the_table_and_the_key(here, table, message):
    with pytest.raises(ProfileError) as raised:
        profile_from_table("wine", table, path=here / "pyproject.toml")
    assert str(raised.value).startswith(PREFIX + message), str(raised.value)


def test_the_file_is_shown_as_the_user_would_type_it(here, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "pyproject.toml"
    with pytest.raises(ProfileError, match=rf"^{elsewhere} \[tool.privacy_checks.profiles.wine\]: "):
        profile_from_table("wine", {}, path=elsewhere)
    sub = here / "sub"
    sub.mkdir()
    with pytest.raises(ProfileError, match=r"^sub/pyproject.toml \[tool.privacy_checks.profiles.wine\]: "):
        profile_from_table("wine", {}, path=sub / "pyproject.toml")


def test_names_that_toml_must_quote_are_quoted_in_messages(here):
    with pytest.raises(ProfileError) as raised:
        profile_from_table("my wine", MINIMAL, path=here / "pyproject.toml")
    assert str(raised.value).startswith(
        'pyproject.toml [tool.privacy_checks.profiles."my wine"]: names [\'my wine\'] are used in file names'
    )


@pytest.mark.parametrize(
    "dataset, expected",
    [
        ("imagefolder:data/pets", "imagefolder:{base}/data/pets"),
        ("imagefolder:../shared/pets", "imagefolder:{parent}/shared/pets"),
        ("npz:data/wine.npz", "npz:{base}/data/wine.npz"),
        ("npz:/abs/wine.npz", "npz:/abs/wine.npz"),
        ("digits", "digits"),
        ("tfds:mnist", "tfds:mnist"),
        ("function:wine_gate.data:load", "function:wine_gate.data:load"),
    ],
)
def test_relative_paths_of_path_sources_are_taken_from_the_pyproject(tmp_path, dataset, expected):
    base = tmp_path / "project"
    assert resolve_dataset(dataset, base) == expected.format(base=base, parent=tmp_path)


@pytest.mark.parametrize(
    "dataset, expected",
    [
        ("imagefolder:data/wine", "imagefolder:{here}/data/wine"),
        ("npz:data/wine.npz", "npz:{here}/data/wine.npz"),
        ("function:wine_gate.data:load", "function:wine_gate.data:load"),
        ("tfds:wine_quality@train[:50%],train[50%:]", "tfds:wine_quality@train[:50%],train[50%:]"),
    ],
)
def test_declared_data_sources_do_not_depend_on_the_working_directory(here, monkeypatch, dataset, expected):
    path = write(here, FULL.replace('"imagefolder:data/wine"', f'"{dataset}"'))
    monkeypatch.chdir("/")
    (declared,) = read_pyproject(path)
    assert declared.profile.dataset == expected.format(here=here)


@pytest.mark.parametrize(
    "text, found",
    [
        ("", 0),
        ("[tool.black]\nline-length = 100\n", 0),
        (FULL, 1),
        (FULL + FULL.replace(".wine", ".wine2").replace("data/wine", "data/wine2"), 2),
    ],
)
def test_a_pyproject_declares_profiles_only_in_its_table(here, text, found):
    assert len(read_pyproject(write(here, text))) == found


@pytest.mark.parametrize(
    "text, message",
    [
        ("[tool.privacy_checks\n", "pyproject.toml: not valid TOML: "),
        ("[tool.privacy_checks]\nprofiles = 1\n", "pyproject.toml: [tool.privacy_checks.profiles] must be a table of profiles, got 1"),
        # A misspelt table would otherwise leave the run on a built-in profile:
        ("[tool.privacy_checks.profile.wine]\ndataset = \"digits\"\n",
         "pyproject.toml: unknown key 'tool.privacy_checks.profile' (did you mean 'tool.privacy_checks.profiles'?): "
         "rename it to 'tool.privacy_checks.profiles', or remove it."),
        ("[tool.privacy_checks]\nsomething_else = 1\n",
         "pyproject.toml: unknown key 'tool.privacy_checks.something_else': rename it to one of profiles, or remove it."),
        ("[tool]\nprivacy_checks = 1\n", "pyproject.toml: [tool.privacy_checks] must be a table, got 1: "),
        ("[tool.privacy_checks.profiles]\nwine = \"digits\"\n",
         'pyproject.toml [tool.privacy_checks.profiles.wine]: tool.privacy_checks.profiles.wine must be a table ({key = value, ...}), got "digits"'),
    ],
)
def test_a_broken_pyproject_is_named(here, text, message):
    with pytest.raises(ProfileError) as raised:
        read_pyproject(write(here, text))
    assert str(raised.value).startswith(message)


# -- who owns a name --------------------------------------------------------------------------


def declare(here: Path, name: str = "wine") -> RunProfiles:
    run = RunProfiles(here)
    run.register(read_pyproject(write(here, FULL.replace(".wine", f".{name}"))))
    return run


def test_a_declared_profile_is_selectable_until_its_run_ends(registry, here):
    run = declare(here)
    assert profiles.get_profile("wine").description == "Wine, as our gate runs it"
    run.forget()
    with pytest.raises(KeyError, match="unknown privacy profile 'wine'"):
        profiles.get_profile("wine")


def test_registering_a_declared_name_from_python_names_both_places(registry, here):
    declare(here)
    with pytest.raises(ValueError) as raised:
        profiles.register_profile(dataclasses.replace(SMOKE, name="wine"))
    this_file = re.escape(__file__)  # outside the working directory: in full
    assert re.fullmatch(
        r"profile 'wine' is defined twice: in pyproject.toml \[tool.privacy_checks.profiles.wine\] "
        rf"and in {this_file}:\d+; define it in one place only, or give one of them another name",
        str(raised.value),
    ), str(raised.value)


def test_declaring_a_name_python_registered_names_both_places(registry, here):
    profiles.register_profile(dataclasses.replace(SMOKE, name="wine"), origin=Origin("conftest.py:3", str(here / "conftest.py")))
    with pytest.raises(ProfileError, match=r"^profile 'wine' is defined twice: in conftest.py:3 and in "
                                           r"pyproject.toml \[tool.privacy_checks.profiles.wine\]; "):
        declare(here)


def test_even_an_identical_python_registration_is_a_second_definition(registry, here):
    (declared,) = read_pyproject(write(here, FULL))
    profiles.register_profile(declared.profile)  # from this (loaded) test module
    with pytest.raises(ProfileError, match="is defined twice"):
        RunProfiles(here).register([declared])


def test_built_in_names_cannot_be_declared(registry, here):
    with pytest.raises(ProfileError, match=r"^profile 'digits' is defined twice: in privacy_checks' built-in profiles "
                                           r"and in pyproject.toml \[tool.privacy_checks.profiles.digits\]; "
                                           "built-in profiles cannot be redefined"):
        declare(here, "digits")
    assert profiles.get_profile("digits") is profiles.DIGITS


def test_a_registration_left_by_an_earlier_in_process_run_is_no_conflict(registry, here, tmp_path_factory):
    earlier = tmp_path_factory.mktemp("earlier_run") / "conftest.py"  # not loaded, outside the rootdir
    leftover = profiles.register_profile(
        dataclasses.replace(SMOKE, name="wine"), origin=Origin(f"{earlier}:3", str(earlier))
    )
    run = declare(here)
    assert profiles.get_profile("wine") is not leftover
    run.forget()
    assert "wine" not in profiles.PROFILES


def test_a_registration_from_a_loaded_module_outside_the_rootdir_is_current(registry, tmp_path_factory):
    """A plugin's profile (a module loaded now, e.g. in site-packages) still conflicts."""
    profiles.register_profile(dataclasses.replace(SMOKE, name="wine"))  # from this test module
    elsewhere = tmp_path_factory.mktemp("other_project")
    with pytest.raises(ProfileError, match="is defined twice"):
        declare(elsewhere)


def test_unknown_profile_says_where_profiles_can_be_declared(registry, here):
    run = declare(here)
    profiles.set_project_file(str(here / "pyproject.toml"))  # the plugin's RunProfiles.declare does this
    with pytest.raises(KeyError) as raised:
        profiles.get_profile("whine")
    assert raised.value.args[0] == (
        "unknown privacy profile 'whine'; choose one of: cifar10, cifar10-quick, cifar10-quick-strong, digits, digits-strong, smoke, wine. "
        "pyproject.toml declares no [tool.privacy_checks.profiles.whine]: declare it there "
        "(docs/your-own-model.md), or register it from a conftest.py with privacy_checks.register_profile"
    )
    run.forget()


def test_python_registration_keeps_its_rules(registry):
    mine = profiles.register_profile(dataclasses.replace(SMOKE, name="mine"))
    line = sys._getframe().f_lineno - 1
    assert profiles.origin_of("mine") == Origin(f"{display_path(__file__)}:{line}", __file__)
    profiles.register_profile(mine)  # a conftest imported twice
    with pytest.raises(ValueError, match="pass replace=True"):
        profiles.register_profile(dataclasses.replace(mine, epochs=4, report_epochs=(1, 4)))
    profiles.register_profile(dataclasses.replace(mine, epochs=4, report_epochs=(1, 4)), replace=True, origin="somewhere.py:1")
    assert str(profiles.origin_of("mine")) == "somewhere.py:1"


def test_project_module_stays_free_of_tensorflow():
    code = ("import sys, privacy_checks.plugin.declared, privacy_checks.plugin.hookspec; "
            "print('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
