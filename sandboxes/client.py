"""The environment-side end of a fork server: send a job with its fds, read its capped output.

Both backends speak to the same server (``_forkserver.py``) over a Unix socket; they differ only in how
the server is started (bubblewrap here, a container there) and reached. This side creates the job's
stdin (a memfd) and its stdout/stderr/channel pipes, so the server never holds job input or output.
"""

from __future__ import annotations

import base64
import os
import selectors
import socket
import time

from feedback_gym.sandboxes import _wire as wire
from feedback_gym.sandboxes.base import (
    KILLED_CPU,
    KILLED_FILE_SIZE,
    KILLED_MEMORY,
    KILLED_SIGNAL,
    KILLED_TIMEOUT,
    TRUNCATION_MARKER,
    ExecResult,
    Job,
)

#: Extra seconds the client waits past a job's wall limit before it declares the server hung.
SERVER_GRACE_SECONDS = 10.0
_READ = 65536


class ServerDiedError(RuntimeError):
    """The fork server stopped answering; the worker must be restarted.

    ``sent`` is False when the job never reached the server (it can safely be retried elsewhere).
    """

    def __init__(self, message: str, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


def job_request(job: Job) -> dict:
    """The JSON request for one job (files base64-encoded; stdin travels as an fd, never here)."""
    return {
        "language": job.language,
        "source": job.source,
        "argv": list(job.argv),
        "files": {
            name: base64.b64encode(content.encode() if isinstance(content, str) else content).decode()
            for name, content in job.files.items()
        },
        "executables": list(job.executables),
        "collect": list(job.collect),
        "limits": dict(vars(job.limits)),  # a flat dataclass: no need for asdict's deep copy
        "env": dict(job.env),
        "judge": job.judge,
    }


def _stdin_fd(data: bytes) -> int:
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _CappedReader:
    """Collects up to ``cap`` bytes from a pipe; past the cap it closes the pipe (the writer gets EPIPE)."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd = fd
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)

    def read(self) -> bool:
        """Read what is there; return False once the stream is finished (EOF or capped)."""
        try:
            data = os.read(self.fd, _READ)
        except BlockingIOError:
            return True
        return bool(data) and self._keep(data)

    def _keep(self, data: bytes) -> bool:
        """Store data up to the cap; False once capped."""
        room = self.cap - self.size
        if len(data) > room:
            self.chunks.append(data[:room])
            self.size = self.cap
            self.truncated = True
            return False  # the caller closes the pipe now: a flooding writer gets EPIPE, not a stall
        self.chunks.append(data)
        self.size += len(data)
        return True

    def drain(self) -> None:
        """Read what the pipe holds now, without waiting for its writers to close it."""
        while True:
            try:
                data = os.read(self.fd, _READ)
            except BlockingIOError:
                return
            if not data or not self._keep(data):
                return

    def text(self) -> str:
        out = b"".join(self.chunks).decode("utf-8", "replace")
        return out + TRUNCATION_MARKER.format(n=self.cap) if self.truncated else out


def run_on_server(sock: socket.socket, job: Job) -> ExecResult:
    """Run one job on a connected fork server and build its result.

    Raises:
        ServerDiedError: the server closed the connection or did not answer in time.
    """
    limits = job.limits
    request = job_request(job)
    stdin_fd = _stdin_fd(job.stdin)
    pipes = [os.pipe() for _ in range(3 if job.channel else 2)]
    readers = [_CappedReader(r, limits.output_bytes) for r, _ in pipes]
    if job.channel:
        readers[2].cap = 4 * 1024 * 1024
    start = time.monotonic()
    try:
        try:
            wire.send_message(sock, request, [stdin_fd, *(w for _, w in pipes)])
        except OSError as err:
            raise ServerDiedError(f"cannot send the job to the fork server: {err}", sent=False) from err
        finally:
            os.close(stdin_fd)
            for _, w in pipes:
                os.close(w)
        reply = _wait(sock, readers, deadline=start + limits.wall_seconds + SERVER_GRACE_SECONDS)
    finally:
        for reader in readers:
            reader.close()
    if "error" in reply:
        return ExecResult.sandbox_error(f"fork server error: {reply['error']}", time.monotonic() - start)
    return _result(job, reply, readers)


def _wait(sock: socket.socket, readers: list[_CappedReader], deadline: float) -> dict:
    selector = selectors.DefaultSelector()
    try:
        for reader in readers:
            os.set_blocking(reader.fd, False)
            selector.register(reader.fd, selectors.EVENT_READ, reader)
        selector.register(sock, selectors.EVENT_READ, None)
        reply: dict | None = None
        while reply is None or selector.get_map().keys() - {sock.fileno()}:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise ServerDiedError("the fork server did not answer within the wall limit plus grace")
            for key, _ in selector.select(timeout):
                if key.data is None:
                    selector.unregister(sock)
                    try:
                        reply, _fds = wire.recv_request(sock, wire.SERVER_MAX_MESSAGE)
                    except (EOFError, OSError, ValueError) as err:
                        raise ServerDiedError(f"the fork server died: {err}") from err
                    for fd in _fds:
                        os.close(fd)
                    if reply.get("stopped"):
                        # Every process of the job was stopped before this answer: what they wrote is in
                        # the pipes now, and their ends close only when the server kills them, later.
                        for reader in readers:
                            if not reader.closed:
                                reader.drain()
                        return reply
                elif not key.data.read():
                    selector.unregister(key.fd)
                    key.data.close()
        return reply
    finally:
        selector.close()


def _result(job: Job, reply: dict, readers: list[_CappedReader]) -> ExecResult:
    exit_code = reply["exit_code"]
    out, err = readers[0], readers[1]
    stderr = err.text()
    reason = None
    message = ""
    if reply["timed_out"]:
        reason = KILLED_TIMEOUT
        message = f"killed after the wall-clock limit of {job.limits.wall_seconds:g} s"
    elif exit_code is not None and exit_code < 0:
        import signal

        sig = -exit_code
        cpu_spent = reply["cpu_seconds"] >= job.limits.cpu_seconds - 0.05
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_spent):
            reason, message = KILLED_CPU, f"killed after the CPU limit of {job.limits.cpu_seconds:g} s"
        elif sig == signal.SIGXFSZ:
            reason, message = KILLED_FILE_SIZE, f"killed for writing past {job.limits.file_size_mb} MiB"
        else:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            reason, message = KILLED_SIGNAL, f"killed by {name}"
    elif exit_code and "MemoryError" in stderr[-2000:].rsplit("Traceback", 1)[-1]:
        reason, message = KILLED_MEMORY, f"ran out of memory (limit {job.limits.memory_mb} MiB)"
    return ExecResult(
        exit_code=exit_code,
        stdout=out.text(),
        stderr=stderr,
        timed_out=bool(reply["timed_out"]),
        killed_reason=reason,
        duration=float(reply["duration"]),
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        files={name: base64.b64decode(data) for name, data in reply.get("files", {}).items()},
        channel=b"".join(readers[2].chunks) if job.channel else None,
        message=message,
    )
