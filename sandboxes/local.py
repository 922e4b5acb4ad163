"""The ``local`` backend: one warm fork server per worker, each inside its own bubblewrap boundary.

Why this shape (measured in ``research/platform-notes.md``): a fork from a small warm interpreter costs
~2 ms where a fresh interpreter costs ~10 ms and ``docker exec`` ~80 ms. So each worker is a tiny
``/usr/bin/python3.11 -I -S`` process (never the trainer's process, never one holding torch) that forks
once per job. Isolation, layer by layer:

- **Filesystem**: bubblewrap gives the server an allow-listed view: ``/usr`` (read-only), the dynamic
  loader's cache, a private size-capped tmpfs for work dirs, minimal ``/dev`` and ``/proc``. The host's
  ``/work``, ``/root``, ``/home``, ``/tmp`` and the project's data (hidden tests!) do not exist in there.
- **Network**: a fresh network namespace with only its own loopback: the host's loopback is unreachable.
- **Processes**: a private pid namespace per worker; each job runs as the worker's own unprivileged uid
  (one uid per worker, locked with ``flock`` across processes, so ``RLIMIT_NPROC`` really bounds the
  job), with ``no_new_privs`` and no capabilities; after every job the server stops (or kills) every
  process left in its namespace (``setsid`` daemons included) before answering, and kills and reaps
  them all before the next job.
- **Resources**: rlimits for CPU, address space, file size, open files, processes; wall clock enforced
  from outside; stdout/stderr capped by the client.
- **Environment**: scrubbed: the server starts with an empty environment, jobs get a fixed one.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feedback_gym.errors import SandboxUnavailableError
from feedback_gym.sandboxes import _forkserver as wire
from feedback_gym.sandboxes.config import LocalConfig
from feedback_gym.sandboxes.pool import PooledSandbox, Worker

SERVER_SOURCE = Path(__file__).with_name("_forkserver.py")
#: Where the server script appears inside the boundary.
SERVER_PATH = "/opt/feedback-gym/forkserver.py"
JUDGE_SOURCE = Path(__file__).with_name("_judge.py")
#: The judge sits next to the server so the server can import it once (``feedback_gym_judge``).
JUDGE_PATH = "/opt/feedback-gym/feedback_gym_judge.py"
#: Work dirs live on a private tmpfs of this size (a disk-fill attack ends here, not on the host).
WORK_TMPFS_BYTES = 512 * 1024 * 1024
#: Directory of the per-uid lock files (one worker per uid across every process on the machine).
UID_LOCK_DIR = Path(tempfile.gettempdir()) / "feedback-gym-sandbox-uids"
#: Capabilities the *server* keeps (to drop to the job uid, chown work dirs and kill leftovers);
#: jobs lose all of them at ``setuid``.
SERVER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")
STARTUP_TIMEOUT = 20.0
_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="feedback-gym-sandbox-spawner")


def find_python() -> str:
    """An interpreter any uid may execute (pyenv's lives in root's 0700 home; Debian's does not)."""
    for candidate in ("/usr/bin/python3.11", "/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise SandboxUnavailableError("the local sandbox needs a python3 in /usr (apt-get install python3)")


def bwrap_argv(python: str, uid: int) -> list[str]:
    """The bubblewrap command line that starts one fork server."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailableError("the local sandbox needs bubblewrap: apt-get install -y bubblewrap")
    argv = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--clearenv",
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
    # bubblewrap makes missing parent dirs 0700: jobs (another uid) could not read the loader's cache
    # or the judge's file behind them.
    argv += ["--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/opt"]
    argv += ["--perms", "0755", "--dir", str(Path(SERVER_PATH).parent)]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"):
        if os.path.exists(etc):
            argv += ["--ro-bind", etc, etc]
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(WORK_TMPFS_BYTES),
        "--perms",
        "0755",
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        str(SERVER_SOURCE),
        SERVER_PATH,
        "--ro-bind",
        str(JUDGE_SOURCE),
        JUDGE_PATH,
        "--chdir",
        "/",
    ]
    for cap in SERVER_CAPS:
        argv += ["--cap-add", cap]
    argv += [
        python,
        "-I",
        "-S",
        SERVER_PATH,
        "--fd",
        "0",
        "--uid",
        str(uid),
        "--gid",
        str(uid),
        "--root",
        "/tmp/jobs",
        "--python",
        python,
    ]
    return argv


def lock_uid(base: int, count: int) -> tuple[int, int]:
    """Lock a free uid in ``[base, base + count)``; returns (uid, lock fd). The lock dies with the fd."""
    UID_LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    offset = random.randrange(count)
    for i in range(count):
        uid = base + (offset + i) % count
        fd = os.open(UID_LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return uid, fd
    raise SandboxUnavailableError(f"all {count} sandbox uids from {base} are in use")


class LocalWorker(Worker):
    """One bubblewrap-contained fork server with its own uid."""

    def __init__(self, config: LocalConfig, python: str) -> None:
        super().__init__()
        self.config = config
        self.python = python
        self.process: subprocess.Popen[bytes] | None = None
        self.uid = -1
        self._uid_fd = -1

    def start(self) -> None:
        """Lock a uid (once) and start bubblewrap with the fork server; wait for its hello."""
        if self._uid_fd < 0:
            self.uid, self._uid_fd = lock_uid(self.config.uid_base, self.config.uid_count)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # bwrap's --die-with-parent follows the *thread* that forked it, so every server is
            # spawned from one long-lived thread, never from a caller's short-lived one.
            self.process = _SPAWNER.submit(
                subprocess.Popen,
                bwrap_argv(self.python, self.uid),
                stdin=theirs,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL if not os.environ.get("FEEDBACK_GYM_SANDBOX_DEBUG") else None,
                env={},
                start_new_session=True,
                close_fds=True,
            ).result()
        finally:
            theirs.close()
        ours.settimeout(STARTUP_TIMEOUT)
        try:
            hello, _ = wire.recv_message(ours)
        except (OSError, EOFError, ValueError) as err:
            ours.close()
            self.kill()
            raise SandboxUnavailableError(
                f"the local fork server did not start ({err}); "
                "run with FEEDBACK_GYM_SANDBOX_DEBUG=1 to see why"
            ) from err
        ours.settimeout(None)
        if not hello.get("ready"):
            raise SandboxUnavailableError(f"unexpected hello from the fork server: {hello!r}")
        self.sock = ours

    def kill(self) -> None:
        """Stop the server we started (by its PID; bwrap's --die-with-parent takes the rest down)."""
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

    def alive(self) -> bool:
        """The bubblewrap process we started still runs and the socket has not hung up."""
        return self.process is not None and self.process.poll() is None and super().alive()

    def stop(self) -> None:
        """Stop the server for good and release the uid."""
        super().stop()
        if self._uid_fd >= 0:
            os.close(self._uid_fd)
            self._uid_fd = -1

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


class LocalSandbox(PooledSandbox):
    """The embedded default sandbox: ``config.workers`` warm fork servers inside bubblewrap."""

    name = "local"

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        if os.geteuid() != 0:
            raise SandboxUnavailableError(
                "the local sandbox needs root (it runs each job as its own unprivileged uid so process "
                "limits hold); run as root, or use sandbox='docker'"
            )
        python = find_python()
        super().__init__([LocalWorker(self.config, python) for _ in range(self.config.workers)])
