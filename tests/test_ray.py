"""Ray as the executor: the same numbers as this process, errors as the task's, nothing retried.

Runs a local Ray with this machine's cores (2 in CI), started once for the
module. Skipped where Ray is not installed; the README's install command
installs it (the ``ray`` extra), so CI runs these.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re

import numpy as np
import pytest

from privacy_checks.judge.session import PrivacyRun
from privacy_checks.run import cache, executors, ray_tasks
from privacy_checks.run.plan import Training
from privacy_checks.run.runner import Runner
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.spec import cases
from privacy_checks.spec.model_spec import ModelSpec
from privacy_checks.spec.registry import SMOKE

# Not imported at collection: `pytest -m privacy` collects this module too.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (the ray extra)")

#: One model, the codelab's attacks and RMIA on two references: trainings of both kinds.
PROFILE = dataclasses.replace(
    SMOKE, models=SMOKE.models[:1], attacks=("threshold", "rmia"), reference_models={"rmia": 2}
)


@pytest.fixture(scope="module")
def ray_executor(tmp_path_factory):
    attempts = tmp_path_factory.mktemp("attempts") / "attempts.txt"
    attempts.touch()
    # Set before Ray starts: its workers inherit the environment.
    os.environ["PRIVACY_CHECKS_TEST_DRIVER"] = str(os.getpid())
    os.environ["PRIVACY_CHECKS_TEST_ATTEMPTS"] = str(attempts)
    tasks = ray_tasks.RayTasks()
    yield tasks
    tasks.close()
    for name in ("PRIVACY_CHECKS_TEST_DRIVER", "PRIVACY_CHECKS_TEST_ATTEMPTS"):
        os.environ.pop(name, None)


def _raise(message: str) -> None:
    raise ValueError(message)


def test_a_task_error_is_the_tasks_own(ray_executor):
    future = ray_executor.submit(_raise, "bad input in the task")
    with pytest.raises(ValueError, match="^bad input in the task$"):
        future.result()
    assert ray_executor.submit(int, "7").result().value == 7


@pytest.mark.study  # six trainings, three of them in a Ray worker (about 20 s): run by .ci/run
def test_trainings_and_attacks_as_ray_tasks_give_the_numbers_of_this_process(tmp_path, ray_executor):
    here = Runner(Settings(PROFILE, tmp_path, tmp_path), {}, executor=executors.InProcess())
    there = Runner(Settings(PROFILE, tmp_path, tmp_path, cache_dir=tmp_path / "cache"), {}, executor=ray_executor)
    for epoch in PROFILE.report_epochs:
        assert there.evaluation("2_layers", epoch).records == here.evaluation("2_layers", epoch).records
        assert there.reference_evaluation("2_layers", epoch).records == here.reference_evaluation("2_layers", epoch).records
        mine, theirs = here.training("2_layers").at(epoch), there.training("2_layers").at(epoch)
        assert np.array_equal(mine.logits_members, theirs.logits_members)
    # Results gathered from Ray landed in this machine's cache: a rerun here is warm.
    warm = Runner(Settings(PROFILE, tmp_path, tmp_path, cache_dir=tmp_path / "cache"), {})
    warm.reference_evaluation("2_layers", PROFILE.report_epochs[-1])
    assert warm.cache_hits["trainings"] == 1 and warm.cache_hits["reference models"] == 2


def _failing(builder: str) -> "dataclasses.replace":
    spec = ModelSpec("2_layers", "Two conv layers", builder=f"ray_builders:{builder}")
    return dataclasses.replace(PROFILE, models=(spec,), attacks=("threshold",), reference_models={})


@pytest.mark.parametrize(
    "builder, error",
    [
        ("raises_in_worker", "training 2_layers failed: .*RuntimeError: the builder refused to run in a worker"),
        ("dies_in_worker", "training 2_layers failed: the Ray worker running the task died"),
    ],
)
def test_a_failed_training_task_fails_its_checks_once_and_leaves_no_cache_entry(tmp_path, ray_executor, builder, error):
    attempts = os.environ["PRIVACY_CHECKS_TEST_ATTEMPTS"]
    before = open(attempts).read().count("\n")
    profile = _failing(builder)
    settings = Settings(profile, tmp_path / "b", tmp_path / "r", cache_dir=tmp_path / "cache")
    privacy = PrivacyRun(settings, executor=ray_executor)
    case = cases.cases(profile)[0]
    for _ in range(2):  # remembered: the second check reports it (by reference) without a new task
        with pytest.raises(CheckFailed) as failed:
            privacy.check(case)
        assert re.search(error, failed.value.root), failed.value.root
    assert open(attempts).read().count("\n") - before == 1, "the task ran once: no silent retry"
    assert not cache.exists(tmp_path / "cache", privacy.runner.training_name(Training("2_layers", profile.seed)))


def _role() -> tuple[str | None, int]:
    return os.environ.get("PRIVACY_CHECKS_WORKER"), os.getpid()


def test_attack_workers_run_without_tensorflow_and_never_train(ray_executor):
    from test_executors import _attack_code_imports_tensorflow

    assert ray_executor.submit(_attack_code_imports_tensorflow).result().value is False
    attack = {ray_executor.submit(_role).result().value for _ in range(3)}
    training = {ray_executor.submit(_role, cpus=2, training=True).result().value for _ in range(3)}
    assert {role for role, _ in attack} == {"attacks"} and {role for role, _ in training} == {"training"}
    assert not {pid for _, pid in attack} & {pid for _, pid in training}, "separate worker pools"
