"""Where the attacks on a snapshot run: in this process, or in worker processes beside training.

Attacking one snapshot is a task with plain inputs (the snapshot's arrays
and the profile) and plain outputs (the records and TF Privacy's results):
it seeds its own randomness (:func:`privacy_checks.attack.codelab.evaluate`), so
its numbers do not depend on where or in which order it runs. That makes it
safe to hand to an executor:

* :class:`InProcess` (``--privacy-workers=0``): each task runs in this
  process when its result is first asked for: one thing after another, as
  the codelab does.
* :class:`WorkerProcesses` (the default, one worker per CPU up to
  :data:`MAX_WORKERS`): tasks run in worker processes while this process
  goes on training the next epochs and models. Workers run at the
  scheduler's idle priority, so the attacks take the cores training leaves
  (at normal priority ``cifar10-quick`` took 71 s instead of 66 s). Idle
  priority does not make them free: beside a training that keeps both
  cores busy, two attacking workers slowed a ``cifar10-quick`` training
  from 6.6 s to 10.3 s (two idle busy-loops: 7.4 s). Holding the attacks
  back until training ends gained nothing, though (cold ``cifar10-quick``,
  five runs each: 67.8 s against 68.8 s on average): what they slow
  training by, they do on the cores it leaves. Processes, not threads:
  TF Privacy's attackers are scikit-learn grid searches whose Python
  overhead holds the GIL (a thread beside Keras's training loop saved
  nothing on ``digits``), and TF Privacy draws from NumPy's *global* RNG,
  which a thread would share with training.

Workers never import TensorFlow: the attack code (:mod:`privacy_checks.attack`)
needs only NumPy, SciPy and scikit-learn. Their output goes to
``/dev/null``: an error comes back as the task's exception.
A pool is shared by the sessions of one process (pytester runs them
inline) and replaced when a worker died.

* :class:`~privacy_checks.run.ray_tasks.RayTasks` (``--privacy-executor=ray``): trainings and
  attack runs as Ray tasks, on a local Ray or a cluster.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import time
from typing import Any, Callable, Generic, Protocol, TypeVar


T = TypeVar("T")

#: More workers than this rarely pays: each holds the attack libraries in memory.
MAX_WORKERS = 8


def default_workers() -> int:
    """One worker per CPU, at most :data:`MAX_WORKERS`."""
    return min(os.cpu_count() or 1, MAX_WORKERS)


@dataclasses.dataclass(frozen=True)
class Timed(Generic[T]):
    """A task's value and the seconds it ran, wherever it ran (None: it did not run)."""

    value: T
    seconds: float | None


def timed(task: Callable[..., T], *args: Any) -> Timed[T]:
    start = time.perf_counter()
    value = task(*args)
    return Timed(value, time.perf_counter() - start)


class Executor(Protocol):
    #: True when tasks run beside the caller (it can train while waiting).
    overlaps: bool
    #: True when trainings are tasks too (they leave this process); False: this process trains.
    trains: bool

    def submit(
        self, task: Callable[..., T], *args: Any, cpus: float = 1, gpus: float = 0, training: bool = False
    ) -> "concurrent.futures.Future[Timed[T]]":
        """Runs ``task(*args)`` somewhere; ``cpus`` and ``gpus`` are what it asks for where that
        counts; ``training``: it trains (TensorFlow), else it attacks (no TensorFlow needed)."""
        ...

    def share(self, value: T) -> Any:
        """``value`` as tasks receive it: itself, or a handle that moves it once (Ray's object store)."""
        ...

    def describe(self) -> str: ...


class _Deferred(concurrent.futures.Future):
    """A future that runs its task in the caller, on the first ``result()``."""

    def __init__(self, task: Callable[..., Any], args: tuple) -> None:
        super().__init__()
        self._task = (task, args)

    def result(self, timeout: float | None = None) -> Any:
        if self._task is not None:
            task, args = self._task
            self._task = None
            try:
                self.set_result(timed(task, *args))
            except Exception as error:  # remembered like a worker's error (Ctrl-C is not)
                self.set_exception(error)
        return super().result(timeout)


class InProcess:
    """Runs each task in this process, when its result is first needed."""

    overlaps = False
    trains = False

    def submit(
        self, task: Callable[..., T], *args: Any, cpus: float = 1, gpus: float = 0, training: bool = False
    ) -> "concurrent.futures.Future[Timed[T]]":
        return _Deferred(task, args)

    def share(self, value: T) -> T:
        return value

    def describe(self) -> str:
        return "in this process"


def done(value: T) -> "concurrent.futures.Future[Timed[T]]":
    """A future that already holds ``value`` (a result found in the cache)."""
    future: concurrent.futures.Future = concurrent.futures.Future()
    future.set_result(Timed(value, None))
    return future


class WorkerProcesses:
    """Runs tasks in ``workers`` spawned processes, started when the first task comes.

    Where processes cannot start (no ``sem_open`` in some sandboxes, no
    process left), tasks run in this process instead and :meth:`describe`
    says why: slower, never a failed check.
    """

    trains = False  #: this process trains; the workers attack

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.unavailable: str | None = None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def share(self, value: T) -> T:
        return value

    def submit(
        self, task: Callable[..., T], *args: Any, cpus: float = 1, gpus: float = 0, training: bool = False
    ) -> "concurrent.futures.Future[Timed[T]]":
        if self.unavailable is not None:
            return InProcess().submit(task, *args)
        try:
            try:
                return self._running().submit(timed, task, *args)
            except concurrent.futures.process.BrokenProcessPool:
                # A worker died during an earlier task (whose checks failed with that
                # error); later tasks get a fresh pool rather than the same failure.
                self.close()
                return self._running().submit(timed, task, *args)
        except (OSError, ImportError, NotImplementedError) as error:
            self.unavailable = f"{type(error).__name__}: {error}"
            self.close()
            return InProcess().submit(task, *args)

    @property
    def overlaps(self) -> bool:
        """Tasks run beside the caller, unless the processes could not start."""
        return self.unavailable is None

    def _running(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers,
                # spawn: a fork of a process whose TensorFlow runs threads can deadlock.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        if self.unavailable is not None:
            return f"in this process: worker processes could not start ({self.unavailable})"
        return f"in {self.workers} worker process{'es' if self.workers > 1 else ''}, beside training"


_POOLS: dict[int, WorkerProcesses] = {}


def executor(workers: int) -> Executor:
    """The executor for ``workers`` worker processes (0: in this process)."""
    if workers == 0:
        return InProcess()
    return _POOLS.setdefault(workers, WorkerProcesses(workers))


def _start_worker() -> None:
    """Worker start-up: at idle priority, and quiet."""
    try:  # cores that training leaves idle, never training's own (Linux)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
