"""privacy_checks: a pytest plugin that fails CI when a Keras model leaks more about its training data.

It trains TF Privacy's privacy-report codelab models once per session, runs
membership inference attacks at chosen epochs and checks AUC and attacker
advantage against committed baselines. See README.md; the pytest glue is in
:mod:`privacy_checks.plugin`, everything else is usable without pytest.
"""

__version__ = "0.1.0"
