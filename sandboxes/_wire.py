"""The sandbox's message framing: a 4-byte big-endian length, then a JSON body. Standard library only.

Three parties speak it: the environment process and the fork server (``_forkserver.py``, requests and
replies, with file descriptors on a request's first bytes), and the test judge and its candidate
(``_judge.py``, calls and results). On the host this module is ``feedback_gym.sandboxes._wire``; inside
the boundary it is shipped read-only next to the server and the judge as ``feedback_gym_wire.py`` (a
bubblewrap ``--ro-bind-data`` file, or a read-only bind mount in the Docker container; see
``local.py``) and imported by the server at start, before any program exists, so the judge reads its
messages with code the program cannot write.

Every read is bounded: a message over the reader's ``max_bytes`` is refused before its body is read, and
with a ``deadline`` the *whole* message must arrive by then, so a peer that trickles one byte at a time
gains nothing. This module also names the kinds of test outcome the judge reports (the host's
``feedback_gym.verdict`` uses the same strings; a test pins them equal).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import time

#: The file name of this module inside the boundary (next to the fork server and the judge).
SHIPPED_NAME = "feedback_gym_wire.py"
HEADER = struct.Struct(">I")
#: The largest message between the environment process and a fork server (a job's files travel in it).
SERVER_MAX_MESSAGE = 256 * 1024 * 1024

#: Kinds of a failed test, as the judge reports them (``feedback_gym.verdict`` holds the same strings).
WRONG_ANSWER = "wrong_answer"
RUNTIME_ERROR = "runtime_error"
TIMEOUT = "timeout"
INTERNAL_ERROR = "internal_error"
NOT_RUN = "not_run"  # an earlier test timed out or the check's time budget was spent


class MessageTooLarge(ValueError):
    """A message announced more bytes than its reader accepts."""


def encode(message: object) -> bytes:
    r"""One framed message.

    >>> encode({"ok": 1})
    b'\x00\x00\x00\t{"ok": 1}'
    """
    body = json.dumps(message).encode()
    return HEADER.pack(len(body)) + body


def send_message(sock: socket.socket, message: object, fds: list[int] | None = None) -> None:
    """Send one message; ``fds`` travel as ancillary data on its first bytes."""
    data = encode(message)
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    if data:
        sock.sendall(data)


def recv_exact(sock: socket.socket, n: int, deadline: float | None = None) -> bytes:
    """Exactly ``n`` bytes; ``EOFError`` if the peer hangs up first, ``TimeoutError`` after ``deadline``."""
    chunks = []
    while n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the message did not arrive in time")
            sock.settimeout(remaining)
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("the peer closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_message(
    sock: socket.socket, max_bytes: int, deadline: float | None = None, head: bytes = b""
) -> object:
    """One message of at most ``max_bytes`` (``head``: header bytes the caller already read)."""
    if len(head) < HEADER.size:
        head += recv_exact(sock, HEADER.size - len(head), deadline)
    (size,) = HEADER.unpack(head)
    if size > max_bytes:
        raise MessageTooLarge(f"a message of {size} bytes is over the {max_bytes} limit")
    return json.loads(recv_exact(sock, size, deadline))


def recv_request(sock: socket.socket, max_bytes: int, max_fds: int = 8) -> tuple[dict, list[int]]:
    """One message that must be a JSON object, with the file descriptors sent on its first bytes."""
    head, fds, _flags, _addr = socket.recv_fds(sock, HEADER.size, max_fds)
    if not head:
        close_fds(fds)
        raise EOFError("the peer closed the connection")
    try:
        message = recv_message(sock, max_bytes, head=head)
        if not isinstance(message, dict):
            raise ValueError("a message must be a JSON object")
    except BaseException:
        close_fds(fds)
        raise
    return message, list(fds)


def close_fds(fds: list[int]) -> None:
    """Close every fd in ``fds``, ignoring those already closed."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
