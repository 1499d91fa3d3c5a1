"""Which lane the tests run on, and the marks of the tests that belong to one lane only."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_checks.judge import baselines
from privacy_checks.train import lane

#: TF Privacy (the codelab lane): tests that compare with it or use its optimizer.
codelab_only = pytest.mark.skipif(
    lane.lane() != lane.CODELAB, reason="the codelab lane's TF Privacy is not installed on the current lane"
)
#: Keras 2's internals (``keras.src.engine``): tests of what only runs there.
keras_2_only = pytest.mark.skipif(not lane.keras_2(), reason="Keras 2 internals; this is Keras 3")


def baselines_of(profile: str) -> str:
    """The folder (relative, with ``/``) this lane's baselines of ``profile`` are written to.

    The codelab lane keeps ``baselines/<profile>``; the current lane writes to
    ``baselines/<profile>/current`` (:func:`privacy_checks.judge.baselines.baseline_folder`).
    Tests that name a baseline file take it from here, so they hold on both lanes.
    """
    return baselines.baseline_folder(Path("baselines"), profile, lane.lane()).as_posix()
