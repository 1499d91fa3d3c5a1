"""TensorFlow and TF Privacy imported without their start-up warnings.

Importing the codelab lane's stack warns on every run about code inside
TensorFlow's and TF Privacy's own dependencies. Under pytest each warning
landed in the "warnings summary" of every user's run (and failed runs with
``-W error::FutureWarning`` or ``-W error::DeprecationWarning``), so every
project had to copy ``filterwarnings`` lines for them. A project can change
none of them: they come from versions the pins fix (TensorFlow 2.15.1, TF
Privacy 0.8.12) and from a Python version those pins require.

They are hidden here, where this package imports that stack: the runner
calls :func:`import_stack` before the first data set, training or attack
(:class:`privacy_checks.run.runner.Runner`), so that every later
``import tensorflow`` in the package, and in a project's builder or data
function, finds the modules loaded. Only the warnings in :data:`HIDDEN` are
hidden, matched by message, category and the module that raises them, and
only during that import: any other warning, and these same ones raised
anywhere else, still show.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
import warnings
from typing import Iterator


@dataclasses.dataclass(frozen=True)
class Hidden:
    """One start-up warning hidden by :func:`quiet_imports`."""

    #: A regular expression matched against the start of the warning's text.
    message: str
    category: type[Warning]
    #: A regular expression matched against the start of the module the warning is attributed to.
    module: str
    #: The import that raises it, as seen on TensorFlow 2.15.1, TF Privacy 0.8.12, Python 3.11.
    raised_by: str
    #: Why a project cannot act on it.
    why: str


HIDDEN: tuple[Hidden, ...] = (
    Hidden(
        # Three wordings, by date: "... Python version (3.11.7) which Google will stop
        # supporting ...", "... Python version (3.10.x) past its end of life ...", and
        # "You are using a non-supported Python version ...".
        message=r"You are using a (non-supported )?Python version",
        category=FutureWarning,
        module=r"google\.api_core\.",
        raised_by=(
            "import tensorflow -> tensorflow.python.distribute.cluster_resolver.gce_cluster_resolver "
            "-> googleapiclient.discovery -> google.api_core (google-api-core, installed for "
            "tf-models-official, which TF Privacy requires)"
        ),
        why=(
            "google-api-core announces when it will stop supporting the running Python; the "
            "codelab lane must run Python 3.10 or 3.11 (TF Privacy 0.8.12 does not install on "
            "3.12), so its advice to upgrade cannot be followed"
        ),
    ),
    Hidden(
        message=r"The distutils package is deprecated and slated for removal",
        category=DeprecationWarning,
        module=r"tensorflow\Z",
        raised_by=(
            "import tensorflow (tensorflow/__init__.py: import distutils), where the standard "
            "library's distutils is imported: setuptools' distutils-precedence.pth not processed "
            "(SETUPTOOLS_USE_DISTUTILS=stdlib, or site-packages reached through a .pth line)"
        ),
        why="TensorFlow 2.15.1's __init__ imports distutils; the pins fix that TensorFlow",
    ),
    Hidden(
        message=r"distutils Version classes are deprecated",
        category=DeprecationWarning,
        module=r"tensorflow_probability\.",
        raised_by=(
            "import tensorflow_privacy -> tensorflow_privacy.privacy.dp_query.discrete_gaussian_utils "
            "-> tensorflow_probability (its TensorFlow version check, "
            "distutils.version.LooseVersion, raised twice)"
        ),
        why=(
            "TF Privacy 0.8.12 pins tensorflow-probability ~=0.22.0, whose import checks "
            "TensorFlow's version with distutils; a project cannot pick another release"
        ),
    ),
)


@contextlib.contextmanager
def quiet_imports() -> Iterator[None]:
    """Hides the warnings of :data:`HIDDEN` for the block (and nothing else).

    For imports only: like :func:`warnings.catch_warnings`, it changes the
    process's warning filters while the block runs.
    """
    with warnings.catch_warnings():
        for hidden in HIDDEN:
            warnings.filterwarnings("ignore", hidden.message, hidden.category, hidden.module)
        yield


@contextlib.contextmanager
def keras_seeding() -> Iterator[None]:
    """Hides, for the block, the one warning Keras raises while it seeds and trains.

    Keras 2.15 calls ``random.randint(1, 1e9)`` (a float bound: deprecated since Python 3.10)
    when it seeds, builds and fits; a project can change neither. Every place that seeds or
    trains a model (:mod:`privacy_checks.train.fit`, :mod:`privacy_checks.run.dp_step`) uses
    this one filter, matched by message and category only for the block.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "non-integer arguments to randrange", DeprecationWarning)
        yield


#: What :func:`import_stack` imports: TensorFlow, and on the codelab lane TF Privacy, whose
#: ``__init__`` imports TensorFlow Probability (its DP optimizer trains the DP models there).
STACK = ("tensorflow", "tensorflow_privacy")


def import_stack() -> None:
    """Imports TensorFlow and TF Privacy once, inside :func:`quiet_imports`.

    Importing TensorFlow does not start it: its thread pools can still be set
    afterwards (:func:`privacy_checks.train.fit.configure_threads`).
    """
    from privacy_checks.train import lane

    stack = STACK if lane.lane() == lane.CODELAB else STACK[:1]
    missing = [name for name in stack if name not in sys.modules]
    if not missing:
        return
    with quiet_imports():
        for name in missing:
            importlib.import_module(name)


#: What TensorFlow's autograph makes Python 3.13 say each time it converts a function (every
#: ``tf.function`` Keras traces to train or predict): gast builds AST nodes with an extra
#: keyword, which Python 3.13 deprecates. Hundreds of lines in every run's warnings summary that
#: a project can do nothing about; the plugin adds this filter to pytest's ``filterwarnings``
#: (:func:`privacy_checks.plugin.pytest_configure`). A ``-W error::DeprecationWarning`` on the
#: command line still outranks it (pytest applies command-line filters last).
TRACING_FILTER = "ignore:.*got an unexpected keyword argument '___pyct_anno':DeprecationWarning:gast"
