"""Where benchmark batches run: a local process pool (the default) or a Ray cluster.

Both backends keep the policy out of the runner's process: each worker (a spawned process, or a
Ray actor) builds the policy once with :class:`~feedback_gym.benchmarks.play.Worker` and plays the
batches it is sent. The runner sees only JSON-ready episode records coming back, in completion
order, through :meth:`Backend.run`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from feedback_gym.errors import ConfigError, missing_dependency, require_int

Batch = list[dict[str, Any]]
#: What a backend yields per batch: the batch, and its records or the exception that lost it.
Outcome = tuple[Batch, "list[dict[str, Any]] | BaseException"]

BACKENDS = ("local", "ray")


def default_workers() -> int:
    """Half the CPU cores (at least one): a torch policy uses several threads per worker."""
    return max(1, (os.cpu_count() or 2) // 2)


class Backend(Protocol):
    """Runs batches of episodes on workers that each hold one copy of the policy."""

    name: str

    def start(self) -> dict[str, Any]:
        """Start the workers; return the policy identity (raises ConfigError if it cannot be built)."""
        ...

    def run(self, batches: Iterable[Batch]) -> Iterator[Outcome]:
        """Play the batches; yield each with its records (or its exception) as it completes."""
        ...

    def describe(self) -> dict[str, Any]:
        """The backend's configuration, for the summary."""
        ...

    def close(self) -> None:
        """Stop the workers once their work is done, letting them close their envs (idempotent)."""
        ...

    def abort(self) -> None:
        """Stop the workers now, dropping batches in flight (after an interrupt; idempotent)."""
        ...


# ------------------------------------------------------------------------------- local processes

_WORKER: Any = None


def _worker(policy_spec: str, policy_kwargs: Mapping[str, Any]) -> Any:
    """The process-wide worker, built on first use (so a failure reaches the runner as an error)."""
    global _WORKER
    if _WORKER is None:
        from multiprocessing.util import Finalize

        from feedback_gym.benchmarks.play import Worker

        _WORKER = Worker(policy_spec, policy_kwargs)
        Finalize(_WORKER, _WORKER.close, exitpriority=10)
    return _WORKER


def _identity_job(policy_spec: str, policy_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return _worker(policy_spec, policy_kwargs).identity()


def _play_job(policy_spec: str, policy_kwargs: Mapping[str, Any], batch: Batch) -> list[dict[str, Any]]:
    return _worker(policy_spec, policy_kwargs).play(batch)


class LocalBackend:
    """A pool of spawned worker processes on this machine.

    Processes are spawned, not forked, so no worker inherits the runner's threads (the progress
    bar) and the runner never imports the policy's libraries. A worker that dies (out of memory,
    a crash in native code) breaks the pool; the pool is rebuilt and the batches it was running are
    tried once more before they are recorded as errors.
    """

    name = "local"

    def __init__(self, policy_spec: str, policy_kwargs: Mapping[str, Any] | None = None,
                 workers: int | None = None, in_flight: int = 2) -> None:
        self.policy_spec = policy_spec
        self.policy_kwargs = dict(policy_kwargs or {})
        self.workers = require_int("workers", workers or default_workers(), minimum=1)
        self.in_flight = max(1, in_flight)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def start(self) -> dict[str, Any]:
        """Spawn the pool and build the policy in one worker to check the spec early."""
        self._pool = self._new_pool()
        try:
            return self._pool.submit(_identity_job, self.policy_spec, self.policy_kwargs).result()
        except Exception as err:
            self.close()
            raise ConfigError(f"could not build policy {self.policy_spec!r} in a worker: {err}") from err

    def run(self, batches: Iterable[Batch]) -> Iterator[Outcome]:
        """Keep ``workers * in_flight`` batches running; yield each as it completes."""
        if self._pool is None:
            raise RuntimeError("call start() first")
        pending = iter(batches)
        running: dict[Future[list[dict[str, Any]]], tuple[Batch, int]] = {}
        retry: list[tuple[Batch, int]] = []

        def submit(batch: Batch, attempt: int) -> None:
            assert self._pool is not None
            future = self._pool.submit(_play_job, self.policy_spec, self.policy_kwargs, batch)
            running[future] = (batch, attempt)

        def fill() -> None:
            if retry:  # after a crash, batches run one at a time so the next crash names its batch
                if not running:
                    submit(*retry.pop(0))
                return
            while len(running) < self.workers * self.in_flight:
                batch = next(pending, None)
                if batch is None:
                    return
                submit(batch, 0)

        fill()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            lost: list[tuple[Batch, int]] = []
            for future in done:
                batch, attempt = running.pop(future)
                try:
                    yield batch, future.result()
                except BrokenProcessPool:
                    lost.append((batch, attempt))
                except Exception as err:  # noqa: BLE001 - the batch is lost; its episodes become errors
                    yield batch, err
            if lost:
                lost += list(running.values())  # every other running batch died with the pool
                running.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                for batch, attempt in lost:
                    if len(lost) == 1 and attempt >= 1:  # it crashed the pool again, alone: the culprit
                        yield batch, BrokenProcessPool(
                            "a worker process died while playing this batch (twice); see its episodes")
                    else:
                        retry.append((batch, attempt + 1 if len(lost) == 1 else attempt))
            fill()

    def describe(self) -> dict[str, Any]:
        """Backend name and worker count."""
        return {"backend": self.name, "workers": self.workers, "start_method": "spawn"}

    def close(self) -> None:
        """Shut the pool down, cancelling batches not started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Terminate the worker processes without waiting for the batches they are playing."""
        if self._pool is None:
            return
        # the executor offers no public way to stop running work: end our own workers by pid
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        self._pool = None


# ------------------------------------------------------------------------------------------- Ray


class RayBackend:
    """Ray actors, one policy each, on a cluster at ``address`` or on a local Ray instance.

    With no address, an already initialised Ray (``ray.init`` in this process) is used, or a small
    local one is started and stopped again at :meth:`close`. Every node needs feedback-gym
    installed (``pip install "feedback-gym[ray]"``). Actors are restarted once if they die.
    """

    name = "ray"

    def __init__(self, policy_spec: str, policy_kwargs: Mapping[str, Any] | None = None,
                 workers: int | None = None, address: str | None = None, num_cpus_per_worker: float = 1,
                 num_gpus_per_worker: float = 0, in_flight: int = 2) -> None:
        self.policy_spec = policy_spec
        self.policy_kwargs = dict(policy_kwargs or {})
        self.workers = require_int("workers", workers or default_workers(), minimum=1)
        self.address = address
        self.num_cpus_per_worker = num_cpus_per_worker
        self.num_gpus_per_worker = num_gpus_per_worker
        self.in_flight = max(1, in_flight)
        self._actors: list[Any] = []
        self._started_ray = False

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as err:
            raise missing_dependency("ray", "ray") from err
        return ray

    def start(self) -> dict[str, Any]:
        """Connect to (or start) Ray, create the actors and ask one for the policy identity."""
        ray = self._ray()
        if self.address:
            if ray.is_initialized():
                ray.shutdown()
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            self._started_ray = True
        elif not ray.is_initialized():
            ray.init(include_dashboard=False, log_to_driver=False, num_cpus=max(self.workers, 1))
            self._started_ray = True
        from feedback_gym.benchmarks.play import Worker

        actor_class = ray.remote(Worker).options(
            num_cpus=self.num_cpus_per_worker, num_gpus=self.num_gpus_per_worker, max_restarts=1,
            max_task_retries=1,
        )
        self._actors = [actor_class.remote(self.policy_spec, self.policy_kwargs) for _ in range(self.workers)]
        try:
            return ray.get(self._actors[0].identity.remote())
        except Exception as err:
            self.close()
            raise ConfigError(f"could not build policy {self.policy_spec!r} on a Ray actor: {err}") from err

    def run(self, batches: Iterable[Batch]) -> Iterator[Outcome]:
        """Send each actor up to ``in_flight`` batches; yield results as they complete."""
        ray = self._ray()
        pending = iter(batches)
        running: dict[Any, tuple[Batch, int]] = {}
        load = [0] * len(self._actors)

        def fill() -> None:
            while True:
                index = min(range(len(load)), key=load.__getitem__)
                if load[index] >= self.in_flight:
                    return
                batch = next(pending, None)
                if batch is None:
                    return
                running[self._actors[index].play.remote(batch)] = (batch, index)
                load[index] += 1

        fill()
        while running:
            (ref,), _ = ray.wait(list(running), num_returns=1)
            batch, index = running.pop(ref)
            load[index] -= 1
            try:
                result: list[dict[str, Any]] | BaseException = ray.get(ref)
            except Exception as err:  # noqa: BLE001 - the batch is lost; its episodes become errors
                result = err
            yield batch, result
            fill()

    def describe(self) -> dict[str, Any]:
        """Backend name, worker count and cluster address."""
        info: dict[str, Any] = {"backend": self.name, "workers": self.workers, "address": self.address,
                                "cpus_per_worker": self.num_cpus_per_worker,
                                "gpus_per_worker": self.num_gpus_per_worker}
        try:
            ray = self._ray()
            if ray.is_initialized():
                info["ray_version"] = ray.__version__
                info["cluster_resources"] = {k: v for k, v in ray.cluster_resources().items()
                                             if k in ("CPU", "GPU", "memory")}
        except Exception:  # noqa: BLE001 - descriptive only
            pass
        return info

    def close(self, graceful: bool = True) -> None:
        """Close the actors' environments, kill the actors, and stop Ray if this backend started it."""
        if not self._actors and not self._started_ray:
            return
        ray = self._ray()
        if self._actors:
            if graceful:
                try:
                    ray.get([actor.close.remote() for actor in self._actors], timeout=60)
                except Exception:  # noqa: BLE001 - shutting down anyway
                    pass
            for actor in self._actors:
                ray.kill(actor)
            self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def abort(self) -> None:
        """Kill the actors at once (batches in flight are dropped)."""
        self.close(graceful=False)


def make_backend(
    name: str, policy_spec: str, policy_kwargs: Mapping[str, Any] | None = None, *,
    workers: int | None = None, address: str | None = None, gpus_per_worker: float = 0,
) -> Backend:
    """Build a backend by name (``"local"`` or ``"ray"``).

    >>> make_backend("slurm", "oracle")
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown backend 'slurm'; accepted: local, ray
    """
    if name == "local":
        if address or gpus_per_worker:
            raise ConfigError("--address and --gpus-per-worker are for the ray backend")
        return LocalBackend(policy_spec, policy_kwargs, workers)
    if name == "ray":
        return RayBackend(policy_spec, policy_kwargs, workers, address, num_gpus_per_worker=gpus_per_worker)
    raise ConfigError(f"unknown backend {name!r}; accepted: {', '.join(BACKENDS)}")


def chunk(items: Sequence[Any], size: int) -> list[list[Any]]:
    """Split ``items`` into consecutive lists of at most ``size``.

    >>> chunk([1, 2, 3, 4, 5], 2)
    [[1, 2], [3, 4], [5]]
    """
    require_int("batch size", size, minimum=1)
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
