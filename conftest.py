"""Loads the privacy_checks pytest plugin for this repository's own test suite."""

pytest_plugins = ["privacy_checks.plugin"]
