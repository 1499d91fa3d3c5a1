"""Loads the privacy_checks pytest plugin for this repository.

Installing the package registers the plugin with pytest already (entry point
``pytest11``); this line keeps it loaded where the package is only on the path.
"""

pytest_plugins = ["privacy_checks.plugin"]
