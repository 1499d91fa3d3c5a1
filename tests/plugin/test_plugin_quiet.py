"""A project's run shows no start-up warnings of TensorFlow's stack (:mod:`privacy_checks.train.quiet`).

The warnings fire once per process, when TensorFlow and TF Privacy are first
imported. In this test process they are imported already, and an in-process
pytester run would never see them: the run goes to a subprocess, where
TensorFlow starts as on a user's machine.
"""

from __future__ import annotations

import re
import warnings

import pytest

from privacy_checks.train import quiet
from privacy_pytester import CASES, SUITE, run

#: A smoke run in a new process: TensorFlow's import, two short trainings, worker processes.
TIMEOUT = 300


@pytest.mark.study  # end to end, about 9 s on the current lane: run by .ci/run (pytest -m study)
def test_a_projects_run_has_no_warnings_summary_even_with_deprecations_as_errors(pytester):
    pytester.makeini("[pytest]\nprivacy_profile = smoke\n")  # no filterwarnings, as in a new project
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(
        "-m", "privacy", "-p", "no:cacheprovider", "--privacy-update-baselines",
        "-W", "error::DeprecationWarning", "-W", "error::FutureWarning",
        timeout=TIMEOUT,
    )
    output = result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=CASES)
    assert "warnings summary" not in output, output[-4000:]
    for hidden in quiet.HIDDEN:
        assert not re.search(hidden.message, output), hidden


#: The warnings as they were raised (text, category, the module they are attributed to).
SEEN = [
    (
        "You are using a Python version (3.11.7) which Google will stop supporting in new releases of "
        "google.api_core once it reaches its end of life (2027-10-24). Please upgrade to the latest Python "
        "version, or at least Python 3.12, to continue receiving updates for google.api_core past that date.",
        FutureWarning, "google.api_core._python_version_support",
    ),
    # The same check's wordings after Python 3.11's end of life, and later.
    ("You are using a Python version (3.11.7) past its end of life. Google will update google.api_core ...",
     FutureWarning, "google.api_core._python_version_support"),
    ("You are using a non-supported Python version (3.11.7). Google will not post any further updates ...",
     FutureWarning, "google.api_core._python_version_support"),
    ("The distutils package is deprecated and slated for removal in Python 3.12. Use setuptools or check "
     "PEP 632 for potential alternatives", DeprecationWarning, "tensorflow"),
    ("distutils Version classes are deprecated. Use packaging.version instead.",
     DeprecationWarning, "tensorflow_probability.python"),
]


@pytest.mark.parametrize("text, category, module", SEEN, ids=lambda value: str(value)[:30])
def test_quiet_imports_hides_exactly_these_warnings(text, category, module):
    def warn(text=text, category=category, module=module):
        warnings.warn_explicit(text, category, "x.py", 1, module=module, registry={})

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # what -W error::... does
        with quiet.quiet_imports():
            warn()  # hidden
            with pytest.raises(category):
                warn(module="team.model")  # the same text from a project's module
            with pytest.raises(category):
                warn(text="something else", module=module)  # another warning of that library
            with pytest.raises(UserWarning):
                warn(category=UserWarning)  # another category
        with pytest.raises(category):
            warn()  # outside the block



def test_keras_seeding_hides_only_keras_randrange_deprecation_and_only_in_the_block():
    # What Python 3.10 and 3.11 say when Keras 2.15 calls random.randint(1, 1e9).
    randrange = "non-integer arguments to randrange() have been deprecated since Python 3.10"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with quiet.keras_seeding():
            warnings.warn(randrange, DeprecationWarning)  # hidden
            with pytest.raises(DeprecationWarning):
                warnings.warn("another deprecation", DeprecationWarning)
            with pytest.raises(FutureWarning):
                warnings.warn(randrange, FutureWarning)  # another category
        with pytest.raises(DeprecationWarning, match="randrange"):
            warnings.warn(randrange, DeprecationWarning)  # outside the block

AUTOGRAPH_WARNING = '''
import warnings

def test_traces():
    # What gast (TensorFlow's autograph) raises on Python 3.13 for every function it converts.
    warnings.warn_explicit("Call.__init__ got an unexpected keyword argument '___pyct_anno'. Support for "
                           "arbitrary keyword arguments is deprecated and will be removed in Python 3.15.",
                           DeprecationWarning, "astn.py", 23, module="{module}")
'''


@pytest.mark.parametrize(("module", "shown"), [("gast.astn", False), ("team.model", True)])
def test_python_313s_autograph_warning_is_left_out_of_the_summary_and_nothing_else(project, module, shown):
    project.makepyfile(test_traces=AUTOGRAPH_WARNING.replace("{module}", module))
    result = run(project, "test_traces.py")
    result.assert_outcomes(passed=1)
    assert ("warnings summary" in result.stdout.str()) == shown, "\n".join(result.stdout.lines[-14:])
    assert ("___pyct_anno" in result.stdout.str()) == shown
