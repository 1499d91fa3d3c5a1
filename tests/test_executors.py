"""Executors: where a task runs changes nothing in what it returns; a dead worker is an error, once."""

from __future__ import annotations

import os
import sys
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from privacy_checks.attack import codelab, records
from privacy_checks.run import executors

from test_attacks import PROFILE, leaky_snapshot


def _flat(evaluation: records.Evaluation) -> list:
    return [
        (r.attack, r.slice, r.auc, r.attacker_advantage, r.ppv, r.epsilon_lower_bound,
         sorted(r.tpr_at_fpr.items()), sorted(r.intervals.items()))
        for r in evaluation.records
    ]


def _die() -> None:
    os._exit(3)


def _attack_code_imports_tensorflow() -> bool:
    import importlib

    for module in ("privacy_checks.attack.codelab", "privacy_checks.attack.reference_evaluation",
                   "privacy_checks.attack.mia_attacks"):
        importlib.import_module(module)
    return "tensorflow" in sys.modules


@pytest.fixture(scope="module")
def workers():
    pool = executors.WorkerProcesses(2)
    yield pool
    pool.close()


def test_in_process_runs_the_task_when_asked_and_remembers_its_error():
    calls = []
    future = executors.InProcess().submit(calls.append, 1)
    assert calls == []  # nothing runs before the result is needed
    assert future.result().value is None and calls == [1]
    assert future.result().seconds >= 0 and calls == [1]  # once
    failing = executors.InProcess().submit(int, "x")
    for _ in range(2):
        with pytest.raises(ValueError):
            failing.result()


def test_worker_process_gives_the_same_records_as_this_process(workers):
    here = codelab.evaluate(leaky_snapshot(), PROFILE)
    there = workers.submit(codelab.evaluate, leaky_snapshot(), PROFILE).result()
    assert there.seconds > 0
    assert _flat(there.value) == _flat(here)
    assert np.array_equal(
        there.value.results.single_attack_results[0].membership_scores_train,
        here.results.single_attack_results[0].membership_scores_train,
    )


def test_workers_run_the_attack_code_without_tensorflow(workers):
    assert workers.submit(_attack_code_imports_tensorflow).result().value is False


def test_a_dead_worker_fails_its_task_and_the_next_task_gets_a_new_pool(workers):
    with pytest.raises(BrokenProcessPool):
        workers.submit(_die).result()
    assert workers.submit(int, "7").result().value == 7


def test_shared_pools_and_default_size():
    assert executors.executor(2) is executors.executor(2)
    assert isinstance(executors.executor(0), executors.InProcess)
    assert 1 <= executors.default_workers() <= executors.MAX_WORKERS


def test_where_processes_cannot_start_tasks_run_here_and_say_why(monkeypatch):
    def no_semaphores(*args, **kwargs):
        raise ImportError("This platform lacks a functioning sem_open implementation")

    monkeypatch.setattr(executors.concurrent.futures, "ProcessPoolExecutor", no_semaphores)
    pool = executors.WorkerProcesses(2)
    assert pool.submit(int, "5").result().value == 5
    assert pool.overlaps is False
    assert "worker processes could not start (ImportError: This platform lacks" in pool.describe()
    assert pool.submit(int, "6").result().value == 6
