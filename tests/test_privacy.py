"""The privacy regression suite: one check per (model, report epoch, attack, slice).

The plugin parametrizes ``privacy_case`` from the active profile
(``--privacy-profile``, default ``digits``) and marks each item ``privacy``.
"""


def test_membership_inference_within_baseline(privacy_case, privacy_check):
    privacy_check(privacy_case)
