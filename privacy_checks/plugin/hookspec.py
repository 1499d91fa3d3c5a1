"""Hooks a project implements (in a ``conftest.py`` or a plugin) to extend privacy_checks.

pytest-benchmark's habit: the specifications live in this one module, each
saying what it is for, and the plugin adds them in ``pytest_addhooks``.

Prefer plain values where they suffice: a profile in pyproject.toml, a builder
named ``"package.module:function"``, a data source such as ``npz:data.npz`` or
``function:pkg.data:load``. They are visible in review, hashed into the
profile's fingerprint and understood by the cache. A hook is for what such a
path cannot express: a model or data set that depends on command-line options,
on the ``config`` object, or on state a session sets up (credentials, a
download, a fixture's temporary directory); profiles computed in code (a grid
of widths, one profile per data shard).

The cache cannot see what a hook depends on: it keys a result on the hook
implementation's module *file* (its text), not on the options, files or
services the implementation reads. When those change, give the model a
``version`` (``ModelSpec.version``, ``version = "2"`` in pyproject.toml) or run
with ``--privacy-no-cache``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

import pytest

if TYPE_CHECKING:
    import tensorflow as tf

    from privacy_checks.spec.model_spec import ModelSpec
    from privacy_checks.spec.profile import Profile


def pytest_privacy_profiles(config: pytest.Config) -> Iterable[Profile] | None:
    """Profiles to register for this run, computed in code; None or an empty iterable for none.

    Called once per run from the plugin's ``pytest_configure``, after the
    pyproject.toml's profiles are registered (so an implementation may derive
    its profiles from them with ``get_profile``) and before ``--privacy-profile``
    is resolved. The profiles are forgotten when the run ends.

    Use it instead of ``register_profile`` in a conftest.py when a profile
    depends on ``config`` (an option of your own, the rootdir). A name may be
    defined in one place only: a name that a pyproject.toml table, another
    implementation, a ``register_profile`` call or a built-in profile also
    defines is a usage error naming both places (this one as the
    implementation's ``file:line``).

    Example::

        def pytest_privacy_profiles(config):
            width = int(config.getoption("--width"))
            return [dataclasses.replace(get_profile("wine"), name=f"wine-{width}", ...)]
    """


@pytest.hookspec(firstresult=True)
def pytest_privacy_build_model(
    config: pytest.Config,
    profile: Profile,
    model: ModelSpec,
    input_shape: tuple[int, ...],
    num_classes: int,
) -> tf.keras.Model | None:
    """A ``tf.keras.Model`` for the ModelSpec ``model`` of ``profile``, or None to use its builder.

    The first implementation that returns a model wins. The model is trained
    like a builder's: compiled by you, or else by the suite with the profile's
    Adam learning rate (DP-SGD when ``model.dp`` is set). It must map inputs
    of ``input_shape`` (without the batch axis) to ``num_classes`` outputs, of
    the kind ``model.outputs`` says (logits unless ``"probabilities"``).

    Use it rather than a ``builder`` path when the model depends on the run:
    a command-line option, weights a session fixture downloads, a model
    registry. Return None for the models you do not handle (check
    ``model.name``), so that the others keep their builders. It is called
    twice per trained model, like a builder: once to check the model before
    any training starts, once for the training itself; return a fresh model
    each time.

    Training results are cached by the profile, the model spec and this
    implementation's module file; what else the model depends on (a weights
    file, an option's value) is invisible to the cache: put it into
    ``model.version`` or run with ``--privacy-no-cache``.
    """


@pytest.hookspec(firstresult=True)
def pytest_privacy_load_data(
    config: pytest.Config, profile: Profile, data_dir: str | None
) -> Mapping[str, Any] | None:
    """Members and non-members for ``profile``, or None to load its ``dataset``.

    Return a mapping with NumPy arrays ``x_members``, ``y_members`` (the
    training set), ``x_non_members``, ``y_non_members`` (held out, never
    trained on), and optionally ``class_names``. Inputs have the profile's
    ``input_shape`` after the batch axis; labels are integers in
    ``0..num_classes-1``. ``data_dir`` is ``--privacy-data-dir`` (None when
    unset). The first implementation that returns data wins.

    Use it rather than a ``function:`` data source when loading depends on
    the run: credentials, a command-line option, a path a session fixture
    prepared. As with models, the cache sees only this implementation's
    module file, not the data it reads: change the profile's ``dataset`` or
    a model's ``version`` when the data changes, or run with
    ``--privacy-no-cache``.
    """
