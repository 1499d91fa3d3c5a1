"""Which lane the tests run on, and the marks of the tests that belong to one lane only."""

from __future__ import annotations

import pytest

from privacy_checks.train import lane

#: TF Privacy (the codelab lane): tests that compare with it or use its optimizer.
codelab_only = pytest.mark.skipif(
    lane.lane() != lane.CODELAB, reason="the codelab lane's TF Privacy is not installed on the current lane"
)
#: Keras 2's internals (``keras.src.engine``): tests of what only runs there.
keras_2_only = pytest.mark.skipif(not lane.keras_2(), reason="Keras 2 internals; this is Keras 3")
