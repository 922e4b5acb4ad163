"""Install, start and stop a Docker engine for the ``docker`` backend (the project's own commands).

Safety: the daemon we start always runs with ``--bridge=none --iptables=false``, so no container can
reach any network (containers also get ``network_mode="none"``), and we stop only the PID we wrote.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

#: The daemon flags that keep every container off the network.
DOCKERD_FLAGS = ("--bridge=none", "--iptables=false")

#: What an ordinary user can do instead of installing or starting the system's engine (which needs root).
NON_ROOT_HELP = (
    "installing or starting the system's Docker engine needs root. As an ordinary user: the default "
    "local sandbox needs no engine at all (only bubblewrap and unprivileged user namespaces); or run a "
    "rootless engine you own, e.g. rootless Docker (`dockerd-rootless-setuptool.sh install`, then "
    "`export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/docker.sock`) or Podman (`systemctl --user start "
    "podman.socket`, then `export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock`), and build "
    "the image with `feedback-gym sandbox build-image`"
)


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise PermissionError(f"cannot {what}: {NON_ROOT_HELP}")


def engine_answers(timeout: float = 3.0) -> bool:
    """Whether a Docker engine answers a ping on the default address."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - no engine, no socket, permission: all mean "not answering"
        return False


def install_engine() -> str:
    """``apt-get install docker.io`` when there is no ``dockerd``; a no-op otherwise."""
    if shutil.which("dockerd"):
        return f"dockerd is installed ({shutil.which('dockerd')}); nothing to do"
    _require_root("install docker.io")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "docker.io"], check=True, env=env)
    return "installed docker.io"


def start_engine(pid_file: Path, timeout: float = 90.0) -> str:
    """Start ``dockerd`` in the background unless an engine answers; write its PID; wait for it."""
    if engine_answers():
        return "a Docker engine already answers; not starting another (no PID file written)"
    _require_root("start dockerd")
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise RuntimeError("no dockerd binary: run `feedback-gym sandbox install-engine` first")
    pid_file = Path(pid_file)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log_path = pid_file.with_suffix(".log")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [dockerd, *DOCKERD_FLAGS],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dockerd exited with code {process.returncode}; see {log_path}")
        if engine_answers(timeout=2.0):
            return f"started dockerd (pid {process.pid}, log {log_path})"
        time.sleep(0.5)
    raise RuntimeError(f"dockerd (pid {process.pid}) did not answer within {timeout:g} s; see {log_path}")


def stop_engine(pid_file: Path, timeout: float = 30.0) -> str:
    """Stop the dockerd whose PID is in ``pid_file`` (the one we started), and only that one."""
    pid_file = Path(pid_file)
    if not pid_file.exists():
        return f"no PID file at {pid_file}; nothing to stop"
    pid = int(pid_file.read_text().strip())
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except FileNotFoundError:
        pid_file.unlink()
        return f"dockerd (pid {pid}) is not running; removed {pid_file}"
    if not cmdline.endswith(b"dockerd"):
        raise RuntimeError(f"pid {pid} in {pid_file} is not dockerd ({cmdline!r}); not touching it")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.2)
    if _running(pid):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink()
    return f"stopped dockerd (pid {pid})"


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie waits only for its parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
