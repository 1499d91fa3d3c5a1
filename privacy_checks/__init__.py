"""privacy_checks: a pytest plugin that fails CI when a Keras model leaks more about its training data.

It trains TF Privacy's privacy-report codelab models once per session, runs
membership inference attacks at chosen epochs and checks AUC and attacker
advantage against committed baselines. See README.md; the pytest glue is in
:mod:`privacy_checks.plugin`, everything else is usable without pytest.

The package is one folder per stage the data flows through (docs/how-it-works.md).
What a project writes in its conftest.py is importable from here::

    from privacy_checks import SMOKE, ModelSpec, register_profile
"""

#: Recorded with every baseline, like the packages that change the numbers: 0.2.0 judges
#: attacker advantage in the attack's direction and records a DP model's epsilon.
__version__ = "0.2.0"

# The vocabulary of a conftest.py: plain values, no TensorFlow or NumPy behind them.
from privacy_checks.spec.model_spec import DPSGD, ModelSpec, Tolerance  # noqa: E402
from privacy_checks.spec.profile import Profile  # noqa: E402
from privacy_checks.spec.registry import (  # noqa: E402
    CIFAR10,
    CIFAR10_QUICK,
    CIFAR10_QUICK_STRONG,
    DIGITS,
    DIGITS_STRONG,
    DP_2_LAYERS,
    SMOKE,
    get_profile,
    register_profile,
    unregister_profile,
)

__all__ = [
    "CIFAR10", "CIFAR10_QUICK", "CIFAR10_QUICK_STRONG", "DIGITS", "DIGITS_STRONG", "DPSGD", "DP_2_LAYERS",
    "ModelSpec", "Profile", "SMOKE", "Tolerance", "get_profile", "register_profile", "unregister_profile",
]
