"""The ``local`` backend: one warm fork server per worker, each inside its own bubblewrap boundary.

Why this shape (measured when the backend was designed; ``feedback-gym sandbox bench`` measures it
today): a fork from a small warm interpreter costs ~2 ms where a fresh interpreter costs ~10 ms and
``docker exec`` ~80 ms. So each worker is a tiny ``/usr/bin/python3.11 -I -S`` process (never the
trainer's process, never one holding torch) that forks once per job. It works the same for every user,
root or not, because it needs no privilege at all: isolation comes from unprivileged user namespaces
(``user.max_user_namespaces`` > 0), layer by layer:

- **Filesystem**: bubblewrap gives the server an allow-listed view: ``/usr`` (read-only), the dynamic
  loader's cache, a tmpfs ``/tmp``, minimal ``/dev`` and ``/proc``; the sources of the server, the judge
  and their wire module are copied in (``--ro-bind-data``, :data:`SHIPPED_FILES`), so no host path has
  to be readable by the worker. The host's ``/work``, ``/root``, ``/home``, ``/tmp`` and the project's
  data (hidden tests!) do not exist in there.
- **Network**: a fresh network namespace with only its own loopback: the host's loopback is unreachable.
- **Per job** (see ``_forkserver.py``): its own user, pid, IPC and mount namespaces, a private tmpfs work
  dir and ``/dev/shm``, no capabilities, ``no_new_privs``, a seccomp filter, rlimits (CPU, memory, file
  size, files, processes: ``RLIMIT_NPROC`` counts per user namespace), the wall clock enforced from
  outside, output capped by the client. Nothing of a job outlives it.
- **Root**: the host's root ignores ``RLIMIT_NPROC``, so when run as root the worker first drops to an
  unprivileged uid (``LocalConfig.root_uid``, ``nobody`` by default); everything else is the same path an
  ordinary user takes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feedback_gym.errors import SandboxUnavailableError
from feedback_gym.sandboxes import _wire as wire
from feedback_gym.sandboxes.config import LocalConfig
from feedback_gym.sandboxes.pool import PooledSandbox, Worker

#: Where the server script appears inside the boundary.
SERVER_PATH = "/opt/feedback-gym/forkserver.py"
#: The judge and the wire module sit next to the server, so the server can import them once, at start,
#: from a read-only place (``feedback_gym_judge``, ``feedback_gym_wire``).
JUDGE_PATH = "/opt/feedback-gym/feedback_gym_judge.py"
WIRE_PATH = f"/opt/feedback-gym/{wire.SHIPPED_NAME}"
#: Every file shipped into the boundary, read-only: its path there -> its source here.
SHIPPED_FILES: dict[str, Path] = {
    SERVER_PATH: Path(__file__).with_name("_forkserver.py"),
    JUDGE_PATH: Path(__file__).with_name("_judge.py"),
    WIRE_PATH: Path(wire.__file__),
}
STARTUP_TIMEOUT = 20.0
_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="feedback-gym-sandbox-spawner")


def _new_spawner() -> None:
    """After a fork the spawner's thread is gone: a child gets a spawner of its own."""
    global _SPAWNER
    _SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="feedback-gym-sandbox-spawner")


os.register_at_fork(after_in_child=_new_spawner)

#: What to tell a user whose kernel refuses unprivileged user namespaces.
USERNS_HELP = (
    "the local sandbox needs unprivileged user namespaces, which this machine refuses. Ask an "
    "administrator to allow them: `sysctl -w user.max_user_namespaces=15000` (must be > 0); on Debian/"
    "older kernels also `sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 23.10+ "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (or an AppArmor profile for bwrap). "
    "Or use sandbox='docker' (a Docker or rootless Docker/Podman engine; DOCKER_HOST is honoured)"
)


def find_python() -> str:
    """An interpreter any uid may execute (pyenv's lives in root's 0700 home; Debian's does not)."""
    for candidate in ("/usr/bin/python3.11", "/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise SandboxUnavailableError("the local sandbox needs a python3 in /usr (apt-get install python3)")


def find_bwrap() -> str:
    """The bubblewrap binary, or an error that says how to get it."""
    bwrap = shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None
    )
    if bwrap is None:
        raise SandboxUnavailableError(
            "the local sandbox needs bubblewrap: `apt-get install -y bubblewrap` (Debian/Ubuntu), "
            "`dnf install bubblewrap` (Fedora), or use sandbox='docker'"
        )
    return bwrap


def bwrap_argv(bwrap: str, python: str, shipped_fds: Mapping[str, int]) -> list[str]:
    """The bubblewrap command line that starts one fork server (shipped files: path there -> fd here)."""
    argv = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--unshare-user",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-pid",
        "--unshare-cgroup-try",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        target = Path("/") / name
        if target.is_symlink():
            argv += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            argv += ["--ro-bind", str(target), str(target)]
    # bubblewrap makes missing parent dirs 0700; jobs must read the loader's cache and the judge.
    argv += ["--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/opt"]
    argv += ["--perms", "0755", "--dir", str(Path(SERVER_PATH).parent)]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"):
        if os.path.exists(etc):
            argv += ["--ro-bind", etc, etc]
    argv += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--dir", "/dev/shm",
        "--perms", "0755", "--tmpfs", "/tmp",
    ]
    for path, fd in shipped_fds.items():
        argv += ["--perms", "0644", "--ro-bind-data", str(fd), path]
    argv += [
        "--chdir", "/",
        python, "-I", "-S", SERVER_PATH, "--fd", "0",
    ]
    return argv


def _source_fd(path: Path) -> int:
    """A memfd holding a file's bytes, for bubblewrap to copy into the boundary."""
    fd = os.memfd_create(path.name)
    os.write(fd, path.read_bytes())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class LocalWorker(Worker):
    """One bubblewrap-contained fork server."""

    def __init__(self, config: LocalConfig, python: str, bwrap: str) -> None:
        super().__init__()
        self.config = config
        self.python = python
        self.bwrap = bwrap
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start bubblewrap with the fork server; wait for its hello (or say why it did not come)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sources = {path: _source_fd(source) for path, source in SHIPPED_FILES.items()}
        read_errors, write_errors = os.pipe()
        as_root = os.geteuid() == 0
        try:
            # bwrap's --die-with-parent follows the *thread* that forked it, so every server is
            # spawned from one long-lived thread, never from a caller's short-lived one.
            self.process = _SPAWNER.submit(
                subprocess.Popen,
                bwrap_argv(self.bwrap, self.python, sources),
                stdin=theirs,
                stdout=subprocess.DEVNULL,
                stderr=write_errors,
                env={},
                cwd="/",
                pass_fds=list(sources.values()),
                start_new_session=True,
                close_fds=True,
                user=self.config.root_uid if as_root else None,
                group=self.config.root_uid if as_root else None,
                extra_groups=[] if as_root else None,
            ).result()
        finally:
            theirs.close()
            os.close(write_errors)
            for fd in sources.values():
                os.close(fd)
        ours.settimeout(STARTUP_TIMEOUT)
        try:
            hello, _ = wire.recv_request(ours, wire.SERVER_MAX_MESSAGE)
        except (OSError, EOFError, ValueError) as err:
            ours.close()
            self.kill()
            why = _read_errors(read_errors) or str(err)
            raise SandboxUnavailableError(_explain(why)) from err
        finally:
            os.close(read_errors)
        ours.settimeout(None)
        if not hello.get("ready"):
            ours.close()
            self.kill()
            raise SandboxUnavailableError(_explain(str(hello.get("error", hello))))
        self.sock = ours

    def kill(self) -> None:
        """Stop the server we started (by its PID; bwrap's --die-with-parent takes the rest down)."""
        if self.inherited():  # never stop a server this process did not start
            self.disown()
            return
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait()
            self.process = None

    def disown(self) -> None:
        """Our copy of another process's worker (after a fork): close our end, leave its server be."""
        super().disown()
        self.process = None

    def fresh(self) -> LocalWorker:
        """A new worker with the same settings."""
        return LocalWorker(self.config, self.python, self.bwrap)

    def alive(self) -> bool:
        """The bubblewrap process we started still runs and the socket has not hung up."""
        return self.process is not None and self.process.poll() is None and super().alive()

    def stats(self) -> dict[str, int]:
        """Processes, open fds and resident memory of this worker's whole tree (bwrap + server + jobs)."""
        import psutil

        if self.process is None:
            return {"processes": 0, "fds": 0, "rss_bytes": 0}
        try:
            root = psutil.Process(self.process.pid)
            procs = [root, *root.children(recursive=True)]
            return {
                "processes": len(procs),
                "fds": sum(p.num_fds() for p in procs),
                "rss_bytes": sum(p.memory_info().rss for p in procs),
            }
        except psutil.Error:
            return {"processes": 0, "fds": 0, "rss_bytes": 0}


def _read_errors(fd: int) -> str:
    """What bubblewrap or the server printed before dying (its last lines)."""
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 65536).decode("utf-8", "replace").strip()[-2000:]
    except OSError:
        return ""


def _explain(why: str) -> str:
    """The message of a server that did not start, with the fix when user namespaces are the cause."""
    lowered = why.lower()
    if any(s in lowered for s in ("no permissions to create new namespace", "creating new namespace failed",
                                  "unshare: operation not permitted", "unshare: no space left",
                                  "setting up uid map")):
        return f"{USERNS_HELP}.\nWhat failed: {why}"
    return f"the local fork server did not start: {why}"


class LocalSandbox(PooledSandbox):
    """The embedded default sandbox: ``config.workers`` warm fork servers inside bubblewrap.

    Raises:
        SandboxUnavailableError: bubblewrap or a system python3 is missing, or the kernel refuses
            unprivileged user namespaces (the message names the sysctl to set and the docker backend).
    """

    name = "local"

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        python = find_python()
        bwrap = find_bwrap()
        super().__init__([LocalWorker(self.config, python, bwrap) for _ in range(self.config.workers)])
