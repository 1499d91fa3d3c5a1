"""Model builders for tests/test_ray.py that fail only inside a Ray worker.

The pytest process builds every model once before training (a preflight), so
a builder that fails everywhere would never reach a worker. These fail only
in a process other than the one named by ``PRIVACY_CHECKS_TEST_DRIVER`` and
append a line to ``PRIVACY_CHECKS_TEST_ATTEMPTS`` per attempt, so that a
test can see a task was not run again.
"""

from __future__ import annotations

import os

from privacy_checks.train.models import codelab_cnn


def _in_worker() -> bool:
    if os.environ.get("PRIVACY_CHECKS_TEST_DRIVER") == str(os.getpid()):
        return False
    with open(os.environ["PRIVACY_CHECKS_TEST_ATTEMPTS"], "a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    return True


def raises_in_worker(input_shape, num_classes):
    if _in_worker():
        raise RuntimeError("the builder refused to run in a worker")
    return codelab_cnn(input_shape, num_classes, 2, padding="same")


def dies_in_worker(input_shape, num_classes):
    if _in_worker():
        os._exit(3)
    return codelab_cnn(input_shape, num_classes, 2, padding="same")
