"""Every message that profile and data validation can give is a whole sentence that ends with what to do.

A catalogue of bad profiles, pyproject tables, data and models triggers each
message site of the validating modules once; each message must end with a
full stop after an instruction (set, add, remove, rename, ...) and must not
stop mid-way ("set the profile's members to a multiple"). A guard counts the
message sites of those modules with ``ast`` and requires the catalogue to
cover each one (its longest literal text found in some catalogue message),
so that a new message cannot skip this test.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import privacy_checks
from privacy_checks.data import load, sources
from privacy_checks.data.arrays import read_function, read_npz
from privacy_checks.data.dataset import DatasetError
from privacy_checks.plugin.declared import hook_profiles
from privacy_checks.spec import dotted
from privacy_checks.spec.dotted import UserCodeError
from privacy_checks.spec.model_spec import DPSGD, ModelSpec
from privacy_checks.spec.pyproject import ProfileError, profile_from_table, read_pyproject
from privacy_checks.spec.registry import DP_2_LAYERS, SMOKE
from privacy_checks.train import models

pytestmark = pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")

#: What a message may end by telling the reader to do.
INSTRUCTION = re.compile(
    r"\b(set|use|add|remove|give|choose|pass|return|write|rename|declare|drop|lower|raise|provide|fix|end|"
    r"put|leave|name|save)\b",
    re.IGNORECASE,
)
#: Words a sentence cut off mid-way ends with ("... to a multiple").
_DANGLING = {"a", "an", "the", "to", "of", "or", "and", "with", "for", "in", "on", "by", "at", "as", "than",
             "multiple", "its", "their", "your", "be", "is", "are"}

# -- the catalogue: (module of the message site, a name, what raises it) -------------------

Trigger = Callable[[Path, pytest.MonkeyPatch], Any]
CATALOGUE: list[tuple[str, str, Trigger]] = []


def case(module: str, name: str) -> Callable[[Trigger], Trigger]:
    def add(trigger: Trigger) -> Trigger:
        CATALOGUE.append((module, name, trigger))
        return trigger

    return add


def replaced(**changes: Any) -> Trigger:
    return lambda tmp, mp: dataclasses.replace(SMOKE, **changes)


def _dp(**changes: Any) -> ModelSpec:
    return dataclasses.replace(DP_2_LAYERS, compare_to=None, dp=dataclasses.replace(DP_2_LAYERS.dp, **changes))


# Profile.__post_init__ and its helpers (spec/profile.py, vocabulary.py, sources.py, model_spec.py)
for _name, _changes in {
    "unknown-attack": {"attacks": ("threshold", "laser")},
    "report-epochs-range": {"report_epochs": (0, 3)},
    "report-epochs-order": {"report_epochs": (3, 1)},
    "report-epochs-end": {"epochs": 4},
    "dataset-via-check": {"dataset": "mnist"},
    "bad-name": {"name": "my profile"},
    "duplicate-models": {"models": (SMOKE.models[0], SMOKE.models[0])},
    "dp-members": {"members": 110, "models": (dataclasses.replace(DP_2_LAYERS, compare_to=None),)},
    "compare-to-non-dp": {"models": (ModelSpec("a", "A", 2, compare_to="b"), ModelSpec("b", "B", 2))},
    "compare-to-missing": {"models": (dataclasses.replace(DP_2_LAYERS, compare_to="4_layers"),)},
    "threads": {"intra_op_threads": 0},
    "calibration-seeds": {"calibration_seeds": 1},
}.items():
    case("profiles", _name)(replaced(**_changes))

for _name, _changes in {
    "fpr-range": {"fprs": (1.5,)},
    "fpr-repeated": {"fprs": (0.01, 0.01)},
}.items():
    case("metrics", _name)(replaced(**_changes))

for _name, _changes in {
    "reference-model-unknown": {"attacks": ("threshold", "rmia"), "reference_models": {"rmia": 2, "lira": 2}},
    "reference-model-not-attacked": {"attacks": ("threshold", "rmia"), "reference_models": {"rmia": 2, "lira_online": 2}},
    "reference-model-odd": {"attacks": ("rmia",), "reference_models": {"rmia": 3}},
    "reference-model-missing": {"attacks": ("rmia",), "reference_models": {}},
    "tfds-spelling": {"dataset": "tfds:mnist@train"},
    "dataset-not-a-string": {"dataset": 3},
    "dataset-unknown": {"dataset": "digits:x"},
    "imagefolder-without-directory": {"dataset": "imagefolder:"},
    "function-spelling": {"dataset": "function:load_wine"},
    "dp-clip": {"models": (_dp(l2_norm_clip=0.0),)},
    "dp-noise": {"models": (_dp(noise_multiplier=0.0),)},
    "dp-learning-rate": {"models": (_dp(learning_rate=0.0),)},
    "dp-delta": {"models": (_dp(delta=1.0),)},
    "dp-max-epsilon": {"models": (_dp(max_epsilon=0.0),)},
    "model-without-builder": {"models": (ModelSpec("m", "M"),)},
    "params-without-builder": {"models": (ModelSpec("m", "M", 2, params={"hidden": 3}),)},
    "builder-spelling": {"models": (ModelSpec("m", "M", builder="wine_gate.model"),)},
    "builder-not-callable": {"models": (ModelSpec("m", "M", builder=3),)},
    "codelab-keys-with-builder": {"models": (ModelSpec("m", "M", 2, builder="a.b:c"),)},
    "params-not-a-table": {"models": (ModelSpec("m", "M", builder="a.b:c", params=[1]),)},
    "outputs": {"models": (ModelSpec("m", "M", 2, outputs="softmax"),)},
}.items():
    case("specs", _name)(replaced(**_changes))

# pyproject tables (spec/pyproject.py, pyproject_values.py)
MINIMAL = {
    "dataset": "digits", "num_classes": 10, "input_shape": [8, 8, 1], "epochs": 60, "members": 100,
    "models": [{"name": "cnn", "num_conv": 2}],
}


def table(**changes: Any) -> Trigger:
    def read(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
        body = {**MINIMAL, **changes}
        return profile_from_table("wine", {k: v for k, v in body.items() if v is not ...}, path=tmp / "pyproject.toml")

    return read


def model(**changes: Any) -> Trigger:
    return table(models=[{k: v for k, v in {"name": "cnn", "num_conv": 2, **changes}.items() if v is not ...}])


for _name, _trigger in {
    "positive-int": table(num_classes=2.5),
    "positive-ints": table(input_shape="13"),
    "positive-number": table(learning_rate=0),
    "number": table(tolerance={"auc": "0.1"}),
    "numbers": table(fprs=0.01),
    "seed": table(seed=-1),
    "string": model(version=1),
    "bool": table(by_class="yes"),
    "table": table(class_tolerance=0.1),
    "choice": table(padding="full"),
    "attacks-not-a-list": table(attacks="threshold"),
    "attack-unknown": table(attacks=["threshhold"]),
    "attack-far-off": table(attacks=["laser"]),
    "reference-model-attack": table(attacks=["rmia"], reference_models={"rmai": 2}),
    "reference-model-count": table(attacks=["rmia"], reference_models={"rmia": 3}),
    "unknown-key": table(epoch=60),
    "unknown-key-far-off": table(colour="red"),
    "missing-key": table(epochs=...),
    "missing-keys": table(dataset=..., epochs=...),
    "tolerance-range": table(tolerance={"auc": 2}),
    "builder-spelling": model(num_conv=..., builder="wine_gate.model"),
    "codelab-key-with-builder": model(builder="wine_gate.model:build"),
    "no-builder-no-num-conv": model(num_conv=...),
    "params-without-builder": model(params={"hidden": 64}),
    "no-models": table(models=[]),
    "profile-check": table(report_epochs=[10, 90]),
    "calibration-seeds": table(calibration_seeds=1),
}.items():
    case("project", _name)(_trigger)


def pyproject(text: str) -> Trigger:
    def read(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
        (tmp / "pyproject.toml").write_text(text)
        return read_pyproject(tmp / "pyproject.toml")

    return read


for _name, _text in {
    "toml": "[tool.privacy_checks\n",
    "plugin-not-a-table": "[tool]\nprivacy_checks = 1\n",
    "plugin-key": "[tool.privacy_checks.profile.wine]\ndataset = 'digits'\n",
    "profiles-not-a-table": "[tool.privacy_checks]\nprofiles = 1\n",
}.items():
    case("project", f"pyproject-{_name}")(pyproject(_text))


@case("project", "pyproject-unreadable")
def _unreadable(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    (tmp / "pyproject.toml").mkdir()
    return read_pyproject(tmp / "pyproject.toml")


def hook_returning(result: Any) -> Trigger:
    def call(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
        def pytest_privacy_profiles(config: Any) -> Any:
            return result

        impl = types.SimpleNamespace(
            hookwrapper=False, wrapper=False, function=pytest_privacy_profiles, argnames=("config",),
            plugin=None, plugin_name="conftest",
        )
        caller = types.SimpleNamespace(get_hookimpls=lambda: [impl])
        return hook_profiles(types.SimpleNamespace(hook=types.SimpleNamespace(pytest_privacy_profiles=caller)))

    return call


case("project", "hook-not-iterable")(hook_returning(SMOKE))
case("project", "hook-not-a-profile")(hook_returning(["smoke"]))

# data (data/)
TABULAR = dataclasses.replace(
    SMOKE, name="tab", num_classes=3, input_shape=(4,), members=None, by_class=False, dataset="function:tab:data"
)


def arrays(members: int = 30, non_members: int = 30, **changes: Any) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    found = {
        "x_members": rng.normal(size=(members, 4)).astype(np.float32), "y_members": np.arange(members) % 3,
        "x_non_members": rng.normal(size=(non_members, 4)).astype(np.float32), "y_non_members": np.arange(non_members) % 3,
    }
    return {k: v for k, v in {**found, **changes}.items() if v is not ...}


def loaded(returned: Any, **changes: Any) -> Trigger:
    profile = dataclasses.replace(TABULAR, **changes)
    return lambda tmp, mp: load.load(profile, hook=lambda p, d: returned)


for _name, _trigger in {
    "mapping-lacks": loaded(arrays(y_non_members=...)),
    "returned-wrong": loaded((1, 2, 3)),
    "ragged": loaded(arrays(x_members=[[1.0, 2.0], [3.0]])),
    "class-names": loaded(arrays(class_names=np.array([["a", "b", "c"]]))),
    "single-value": loaded(arrays(y_members=np.int64(3))),
    "lengths": loaded(arrays(y_members=np.arange(29) % 3)),
    "no-members": loaded(arrays(x_members=np.zeros((0, 4)), y_members=np.zeros(0, int))),
    "one-hot": loaded(arrays(y_members=np.eye(3)[np.arange(30) % 3])),
    "fractional-labels": loaded(arrays(y_members=np.arange(30) / 7)),
    "text-features": loaded(arrays(x_members=np.full((30, 4), "a"))),
    "side-shapes": loaded(arrays(x_non_members=np.zeros((30, 5), np.float32))),
    "input-shape": loaded(arrays(), input_shape=(5,)),
    "class-count": loaded(arrays(class_names=np.array(["a", "b"]))),
    "label-range": loaded(arrays(y_members=np.arange(30) % 4)),
    "non-finite": loaded(arrays(x_members=np.full((30, 4), np.nan, np.float32))),
    "few-members": loaded(arrays(), members=3),
    "few-examples": loaded(arrays(members=3)),
    "references": loaded(arrays(non_members=20), attacks=("threshold", "rmia"), reference_models={"rmia": 2}),
    "by-class": loaded(arrays(members=12, non_members=12), by_class=True),
    "members-draw": lambda tmp, mp: load.load(dataclasses.replace(SMOKE, members=1795)),
    "function-raised": lambda tmp, mp: read_function("math:sqrt", TABULAR),
}.items():
    case("datasets", _name)(_trigger)


@case("datasets", "tfds-not-loaded")
def _tfds_missing(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    import tensorflow_datasets as tfds

    mp.setattr(tfds, "load", lambda *a, **k: (_ for _ in ()).throw(OSError("no network")))
    return sources.read_tfds("mnist", "train", "test", None, "tfds:mnist", TABULAR)


@case("datasets", "tfds-not-arrays")
def _tfds_ragged(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    import tensorflow_datasets as tfds

    mp.setattr(tfds, "load", lambda *a, **k: ((object(), object()), None))
    return sources.read_tfds("mnist", "train", "test", None, "tfds:mnist", TABULAR)


@case("datasets", "imagefolder-layout")
def _no_test_split(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    (tmp / "train" / "cat").mkdir(parents=True)
    return sources.read_image_folder(tmp, SMOKE)


@case("datasets", "imagefolder-empty")
def _no_images(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    for split in ("train", "test"):
        (tmp / split / "cat").mkdir(parents=True)
    return sources.read_image_folder(tmp, SMOKE)


@case("datasets", "imagefolder-unreadable")
def _unreadable_image(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    for split in ("train", "test"):
        (tmp / split / "cat").mkdir(parents=True)
        (tmp / split / "cat" / "0.png").write_bytes(b"not a png")
    return sources.read_image_folder(tmp, SMOKE)


@case("datasets", "npz-missing")
def _npz_missing(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    return read_npz(tmp / "nothing.npz", TABULAR)


@case("datasets", "npz-lacks")
def _npz_lacks(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    np.savez(tmp / "wine.npz", **arrays(y_non_members=...))
    return read_npz(tmp / "wine.npz", TABULAR)


@case("datasets", "npz-unknown-arrays")
def _npz_unknown(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    np.savez(tmp / "wine.npz", **arrays(), classnames=np.array(["a", "b", "c"]))
    return read_npz(tmp / "wine.npz", TABULAR)


@case("datasets", "npz-unreadable")
def _npz_unreadable(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    (tmp / "wine.npz").write_bytes(b"not a zip")
    return read_npz(tmp / "wine.npz", TABULAR)


# user code: builders (train/models.py) and the paths that name them (spec/dotted.py)
def dense(width: int, softmax: bool = False, normalise: bool = False, compiled: bool = False) -> Any:
    import tensorflow as tf

    inputs = tf.keras.Input((4,))
    x = tf.keras.layers.Dense(8)(inputs)
    if normalise:
        x = tf.keras.layers.BatchNormalization()(x)
    built = tf.keras.Model(inputs, tf.keras.layers.Dense(width, activation="softmax" if softmax else None)(x))
    if compiled:
        built.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return built


def built(builder: Callable[..., Any], dp: DPSGD | None = None, outputs: str | None = None) -> Trigger:
    spec = ModelSpec("m", "M", builder=builder, dp=dp, outputs=outputs)
    profile = dataclasses.replace(TABULAR, models=(spec,))
    data = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)

    def build(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
        made = models.build(profile, spec)
        models.check_outputs(profile, spec, made, data)
        return made

    return build


def _raises(*args: Any, **kwargs: Any) -> Any:
    raise TypeError("missing argument 'width'")


for _name, _trigger in {
    "builder-raised": built(_raises),
    "builder-returned": built(lambda shape, classes: 3),
    "output-width": built(lambda shape, classes: dense(5)),
    "dp-compiled": built(lambda shape, classes: dense(3, compiled=True), dp=DP_2_LAYERS.dp),
    "dp-batch-normalisation": built(lambda shape, classes: dense(3, normalise=True), dp=DP_2_LAYERS.dp),
    "probabilities-as-logits": built(lambda shape, classes: dense(3, softmax=True)),
    "logits-as-probabilities": built(lambda shape, classes: dense(3), outputs="probabilities"),
}.items():
    case("models", _name)(_trigger)

for _name, _function in {
    "not-callable-object": 3,
    "spelling": "no_colon",
    "not-found": "no_such_module_anywhere:build",
    "attribute": "math:nothing",
    "not-callable-attribute": "math:pi",
}.items():
    case("dotted", _name)(lambda tmp, mp, f=_function: dotted.resolve(f, "profile 'wine', model 'mlp' (builder)"))


@case("dotted", "import-fails")
def _import_fails(tmp: Path, mp: pytest.MonkeyPatch) -> Any:
    (tmp / "broken_gate.py").write_text("raise RuntimeError('no credentials')\n")
    mp.syspath_prepend(str(tmp))
    mp.delitem(sys.modules, "broken_gate", raising=False)
    return dotted.resolve("broken_gate:build", "profile 'wine', dataset")


#: What validation raises; anything else from a trigger is a broken catalogue case.
EXPECTED = (ValueError, ProfileError, DatasetError, UserCodeError)


@pytest.fixture(scope="module")
def messages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """Each catalogue case's message, with its module: (module, message) by ``module:name``."""
    found = {}
    for module, name, trigger in CATALOGUE:
        with pytest.MonkeyPatch.context() as mp:
            try:
                trigger(tmp_path_factory.mktemp(name), mp)
            except EXPECTED as error:
                message = str(error)
            except Exception as error:  # shown by the case's test
                message = f"unexpected {type(error).__name__}: {error}"
            else:
                message = ""
        found[f"{module}:{name}"] = (module, message)
    return found


def last_clause(message: str) -> str:
    """What the message ends with: the text after its last ': ', '; ' or sentence break outside brackets."""
    depth, start = 0, 0
    for i, char in enumerate(message):
        depth += (char in "([{") - (char in ")]}")
        following = message[i + 1 : i + 3]
        if depth == 0 and (char in ":;" and following[:1] == " " or char == "." and following[:1] == " "
                           and following[1:2].isupper()):
            start = i + 2
    return message[start:]


@pytest.mark.parametrize("key", [f"{module}:{name}" for module, name, _ in CATALOGUE])
def test_every_message_ends_with_a_full_stop_after_an_instruction(messages, key):
    module, message = messages[key]
    assert message, f"{key} raised nothing"
    assert not message.startswith("unexpected "), message
    assert message.endswith(".") and not message.endswith(".."), message
    last_word = re.findall(r"[\w']+", message)[-1].lower()
    assert last_word not in _DANGLING, f"cut off: {message}"
    assert INSTRUCTION.search(last_clause(message)), f"no instruction at the end: {message}"
    assert "\n" not in message


def test_last_clause_skips_separators_inside_brackets():
    assert last_clause("x: set a = {'b': 4} (an even number; per attack).") == "set a = {'b': 4} (an even number; per attack)."
    assert last_clause("x (ValueError: bad). Fix it.") == "Fix it."


def test_catalogue_names_are_unique():
    keys = [f"{module}:{name}" for module, name, _ in CATALOGUE]
    assert len(keys) == len(set(keys))


# -- the guard: every message site of the validating modules is in the catalogue -----------

#: catalogue group -> (its modules' files in the package, functions to look in (None: all),
#: exceptions raised with a message, whether ``problems.append``/``found.append`` are message
#: sites, functions left out)
SITES: dict[str, tuple[tuple[str, ...], set[str] | None, set[str], bool, set[str]]] = {
    "profiles": (("spec/profile.py",), {"__post_init__", "_dp_problems"}, set(), True, set()),
    "specs": (("spec/vocabulary.py", "spec/sources.py", "spec/model_spec.py"),
              {"reference_model_problems", "tfds_source", "check_dataset", "problems", "check_dotted"},
              {"ValueError"}, True, set()),
    "metrics": (("spec/vocabulary.py",), {"check_fprs"}, set(), True, set()),
    # register: the registry's own words
    "project": (("spec/pyproject.py", "spec/pyproject_values.py", "plugin/declared.py"), None,
                {"KeyProblem", "ProfileError"}, False, {"register"}),
    "datasets": (("data/dataset.py", "data/load.py", "data/sources.py", "data/arrays.py", "data/validate.py"), None,
                 {"DatasetError"}, False, set()),
    "models": (("train/models.py",), None, {"UserCodeError"}, False, set()),
    "dotted": (("spec/dotted.py",), None, {"UserCodeError"}, False, set()),
}


def message_sites(module: str) -> dict[str, str]:
    """Each message site (``file:line``) and its longest literal text (empty where the text is all computed)."""
    files, functions, raised, appends, left_out = SITES[module]
    found: dict[str, str] = {}
    for file in files:
        tree = ast.parse((Path(privacy_checks.__file__).parent / file).read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name in left_out:
                continue
            if functions is not None and function.name not in functions:
                continue
            for node in ast.walk(function):
                call = None
                if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                        and getattr(node.exc.func, "id", None) in raised):
                    call = node.exc
                elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rejected":
                    call = node
                elif (appends and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr == "append" and getattr(node.func.value, "id", None) in ("problems", "found")):
                    call = node
                if call is not None:
                    texts = [c.value for arg in call.args for c in ast.walk(arg)
                             if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                    found[f"{file}:{call.lineno}"] = max(texts, key=len, default="")
    return found


@pytest.mark.parametrize("module", sorted(SITES))
def test_the_catalogue_covers_every_message_site(messages, module):
    texts = {message for owner, message in messages.values() if owner == module}
    sites = message_sites(module)
    assert sites, module
    assert len(texts) >= len(sites), f"{module}: {len(sites)} message sites, {len(texts)} catalogue messages"
    for site, literal in sites.items():
        literal = literal.strip(" :;,.")
        if len(literal) >= 12:  # a distinctive piece of the site's own words
            assert any(literal in text for text in texts), f"{site} ({literal!r}) is not in the catalogue"
