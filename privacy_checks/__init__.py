"""privacy_checks: a pytest plugin that fails CI when a Keras model leaks more about its training data.

It trains TF Privacy's privacy-report codelab models once per session, runs
membership inference attacks at chosen epochs and checks AUC and attacker
advantage against committed baselines. See README.md; the pytest glue is in
:mod:`privacy_checks.plugin`, everything else is usable without pytest.
"""

#: Recorded with every baseline, like the packages that change the numbers: 0.2.0 judges
#: attacker advantage in the attack's direction and records a DP model's epsilon.
__version__ = "0.2.0"
