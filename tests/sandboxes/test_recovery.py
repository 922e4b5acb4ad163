"""A dead fork server is replaced: the caller gets an answer, never a hang, and the pool keeps serving."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from feedback_gym.sandboxes import Job, make_sandbox
from feedback_gym.sandboxes import _wire as wire
from feedback_gym.sandboxes.local import SERVER_PATH, SHIPPED_FILES, find_python

from .conftest import _config

PRINT = Job(language="python", source="print('alive')")


def _kill_server(box) -> None:
    worker = box._workers[0]
    if box.name == "local":
        os.killpg(worker.process.pid, signal.SIGKILL)  # the bwrap process this sandbox started
        worker.process.wait()
    else:
        container = worker.container  # the worker may drop it (and the engine remove it) at any moment now
        container.kill()
        try:
            container.wait(timeout=30)
        except Exception:  # noqa: BLE001 - removed as soon as it died (auto_remove)
            pass


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_dead_idle_server_is_replaced_before_the_next_job(backend):
    box = make_sandbox(_config(backend, 1))
    try:
        assert box.run(PRINT).stdout == "alive\n"
        _kill_server(box)
        result = box.run(PRINT)  # never reached the dead server: retried on a fresh one
        assert result.stdout == "alive\n", result
        assert box._workers[0].restarts == 1
    finally:
        box.close()


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_server_dying_mid_job_returns_a_sandbox_error_promptly(backend):
    box = make_sandbox(_config(backend, 1))
    try:
        box.run(PRINT)
        killer = threading.Timer(0.5, _kill_server, args=(box,))
        killer.start()
        start = time.monotonic()
        result = box.run(Job(language="python", source="import time; time.sleep(30)"))
        killer.join()
        assert time.monotonic() - start < 15
        assert result.killed_reason == "sandbox_error" and "restarted" in result.message
        assert box.run(PRINT).stdout == "alive\n"
    finally:
        box.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_fork_server_refuses_to_run_as_the_hosts_root(tmp_path):
    """The host's root ignores RLIMIT_NPROC: a server started as root says why in its hello and exits."""
    for path, source in SHIPPED_FILES.items():  # the layout the server has inside the boundary
        shutil.copy(source, tmp_path / Path(path).name)
    server = tmp_path / Path(SERVER_PATH).name
    ours, theirs = socket.socketpair()
    with theirs:
        done = subprocess.Popen([find_python(), "-I", "-S", str(server), "--fd", "0"], stdin=theirs)
    ours.settimeout(30)
    hello, _ = wire.recv_request(ours, wire.SERVER_MAX_MESSAGE)
    assert done.wait(timeout=30) == 1
    assert hello["ready"] is False and "refuses to run as root" in hello["error"]
