"""Helpers for tests that run the plugin through pytester (fixtures are in conftest.py)."""

from __future__ import annotations

import pytest

from privacy_checks.spec.cases import cases
from privacy_checks.spec.registry import SMOKE

CASES = len(cases(SMOKE))  # smoke: 2 models x 2 report epochs x 2 attacks x entire dataset
SUITE = """
def test_membership_inference(privacy_case, privacy_check):
    privacy_check(privacy_case)
"""


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Runs pytest in the project without the cache provider (so nothing is reused)."""
    # The outer session imported the plugin already, so the inner one cannot rewrite it.
    return project.runpytest(
        "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", *args
    )
