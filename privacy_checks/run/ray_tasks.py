"""Trainings and attacks as Ray tasks (``--privacy-executor=ray``).

Every training (the model under test, each calibration seed, each reference
model) and every attack run is a Ray task, on a local Ray started on this
machine's cores or on a cluster (``--privacy-ray-address``). The pytest
process only schedules, gathers, caches and judges. Tasks ask for what they
use: a training the profile's TensorFlow intra-op threads as CPUs (a GPU when
asked for), an attack run one CPU. They never retry: a task that raised or a
worker that died fails the checks that needed it, with the error. A training
gives the same numbers in a Ray worker as in this process (same thread
counts, same seeds): ``tests/test_ray.py``.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import warnings
from typing import Any, Callable, TypeVar

from privacy_checks.run.executors import Timed, timed


T = TypeVar("T")


#: What ``pip`` installs for ``--privacy-executor=ray`` (the extra resolves Ray with the pinned TensorFlow).
RAY_INSTALL = "pip install -e '.[ray]' (or privacy-checks[ray])"


class RayTasks:
    """Runs trainings and attacks as Ray tasks: on a local Ray (``address`` None) or a cluster.

    Ray starts on the first task, so that a run whose results all come from
    the cache never starts it. A local Ray gets this machine's cores and
    workers that see this process's ``sys.path`` (a builder next to the
    tests imports there too); on a cluster, builders must be importable on
    every node (an installed package). Workers' output stays in Ray's logs.
    """

    overlaps = True
    trains = True

    def __init__(self, address: str | None = None, gpus: float = 0) -> None:
        self.address = address or None
        #: GPUs each training asks for (0: none; the attacks never need one).
        self.gpus = gpus
        self._started_here = False
        self._remote: dict[tuple[float, float], Any] = {}

    def _ray(self) -> Any:
        import ray

        if not ray.is_initialized():
            with warnings.catch_warnings():
                # Ray 2.52 announces that it will stop hiding GPUs from tasks that ask for none.
                # Hiding them is what a CPU-only training needs (a GPU gives other numbers).
                warnings.filterwarnings("ignore", "Tip: In future versions of Ray", FutureWarning)
                if self.address is None:
                    path = os.pathsep.join(p for p in sys.path if p)
                    ray.init(
                        num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                        runtime_env={"env_vars": {"PYTHONPATH": path}},
                    )
                    self._started_here = True
                else:
                    ray.init(address=self.address, log_to_driver=False)
        return ray

    def share(self, value: T) -> Any:
        return self._ray().put(value)

    def submit(
        self, task: Callable[..., T], *args: Any, cpus: float = 1, gpus: float = 0, training: bool = False
    ) -> "concurrent.futures.Future[Timed[T]]":
        ray = self._ray()
        shape = (cpus, gpus, training)
        if shape not in self._remote:
            # Trainings and attacks get workers of their own (another runtime_env is another
            # pool): a worker that attacked never trains, so TensorFlow's thread pools are
            # still unset when a training sets them to the profile's; attack workers load TF
            # Privacy's attack code without TensorFlow, as worker processes do.
            role = {"env_vars": {_ROLE: "training" if training else "attacks"}}
            # max_retries=0: a task whose worker died is not run again behind the user's back.
            self._remote[shape] = ray.remote(
                num_cpus=cpus, num_gpus=gpus, max_retries=0, retry_exceptions=False, runtime_env=role
            )(timed)
        return _plain_errors(self._remote[shape].remote(task, *args).future())

    def describe(self) -> str:
        where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
        gpus = f", {self.gpus:g} GPU per training" if self.gpus else ""
        return f"as Ray tasks on {where}{gpus}"

    def close(self) -> None:
        """Stops the local Ray this executor started (a cluster is left running)."""
        if self._started_here:
            import ray

            ray.shutdown()
            self._started_here = False
            self._remote.clear()


#: The environment variable that tells a Ray worker whether it trains or attacks.
_ROLE = "PRIVACY_CHECKS_WORKER"


def _plain_errors(future: "concurrent.futures.Future") -> "concurrent.futures.Future":
    """The task's own exception instead of Ray's wrapper (whose text repeats the remote traceback);
    a dead worker as a plain error that says so."""
    plain: concurrent.futures.Future = concurrent.futures.Future()

    def copy(done: "concurrent.futures.Future") -> None:
        error = done.exception()
        if error is None:
            plain.set_result(done.result())
            return
        cause = getattr(error, "cause", None)
        if isinstance(cause, Exception):
            plain.set_exception(cause)
        elif type(error).__name__ in ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError"):
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            plain.set_exception(RuntimeError(f"the Ray worker running the task died ({type(error).__name__}: {first_line})"))
        else:
            plain.set_exception(error)

    future.add_done_callback(copy)
    return plain


_RAY: dict[tuple[str | None, float], RayTasks] = {}


def ray_tasks(address: str | None = None, gpus: float = 0) -> RayTasks:
    """The Ray executor for ``address`` (None: a local Ray), shared by the sessions of one process."""
    return _RAY.setdefault((address or None, gpus), RayTasks(address, gpus))
