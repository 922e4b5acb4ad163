"""A pool of workers behind the Sandbox protocol: thread-safe, concurrent, self-healing, fork-safe.

Each worker owns one fork server (a bubblewrap process for ``local``, a container for ``docker``). A job
takes an idle worker, runs, and gives it back; a worker whose server died is restarted on the spot, so
a job that kills its server costs only its own result, and the caller never hangs.

Fork-safe: a process forked from the sandbox's owner (Gymnasium's ``AsyncVectorEnv`` forks its
workers) must neither talk to the owner's servers (their sockets would carry two callers' messages)
nor stop them. So a worker remembers the process that started it, and a forked child that uses the
sandbox starts servers of its own; its copies of the owner's workers are only forgotten.
"""

from __future__ import annotations

import os
import queue
import select
import socket
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from feedback_gym.errors import SandboxClosedError, SandboxUnavailableError
from feedback_gym.sandboxes.base import ExecResult, Job
from feedback_gym.sandboxes.client import ServerDiedError, run_on_server
from feedback_gym.sandboxes.languages import BINARY, binary_job, compile_job


class Worker:
    """One fork server behind a Unix socket. Subclasses start it (``start`` sets ``sock``) and kill it.

    ``run`` never raises for anything a program does: a server that died is replaced; a job that never
    reached it is retried once on the replacement; a job that was running when it died comes back as a
    sandbox error (it may well be what killed it).
    """

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.owner_pid = os.getpid()
        self.restarts = 0
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        """Start the fork server and connect ``sock`` (blocking until it says hello)."""
        raise NotImplementedError

    def kill(self) -> None:
        """Kill the server and forget it (the next job starts a new one)."""
        raise NotImplementedError

    def disown(self) -> None:
        """Forget a server another process started (our copy after a fork): close our fds, stop nothing."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def fresh(self) -> Worker:
        """A new, unstarted worker with the same settings (for a forked child's own pool)."""
        raise NotImplementedError

    def inherited(self) -> bool:
        """Whether this worker's server belongs to another process (we are a fork of its owner)."""
        return os.getpid() != self.owner_pid

    def alive(self) -> bool:
        """A cheap check before each job: the server has not hung up (EOF would make it readable)."""
        if self.sock is None:
            return False
        readable, _, _ = select.select([self.sock], [], [], 0)
        return not readable

    def run(self, job: Job) -> ExecResult:
        """Run one job on this worker's server."""
        with self._lock:
            for attempt in range(2):
                if self._stopped:
                    return ExecResult.sandbox_error("the sandbox was closed")
                if self.sock is not None and not self.alive():
                    self.kill()
                    self.restarts += 1
                if self.sock is None:
                    try:
                        self.start()
                    except SandboxUnavailableError as err:
                        return ExecResult.sandbox_error(str(err))
                try:
                    return run_on_server(self.sock, job)
                except ServerDiedError as err:
                    self.kill()
                    self.restarts += 1
                    if self._stopped:
                        return ExecResult.sandbox_error("the sandbox was closed while the job ran")
                    if err.sent or attempt:
                        return ExecResult.sandbox_error(f"{err}; the worker was restarted")
            raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server for good (only if this process started it). Idempotent."""
        self._stopped = True
        if self.inherited():
            self.disown()
        else:
            self.kill()

    def stats(self) -> dict[str, int]:
        """Open fds, processes and memory of this worker's server (for the soak run)."""
        return {}


class PooledSandbox:
    """Runs jobs on a fixed set of workers; ``run`` blocks until a worker is free."""

    name = "pool"

    def __init__(self, workers: list[Worker]) -> None:
        self._closed = False
        self._lock = threading.Lock()
        self._start(workers)

    def _start(self, workers: list[Worker]) -> None:
        """Start ``workers`` as this process's pool."""
        self._owner = os.getpid()
        self._workers = workers
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self._executor: ThreadPoolExecutor | None = None
        self._finalizer = weakref.finalize(self, _stop_workers, workers)
        try:
            for worker in workers:
                worker.start()
                self._idle.put(worker)
        except BaseException:
            for worker in workers:
                worker.stop()
            raise

    def _own_workers(self) -> None:
        """In a process forked from the owner: forget the owner's servers and start our own."""
        if os.getpid() == self._owner:
            return
        self._lock = threading.Lock()  # a lock copied mid-use by another thread would never open
        self._finalizer.detach()
        for worker in self._workers:
            worker.disown()
        self._after_fork()
        self._start([worker.fresh() for worker in self._workers])

    def _after_fork(self) -> None:
        """Subclasses renew what a forked child must not share with its parent (a client, an id)."""

    @property
    def workers(self) -> int:
        """How many jobs can run at once."""
        return len(self._workers)

    def run(self, job: Job) -> ExecResult:
        """Run one job on the next free worker (C/C++: compile, then run the binary)."""
        if self._closed:
            raise SandboxClosedError(f"the {self.name} sandbox is closed")
        self._own_workers()
        if job.language in ("c", "cpp"):
            compiled = self.run(compile_job(job.language, job.source, job.limits))
            if not compiled.ok or BINARY not in compiled.files:
                return compiled
            return self.run(binary_job(compiled.files[BINARY], job))
        worker = self._idle.get()
        try:
            if self._closed:
                raise SandboxClosedError(f"the {self.name} sandbox is closed")
            return worker.run(job)
        finally:
            self._idle.put(worker)

    def run_many(self, jobs: Sequence[Job]) -> list[ExecResult]:
        """Run jobs concurrently on all workers; results in job order."""
        self._own_workers()
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(len(self._workers), thread_name_prefix=f"{self.name}-job")
        return list(self._executor.map(self.run, jobs))

    def stats(self) -> list[dict[str, int]]:
        """Per-worker resource figures (fds, processes, memory) for leak checks."""
        return [worker.stats() for worker in self._workers]

    def close(self) -> None:
        """Stop every worker. Idempotent; jobs still running return a sandbox error."""
        if os.getpid() != self._owner:
            self._lock = threading.Lock()  # our copy of the owner's lock may be held by a thread we lack
        with self._lock:
            if self._closed:
                return
            self._closed = True
            executor, self._executor = self._executor, None
        for worker in self._workers:
            worker.stop()
        if executor is not None:
            executor.shutdown(wait=False)

    def __enter__(self) -> PooledSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _stop_workers(workers: list[Worker]) -> None:
    """Stop workers at garbage collection or interpreter exit (no container outlives its owner)."""
    for worker in workers:
        try:
            worker.stop()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
