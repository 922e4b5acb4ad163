"""The warm fork server that runs inside the isolation boundary (bubblewrap or a Docker container).

This file is *standard library only* and is started as ``python3.11 -I -S _forkserver.py ...`` inside the
boundary; it is never imported by the environment process. It owns no job data beyond the job's files:

- The client (the environment process, or nothing else) creates the job's stdin as a memfd and the
  stdout/stderr/channel pipes itself and passes the file descriptors over a Unix socket (SCM_RIGHTS).
  So the server never reads a job's input or output: a job cannot find another job's hidden tests or
  verdicts in leftover heap memory of the process it was forked from.
- Per job: a fresh work dir; a fork; in the child ``setsid``, rlimits, a scrubbed environment, then the
  drop to the worker's unprivileged uid with ``no_new_privs`` (no capabilities survive); Python jobs run
  in the already-warm interpreter (no exec), other jobs ``execve``.
- The server waits on a pidfd with the wall-clock deadline, kills the job on timeout, and then kills
  *every* process that is left (``kill(-1, SIGKILL)`` kills all processes of the namespace except the
  namespace's init and the server itself, including ``setsid`` daemons), reaping them as a child
  subreaper. Only then does it answer, so nothing outlives a job.

Wire format (both directions): 4-byte big-endian length, then a JSON object. A job request carries its
fds [stdin, stdout, stderr, (channel)] as ancillary data on its first bytes.
"""

from __future__ import annotations

# Modules a typical checked program imports: loading them once here makes every fork warm.
import ast  # noqa: F401
import base64
import bisect  # noqa: F401
import collections  # noqa: F401
import ctypes
import functools  # noqa: F401
import heapq  # noqa: F401
import io
import itertools  # noqa: F401
import json
import math  # noqa: F401
import os
import random  # noqa: F401
import re  # noqa: F401
import resource
import select
import shutil
import signal
import socket
import string  # noqa: F401
import struct
import sys
import time
import traceback
import typing  # noqa: F401


def _import_judge() -> None:
    """Import the test judge mounted next to this file, so a harness job skips compiling it (~5 ms).

    ``-I`` leaves the script's directory off ``sys.path``, so it is added for this one import only.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(os.path.join(here, "feedback_gym_judge.py")):
        return
    sys.path.insert(0, here)
    try:
        import feedback_gym_judge  # noqa: F401
    except ImportError:
        pass
    finally:
        sys.path.remove(here)

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
_libc = ctypes.CDLL(None, use_errno=True)
_HEADER = struct.Struct(">I")
MAX_MESSAGE = 256 * 1024 * 1024
#: The server cleans up after a job with ``kill(-1)``, which is only safe as one of the first processes
#: of its own pid namespace (bubblewrap's ``--unshare-pid``, a container). Past this pid it refuses to run.
MAX_NAMESPACE_PID = 16


def prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_message(sock: socket.socket) -> tuple[dict, list[int]]:
    head, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 8)
    if not head:
        raise EOFError("connection closed")
    if len(head) < _HEADER.size:
        head += recv_exact(sock, _HEADER.size - len(head))
    (size,) = _HEADER.unpack(head)
    if size > MAX_MESSAGE:
        raise ValueError("message too large")
    return json.loads(recv_exact(sock, size)), list(fds)


def send_message(sock: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    if data:
        sock.sendall(data)


class Server:
    """Serves jobs one at a time for one worker (one uid, one work root)."""

    def __init__(self, sock: socket.socket, uid: int, gid: int, root: str, python: str) -> None:
        self.sock = sock
        self.uid = uid
        self.gid = gid
        self.root = root
        self.python = python
        self.counter = 0

    def serve(self) -> None:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        os.chmod(os.path.dirname(self.root), 0o755)  # a tmpfs may come up 0700: jobs must traverse it
        send_message(self.sock, {"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        while True:
            try:
                request, fds = recv_message(self.sock)
            except EOFError:
                return
            try:
                reply = self.run_job(request, fds)
            except Exception:  # noqa: BLE001 - report, never die on one bad request
                reply = {"error": traceback.format_exc()}
            finally:
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            send_message(self.sock, reply)

    # -- one job -------------------------------------------------------------------------------
    def run_job(self, request: dict, fds: list[int]) -> dict:
        self.counter += 1
        workdir = os.path.join(self.root, f"job{self.counter}")
        shutil.rmtree(workdir, ignore_errors=True)
        os.mkdir(workdir, 0o700)
        files = dict(request.get("files", {}))
        if request.get("language") == "python":
            files.setdefault("main.py", base64.b64encode(request.get("source", "").encode()).decode())
        for name, content in files.items():
            path = os.path.join(workdir, name)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(content))
            os.chmod(path, 0o755 if name in request.get("executables", ()) else 0o644)
        for dirpath, dirnames, filenames in os.walk(workdir):
            for name in [*dirnames, *filenames]:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid)
        os.chown(workdir, self.uid, self.gid)

        limits = request["limits"]
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the job
            try:
                self.child(request, fds, workdir)
            finally:
                os._exit(127)
        for fd in fds:
            os.close(fd)
        fds.clear()
        timed_out = False
        pidfd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([pidfd], [], [], float(limits["wall_seconds"]))
            if not ready:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
        finally:
            os.close(pidfd)
        _, status, rusage = os.wait4(pid, 0)
        duration = time.monotonic() - start
        self.kill_leftovers()
        collected = {}
        for name in request.get("collect", ()):
            path = os.path.join(workdir, name)
            # The job controls its directory: never follow a link out of it (we read as root).
            inside = os.path.realpath(path).startswith(os.path.realpath(workdir) + os.sep)
            if inside and os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    collected[name] = base64.b64encode(fh.read(64 * 1024 * 1024)).decode()
        shutil.rmtree(workdir, ignore_errors=True)
        exit_code = os.waitstatus_to_exitcode(status)
        return {
            "exit_code": exit_code,
            "timed_out": timed_out,
            "duration": duration,
            "cpu_seconds": rusage.ru_utime + rusage.ru_stime,
            "files": collected,
        }

    def kill_leftovers(self) -> None:
        """Kill and reap every process left in this namespace (daemons, orphans) except ourselves."""
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass  # nothing left
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return

    def child(self, request: dict, fds: list[int], workdir: str) -> None:
        """Set up and become the job. Never returns."""
        try:
            os.setsid()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            os.closerange(len(fds), 1 << 16)
            if len(fds) < 4:  # no channel: fd 3 stays closed
                pass
            for sig in (
                signal.SIGPIPE,
                signal.SIGINT,
                signal.SIGTERM,
                signal.SIGHUP,
                signal.SIGXFSZ,
                signal.SIGXCPU,
                signal.SIGCHLD,
            ):
                signal.signal(sig, signal.SIG_DFL)
            os.chdir(workdir)
            limits = request["limits"]
            cpu = max(1, int(-(-float(limits["cpu_seconds"]) // 1)))
            memory = int(limits["memory_mb"]) * 1024 * 1024
            fsize = int(limits["file_size_mb"]) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits["open_files"]),) * 2)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if request.get("nproc", True):
                resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]),) * 2)
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)
            prctl(PR_SET_NO_NEW_PRIVS, 1)
            prctl(PR_SET_DUMPABLE, 1)  # a normal process for itself; the harness turns this off
            env = {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "HOME": workdir,
                "TMPDIR": workdir,
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONHASHSEED": "0",
                "PYTHONIOENCODING": "utf-8",
            }
            env.update(request.get("env", {}))
            os.environ.clear()
            os.environ.update(env)
        except BaseException:  # noqa: BLE001
            os.write(2, b"sandbox: job set-up failed\n" + traceback.format_exc().encode())
            os._exit(126)
        argv = list(request.get("argv", ()))
        if request.get("language") == "python":
            os._exit(run_python(workdir, argv))
        try:
            if argv and argv[0] in ("python", "python3"):
                argv[0] = self.python
            os.execvpe(argv[0], argv, env)
        except OSError as err:
            os.write(2, f"sandbox: cannot execute {argv[0]!r}: {err.strerror}\n".encode())
            os._exit(127)


def run_python(workdir: str, argv: list[str]) -> int:
    """Run ``main.py`` as ``__main__`` in this (forked, warm) interpreter; return the exit code."""
    import types

    sys.stdin = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="surrogateescape"
    )
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="backslashreplace"
    )
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    sys.argv = ["main.py", *argv]
    sys.path[0] = workdir
    main = types.ModuleType("__main__")
    main.__file__ = os.path.join(workdir, "main.py")
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    code = 0
    try:
        with open("main.py", "rb") as fh:
            source = fh.read()
        exec(compile(source, "main.py", "exec"), main.__dict__)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # noqa: BLE001 - the program's own error: report it like python does
        try:
            sys.excepthook(*sys.exc_info())
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        code = 1
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # noqa: BLE001
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed pipe (capped output) is not our problem
            pass
    return code


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except BaseException:  # noqa: BLE001
        pass
    return 1


def main(args: list[str]) -> None:
    if os.getpid() > MAX_NAMESPACE_PID:
        sys.exit(
            f"fork server: refusing to run as pid {os.getpid()}: it must start in its own pid namespace "
            "(after each job it kills every other process it can see)"
        )
    _import_judge()
    options = dict(zip(args[::2], args[1::2], strict=False))
    if "--connect" in options:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(options["--connect"])
    else:
        sock = socket.socket(fileno=int(options.get("--fd", "0")))
    server = Server(
        sock,
        int(options["--uid"]),
        int(options["--gid"]),
        options["--root"],
        options.get("--python", sys.executable),
    )
    server.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
