"""Where the attacks on a snapshot run: in this process, or in worker processes beside training.

Attacking one snapshot is a task with plain inputs (the snapshot's arrays
and the profile) and plain outputs (the records and TF Privacy's results):
it seeds its own randomness (:func:`privacy_checks.attacks.evaluate`), so
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

Workers import TF Privacy's attack modules without the package's
``__init__``, which imports TensorFlow (5 s per process); the attack code
itself needs only NumPy, SciPy, pandas and scikit-learn (1.3 s). Their
output goes to ``/dev/null``: an error comes back as the task's exception.
A pool is shared by the sessions of one process (pytester runs them
inline) and replaced when a worker died.

* :class:`RayTasks` (``--privacy-executor=ray``): every training (the model
  under test, each calibration seed, each reference model) and every
  attack run is a Ray task, on a local Ray started on this machine's cores
  or on a cluster (``--privacy-ray-address``). The pytest process only
  schedules, gathers, caches and judges. Tasks ask for what they use: a
  training the profile's TensorFlow intra-op threads as CPUs (a GPU when
  asked for), an attack run one CPU. They never retry: a task that raised
  or a worker that died fails the checks that needed it, with the error.
  A training gives the same numbers in a Ray worker as in this process
  (same thread counts, same seeds): ``tests/test_ray.py``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import sys
import time
import warnings
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
                # Every worker runs ray_worker_setup first (an attack worker then loads TF
                # Privacy's attack code without TensorFlow).
                setup = {"worker_process_setup_hook": f"{__name__}.ray_worker_setup"}
                if self.address is None:
                    path = os.pathsep.join(p for p in sys.path if p)
                    ray.init(
                        num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                        runtime_env={**setup, "env_vars": {"PYTHONPATH": path}},
                    )
                    self._started_here = True
                else:
                    ray.init(address=self.address, log_to_driver=False, runtime_env=setup)
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


def ray_worker_setup() -> None:
    """Ray's worker start-up hook: an attack worker loads TF Privacy's attack code without TensorFlow."""
    if os.environ.get(_ROLE) == "attacks":
        attack_code_without_tensorflow()


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


def _start_worker() -> None:
    """Worker start-up: quiet, and TF Privacy's attack code without TensorFlow."""
    try:  # cores that training leaves idle, never training's own (Linux)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    attack_code_without_tensorflow()


def attack_code_without_tensorflow() -> None:
    """Makes ``import tensorflow_privacy.privacy.privacy_tests...`` skip the package's ``__init__``,
    which imports TensorFlow (5 s); the attack modules need only NumPy, SciPy, pandas and scikit-learn."""
    import importlib.util
    import types

    if "tensorflow_privacy" not in sys.modules:
        spec = importlib.util.find_spec("tensorflow_privacy")
        if spec is not None and spec.submodule_search_locations:
            package = types.ModuleType("tensorflow_privacy")
            package.__path__ = list(spec.submodule_search_locations)
            sys.modules["tensorflow_privacy"] = package
