"""The warm fork server that runs inside the isolation boundary (bubblewrap or a Docker container).

This file is *standard library only* and is started as ``python3.11 -I -S _forkserver.py ...`` inside the
boundary; it is never imported by the environment process. It owns no job data beyond the job's files:

- The client (the environment process, or nothing else) creates the job's stdin as a memfd and the
  stdout/stderr/channel pipes itself and passes the file descriptors over a Unix socket (SCM_RIGHTS).
  So the server never reads a job's input or output: a job cannot find another job's hidden tests or
  verdicts in leftover heap memory of the process it was forked from.
- Per job: a fresh work dir and a process forked from the server *before* the job arrived (the
  ``Zygote``: already in its own session, under the worker's unprivileged uid with ``no_new_privs``, in
  a scrubbed environment, holding nothing but a socket to the server), so a job starts with one message.
  On that message it takes the job's fds and rlimits and runs it: Python jobs in the already-warm
  interpreter (no exec), other jobs by ``execve``.
- The server waits on a pidfd with the wall-clock deadline and kills the job on timeout; a Python job
  instead reports its exit code on its socket as its last act. Then *every* process that is left is
  signalled (``kill(-1, ...)`` reaches all processes of the namespace except its init and the server,
  ``setsid`` daemons included): after a report they are stopped, the caller gets its answer, and only
  then are they killed and reaped (the kernel's tear-down of a forked interpreter costs ~1 ms of CPU);
  otherwise they are killed and reaped before the answer. Either way nothing of a job runs after its
  answer, and the next job's process is forked only once they are gone.

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
#: What a Python job reports to the server as it ends: exit code and CPU seconds (see ``report_status``).
_STATUS = struct.Struct(">id")
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


class Zygote:
    """A job process forked *before* its job arrives, already in its session, uid and environment.

    Why: forking the warm interpreter, the copy-on-write faults that follow and dropping privileges cost
    about 2 ms, most of a short job. The server pays them right after answering the previous job, while
    the caller reads its result, so a job starts with one message to a process that is already waiting.
    The zygote holds nothing of any job: it is forked after the previous job's processes were killed.
    Its only link to the server, a socket, becomes the job's status line (``report_status``): the one
    thing the server reads from it is a fixed-size report, which can only end the job early.
    """

    def __init__(self, pid: int, sock: socket.socket, workdir: str) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.sock = sock
        self.workdir = workdir

    def close(self) -> None:
        """Close the server's ends (the pidfd, the socket); the process itself is killed and reaped."""
        self.sock.close()
        os.close(self.pidfd)


class Server:
    """Serves jobs one at a time for one worker (one uid, one work root)."""

    def __init__(self, sock: socket.socket, uid: int, gid: int, root: str, python: str) -> None:
        self.sock = sock
        self.uid = uid
        self.gid = gid
        self.root = root
        self.python = python
        self.counter = 0
        self.zygote: Zygote | None = None
        #: The job that reported its end: its processes are stopped, to be killed after the reply.
        self.deferred: Zygote | None = None

    def serve(self) -> None:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        os.chmod(os.path.dirname(self.root), 0o755)  # a tmpfs may come up 0700: jobs must traverse it
        send_message(self.sock, {"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        self.finish_deferred()
        while True:
            try:
                request, fds = recv_message(self.sock)
            except EOFError:
                return
            try:
                reply = self.run_job(request, fds)
            except Exception:  # noqa: BLE001 - report, never die on one bad request
                reply = {"error": traceback.format_exc()}
                self.kill_leftovers()
            finally:
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            send_message(self.sock, reply)
            self.finish_deferred()

    def next_workdir(self) -> str:
        self.counter += 1
        return os.path.join(self.root, f"job{self.counter}")

    # -- one job -------------------------------------------------------------------------------
    def run_job(self, request: dict, fds: list[int]) -> dict:
        zygote, self.zygote = self.zygote, None
        if zygote is None:
            zygote = self.spawn(self.next_workdir())
        workdir = zygote.workdir
        deferred = False
        try:
            self.write_files(request, workdir)
            job = {key: request.get(key) for key in ("language", "argv", "limits", "env", "nproc")}
            start = time.monotonic()
            try:
                send_message(zygote.sock, job, fds)
            except OSError:  # the zygote died while it waited (never expected): one fresh try
                self.kill_leftovers()
                zygote.close()
                zygote = self.spawn(workdir)
                start = time.monotonic()
                send_message(zygote.sock, job, fds)
            for fd in fds:
                os.close(fd)
            fds.clear()
            reply = self.wait_job(zygote, float(request["limits"]["wall_seconds"]), start)
            if reply.pop("reported") and not request.get("collect"):
                # Every process is stopped. Killing them makes the kernel tear them down (~1 ms of CPU
                # each, which would keep this server off the cores): that happens right after the reply.
                self.deferred = zygote
                deferred = True
                reply["files"] = {}
                reply["stopped"] = True  # the caller reads the pipes now, not waiting for EOF
                return reply
            self.kill_leftovers()
            reply["files"] = self.collect(request, workdir)
            shutil.rmtree(workdir, ignore_errors=True)
            return reply
        finally:
            if not deferred:
                zygote.close()

    def wait_job(self, zygote: Zygote, wall_seconds: float, start: float) -> dict:
        """Wait for the job's status report or its exit, or kill it at the wall-clock limit.

        A Python job reports (exit code, CPU seconds) on its socket as its last act; that report ends
        it: every process is stopped at once, and killed once the caller has its answer. A report can
        only end a job early, never extend or excuse it, so a program forging one gains nothing it could
        not get from ``os._exit``. Anything but a well-formed report (an exec'd program closes the
        socket; a program may write junk) is ignored, and the job's exit is awaited instead.
        """
        watched = [zygote.sock, zygote.pidfd]
        deadline = start + wall_seconds
        while True:
            ready, _, _ = select.select(watched, [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(zygote.pid, signal.SIGKILL)
                return self.reap_job(zygote, start, timed_out=True)
            if zygote.pidfd in ready:
                return self.reap_job(zygote, start, timed_out=False)
            try:
                data = zygote.sock.recv(64, socket.MSG_DONTWAIT)
            except OSError:
                data = b""
            if len(data) == _STATUS.size:
                code, cpu = _STATUS.unpack(data)
                duration = time.monotonic() - start
                self.kill_all(signal.SIGSTOP)  # nothing of the job runs past this; killed after the reply
                return {
                    "exit_code": code & 0xFF,
                    "timed_out": False,
                    "duration": duration,
                    "cpu_seconds": cpu,
                    "reported": True,
                }
            # EOF or junk: only the exit counts now, and a report still to come must not wait for us.
            watched = [zygote.pidfd]
            try:
                zygote.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def reap_job(zygote: Zygote, start: float, timed_out: bool) -> dict:
        _, status, rusage = os.wait4(zygote.pid, 0)
        return {
            "exit_code": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out,
            "duration": time.monotonic() - start,
            "cpu_seconds": rusage.ru_utime + rusage.ru_stime,
            "reported": False,
        }

    def finish_deferred(self) -> None:
        """After the reply: kill and reap the last job's processes, drop its dir, fork the next job's."""
        if self.deferred is not None:
            self.kill_leftovers()
            self.deferred.close()
            shutil.rmtree(self.deferred.workdir, ignore_errors=True)
            self.deferred = None
        if self.zygote is None:
            self.zygote = self.spawn(self.next_workdir())

    def write_files(self, request: dict, workdir: str) -> None:
        """Create the job's work dir with its files, owned by the job's uid."""
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

    @staticmethod
    def collect(request: dict, workdir: str) -> dict[str, str]:
        """The files the job asked to bring back (base64), never following a link out of its dir."""
        collected = {}
        for name in request.get("collect", ()):
            path = os.path.join(workdir, name)
            # The job controls its directory: never follow a link out of it (we read as root).
            inside = os.path.realpath(path).startswith(os.path.realpath(workdir) + os.sep)
            if inside and os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    collected[name] = base64.b64encode(fh.read(64 * 1024 * 1024)).decode()
        return collected

    @staticmethod
    def kill_all(sig: int = signal.SIGKILL) -> None:
        """Signal every process of this namespace but ourselves (``setsid`` daemons included)."""
        try:
            os.kill(-1, sig)
        except ProcessLookupError:
            pass  # nothing left

    def kill_leftovers(self) -> None:
        """Kill and reap every process left in this namespace (daemons, orphans) except ourselves."""
        self.kill_all()
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return

    # -- the job process -----------------------------------------------------------------------
    def spawn(self, workdir: str) -> Zygote:
        """Fork the process that will run the next job, in ``workdir`` (see :class:`Zygote`)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                self.child(theirs, workdir)
            finally:
                os._exit(127)
        theirs.close()
        return Zygote(pid, ours, workdir)

    def child(self, sock: socket.socket, workdir: str) -> None:
        """Drop to the job's uid, wait for the job, set it up and become it. Never returns."""
        try:
            os.setsid()
            keep = sock.fileno()
            os.closerange(0, keep)  # the server's socket and every other fd of the server
            os.closerange(keep + 1, 1 << 16)
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
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)
            prctl(PR_SET_NO_NEW_PRIVS, 1)
            prctl(PR_SET_DUMPABLE, 1)  # a normal process for itself; the harness turns this off
            os.environ.clear()
            os.environ.update(
                {
                    "PATH": "/usr/local/bin:/usr/bin:/bin",
                    "HOME": workdir,
                    "TMPDIR": workdir,
                    "LANG": "C.UTF-8",
                    "LC_ALL": "C.UTF-8",
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONHASHSEED": "0",
                    "PYTHONIOENCODING": "utf-8",
                }
            )
        except BaseException:  # noqa: BLE001
            os._exit(126)
        try:
            request, fds = recv_message(sock)
        except BaseException:  # noqa: BLE001 - the server went away: no job will come
            os._exit(0)
        try:
            # The job's fds become 0..n-1 and the socket fd n, the job's status line to the server.
            own = sock.detach()
            spare = max([own, *fds]) + 1  # a free number above all of them, out of every dup2's way
            os.dup2(own, spare)
            for target, fd in enumerate(fds):  # fds arrive lowest-first, so no dup2 clobbers a later one
                os.dup2(fd, target)
            status_fd = len(fds)
            os.dup2(spare, status_fd, inheritable=False)  # close-on-exec: an exec'd program drops it
            os.closerange(status_fd + 1, 1 << 16)
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
            os.environ.update(request.get("env") or {})
        except BaseException:  # noqa: BLE001
            os.write(2, b"sandbox: job set-up failed\n" + traceback.format_exc().encode())
            os._exit(126)
        argv = list(request.get("argv") or ())
        if request.get("language") == "python":
            status_line = os.fstat(status_fd)
            report_status(run_python(workdir, argv), status_fd, (status_line.st_dev, status_line.st_ino))
        try:
            if argv and argv[0] in ("python", "python3"):
                argv[0] = self.python
            os.execvpe(argv[0], argv, dict(os.environ))
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


def report_status(code: int, status_fd: int, identity: tuple[int, int]) -> None:
    """End a Python job: close its output (the caller sees EOF now), tell the server how it ended, wait.

    The server then stops every process of the job, answers, and only then kills them: the kernel's
    tear-down of an exiting interpreter (~1 ms of CPU) does not delay the answer. If the program
    replaced or closed the status fd (``identity`` is its device and inode), or the server stopped
    listening after junk on it, the job simply exits and the server goes by the exit.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    os.closerange(0, status_fd)
    try:
        line = os.fstat(status_fd)
        if (line.st_dev, line.st_ino) == identity:
            status = socket.socket(fileno=status_fd)
            status.send(_STATUS.pack(code, cpu), socket.MSG_NOSIGNAL)
            status.recv(1)  # the server stops and kills us; EOF if it stopped listening or went away
    except OSError:
        pass
    os._exit(code)


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
