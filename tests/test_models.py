"""The codelab's network and its DP-SGD variant."""

from __future__ import annotations

import pytest

from privacy_checks.profiles import DP_2_LAYERS


@pytest.mark.filterwarnings("ignore:non-integer arguments to randrange:DeprecationWarning")
def test_dp_model_trains_with_tf_privacys_optimizer_one_microbatch_per_example():
    from privacy_checks.models import small_cnn

    model = small_cnn((8, 8, 1), 10, 2, padding="same", dp=DP_2_LAYERS.dp, batch_size=50)
    optimizer = model.optimizer
    assert type(optimizer).__module__.startswith("tensorflow_privacy")
    assert (optimizer._l2_norm_clip, optimizer._noise_multiplier, optimizer._num_microbatches) == (1.0, 5.0, 50)
    assert model.loss.reduction == "none"  # per-example losses, or clipping is per batch
