"""The profiles a run can select by name: the built-in ones, and those a project registers or declares.

The built-in profiles (``digits``, the default; ``cifar10`` and ``cifar10-quick``, the codelab's
data; ``smoke``; the ``-strong`` audits) are defined here. A project adds its own with
:func:`register_profile` from a conftest.py, or declares them in its pyproject.toml or a
``pytest_privacy_profiles`` hook (:mod:`privacy_checks.plugin.declared`); each name remembers
where it was defined (:class:`Origin`), so that two definitions of one name are an error that
names both places.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re

from privacy_checks.spec.files import display_path
from privacy_checks.spec.model_spec import DPSGD, ModelSpec, Tolerance
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import REFERENCE_ATTACKS


def _tutorial_models() -> tuple[ModelSpec, ...]:
    return (ModelSpec("2_layers", "2 Layers", 2), ModelSpec("3_layers", "3 Layers", 3))


#: The codelab's suggestion ("train one model with DPKerasAdamOptimizer so that
#: you can compare the results"): the 2-layer model with DP-SGD. Noise 5 x clip
#: on 200 members in batches of 50 gives epsilon of about 1.4 after 10 epochs
#: and 7.2 after 200 (delta 1e-5); lr 1e-2 instead of 1e-3 because the noisy
#: model barely learns at the smaller step.
DP_2_LAYERS = ModelSpec(
    "dp_2_layers",
    "2 Layers DP",
    2,
    dp=DPSGD(l2_norm_clip=1.0, noise_multiplier=5.0, learning_rate=1e-2),
    compare_to="2_layers",
)


DIGITS = Profile(
    name="digits",
    description=(
        "scikit-learn's 8x8 digits: 200 stratified members, the other 1,597 "
        "images as non-members, trained for 200 epochs: the 2- and 3-layer models, "
        "and the 2-layer one with DP-SGD; the codelab's attacks and RMIA with two "
        "reference models per model. About two minutes on 2 cores; the member "
        "set is small enough to overfit, so leakage visibly grows."
    ),
    dataset="digits",
    num_classes=10,
    input_shape=(8, 8, 1),
    members=200,
    models=(*_tutorial_models(), DP_2_LAYERS),
    epochs=200,
    report_epochs=(10, 25, 50, 100, 150, 200),
    batch_size=50,
    learning_rate=1e-3,
    padding="same",
    attacks=("threshold", "logistic_regression", "rmia"),
    # RMIA's point: a few references suffice. Two (one pair) cost two trainings per
    # model, and every example is judged against one reference that did not train on it.
    reference_models={"rmia": 2},
    by_class=True,
    seed=1234,
    # Used where a baseline has no calibrated spread (docs/metrics-and-tolerances.md):
    # a class slice has only 20 members, so its attacks are much noisier.
    tolerance=Tolerance(auc=0.03, attacker_advantage=0.05, tpr=0.05),
    class_tolerance=Tolerance(auc=0.10, attacker_advantage=0.15, tpr=0.25),
    # Ten, not the default five: a spread from five seeds was up to 1.6 times too small for the
    # 3-layer model, and Student's quantile for its few degrees of freedom costs power (docs/
    # detection-power.md: 0 alarms in 50 harmless runs, detectable AUC rises of 0.05-0.10).
    calibration_seeds=10,
)

CIFAR10 = Profile(
    name="cifar10",
    description=(
        "TF Privacy's privacy report codelab exactly: tfds cifar10, 50 epochs, "
        "a report every 2 epochs, batch 50, Adam lr 1e-3."
    ),
    dataset="cifar10",
    num_classes=10,
    input_shape=(32, 32, 3),
    members=None,
    models=_tutorial_models(),
    epochs=50,
    report_epochs=tuple(range(2, 51, 2)),
    batch_size=50,
    learning_rate=1e-3,
    padding="valid",
    attacks=("threshold", "logistic_regression"),
    by_class=True,
    seed=1234,
    tolerance=Tolerance(auc=0.02, attacker_advantage=0.04, tpr=0.02),
    class_tolerance=Tolerance(auc=0.04, attacker_advantage=0.06, tpr=0.05),
    # Calibrating costs a full CIFAR-10 training per seed and model (hours for the
    # codelab's 50 epochs): recorded uncalibrated unless --privacy-calibrate=N asks.
    calibration_seeds=0,
)

CIFAR10_QUICK = dataclasses.replace(
    CIFAR10,
    name="cifar10-quick",
    description=(
        "The codelab on real CIFAR-10, cut to minutes for CI: a stratified "
        "10,000-image member set, the 10,000 test images as non-members, 10 epochs, "
        "a report every 2."
    ),
    members=10_000,
    epochs=10,
    report_epochs=(2, 4, 6, 8, 10),
)

SMOKE = dataclasses.replace(
    DIGITS,
    name="smoke",
    description=(
        "A few seconds of plumbing: digits, 100 members, 3 epochs, entire-dataset "
        "slice only. Exercises every part of the suite; its numbers mean little."
    ),
    members=100,
    models=_tutorial_models(),
    attacks=("threshold", "logistic_regression"),
    reference_models={},
    epochs=3,
    report_epochs=(1, 3),
    by_class=False,
    # The plugin's own tests record it many times; the ones about calibration ask for it.
    calibration_seeds=0,
)

#: The attacks of the audit profiles: the codelab's two, and the three reference-model attacks.
_STRONG_ATTACKS = ("threshold", "logistic_regression", "lira_offline", "lira_online", "rmia")

DIGITS_STRONG = dataclasses.replace(
    DIGITS,
    name="digits-strong",
    description=(
        "An audit of the default profile's models with the strongest attacks: offline and "
        "online LiRA and RMIA with 16 reference models per model (48 more trainings, "
        "about 10 minutes on 2 cores)."
    ),
    attacks=_STRONG_ATTACKS,
    reference_models={attack: 16 for attack in REFERENCE_ATTACKS},
)

CIFAR10_QUICK_STRONG = dataclasses.replace(
    CIFAR10_QUICK,
    name="cifar10-quick-strong",
    description=(
        "cifar10-quick audited with offline and online LiRA and RMIA, 16 reference models "
        "per model, each trained on a random half of the 20,000 images (32 more trainings, "
        "about 15 minutes on 2 cores)."
    ),
    attacks=_STRONG_ATTACKS,
    reference_models={attack: 16 for attack in REFERENCE_ATTACKS},
)

PROFILES: dict[str, Profile] = {
    p.name: p for p in (DIGITS, CIFAR10, CIFAR10_QUICK, SMOKE, DIGITS_STRONG, CIFAR10_QUICK_STRONG)
}
DEFAULT_PROFILE = DIGITS.name


_BUILT_IN = frozenset(PROFILES)


def is_built_in(name: str) -> bool:
    """Whether ``name`` is one of the profiles that ship with the plugin."""
    return name in _BUILT_IN


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a registered profile was defined: named in messages, and used to tell leftovers apart.

    A *declared* profile comes from a pyproject.toml table or a
    ``pytest_privacy_profiles`` hook: the plugin registers it for one pytest
    run and forgets it when the run ends, and no other definition may share
    its name (two places defining one name leave the reader guessing which
    one is measured).
    """

    #: As messages show it: ``conftest.py:12``, ``pyproject.toml [tool.privacy_checks.profiles.wine]``.
    where: str
    #: The defining file's absolute path, when known: a definition whose file belongs
    #: to no module loaded now and lies outside the rootdir is a leftover of an
    #: earlier in-process pytest run (pytester).
    file: str | None = None
    declared: bool = False

    def __str__(self) -> str:
        return self.where


#: Each registered name's profile and where it was defined. Kept beside
#: :data:`PROFILES` (which tests may replace or restore) and trusted only while
#: it describes the very profile registered under the name.
_ORIGINS: dict[str, tuple[Profile, Origin]] = {
    name: (profile, Origin("privacy_checks' built-in profiles", os.path.abspath(__file__)))
    for name, profile in PROFILES.items()
}

#: The pyproject.toml of the pytest run in progress (set by the plugin), so that an
#: unknown profile's message can say where the project could declare it.
_PROJECT_FILE: str | None = None


def origin_of(name: str) -> Origin | None:
    """Where the profile registered as ``name`` was defined; None if none is, or nobody said."""
    profile, origin = _ORIGINS.get(name, (None, None))
    return origin if profile is not None and PROFILES.get(name) is profile else None


def _caller_origin() -> Origin:
    """The ``file:line`` that called :func:`register_profile`."""
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame is not None and frame.f_back is not None else None
    if caller is None:
        return Origin("an unknown place")
    file = os.path.abspath(caller.f_code.co_filename)
    return Origin(f"{display_path(file)}:{caller.f_lineno}", file)


def _defined_twice(name: str, before: Origin | None, after: Origin) -> str:
    hint = (
        "built-in profiles cannot be redefined; give yours another name"
        if name in _BUILT_IN
        else "define it in one place only, or give one of them another name"
    )
    return f"profile {name!r} is defined twice: in {before or 'an unknown place'} and in {after}; {hint}"


def register_profile(profile: Profile, replace: bool = False, *, origin: Origin | str | None = None) -> Profile:
    """Makes a project's own profile selectable by name; call it from a ``conftest.py``.

    A name may be registered again with an identical profile (conftest files
    can be imported more than once), or with a changed one when ``replace`` is
    true: a project that edits its study in place (the change its baselines
    then judge). Built-in names cannot be redefined.

    ``origin`` says where the profile is defined (default: the caller's
    ``file:line``). A name a pyproject.toml table or a ``pytest_privacy_profiles``
    hook declares belongs to that declaration: defining it anywhere else too
    is an error that names both places, whichever comes first.
    """
    if not isinstance(origin, Origin):
        origin = _caller_origin() if origin is None else Origin(origin)
    known = PROFILES.get(profile.name)
    before = origin_of(profile.name) if known is not None else None
    if known is not None and (origin.declared or (before is not None and before.declared)) and before != origin:
        raise ValueError(_defined_twice(profile.name, before, origin))
    if known is not None and known != profile and (not replace or profile.name in _BUILT_IN):
        hint = (
            "built-in profiles cannot be redefined; give yours another name"
            if profile.name in _BUILT_IN
            else "pass replace=True to redefine it, or give yours another name"
        )
        raise ValueError(f"a different profile named {profile.name!r} is already registered; {hint}")
    PROFILES[profile.name] = profile
    _ORIGINS[profile.name] = (profile, origin)
    return profile


def unregister_profile(profile: Profile) -> None:
    """Forgets ``profile`` if it is the one registered under its name (built-ins stay).

    The plugin forgets what one pytest run declared when the run ends, and
    what an earlier in-process run (pytester) left behind, so that one
    process can host many runs of many projects.
    """
    if profile.name in _BUILT_IN:
        raise ValueError(f"built-in profile {profile.name!r} cannot be unregistered")
    if PROFILES.get(profile.name) is profile:
        del PROFILES[profile.name]
        _ORIGINS.pop(profile.name, None)


def set_project_file(path: str | None) -> str | None:
    """Tells :func:`get_profile` the running project's pyproject.toml (None: none); returns the previous one."""
    global _PROJECT_FILE
    previous, _PROJECT_FILE = _PROJECT_FILE, path
    return previous


def get_profile(name: str) -> Profile:
    """The named profile, or a ``KeyError`` that lists the valid names (and where to declare another)."""
    try:
        return PROFILES[name]
    except KeyError:
        hint = ""
        if _PROJECT_FILE is not None:
            key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)
            hint = (
                f". {display_path(_PROJECT_FILE)} declares no [tool.privacy_checks.profiles.{key}]: "
                "declare it there (docs/your-own-model.md), or register it from a conftest.py "
                "with privacy_checks.register_profile"
            )
        raise KeyError(
            f"unknown privacy profile {name!r}; choose one of: {', '.join(sorted(PROFILES))}{hint}"
        ) from None
