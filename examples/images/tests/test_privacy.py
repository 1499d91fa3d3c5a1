def test_membership_inference(privacy_case, privacy_check):
    privacy_check(privacy_case)
