"""The sandbox's one wire module: framing, bounds, and the outcome kinds it shares with verdicts."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from feedback_gym import verdict
from feedback_gym.sandboxes import _wire as wire
from feedback_gym.sandboxes import harness
from feedback_gym.sandboxes.local import SHIPPED_FILES, WIRE_PATH


def test_a_message_round_trips_with_its_file_descriptors() -> None:
    left, right = socket.socketpair()
    read_end, write_end = os.pipe()
    with left, right:
        wire.send_message(left, {"job": 1, "text": "é" * 10}, [read_end])
        message, fds = wire.recv_request(right, wire.SERVER_MAX_MESSAGE)
        assert message == {"job": 1, "text": "é" * 10} and len(fds) == 1
        os.write(write_end, b"x")
        assert os.read(fds[0], 1) == b"x"
    wire.close_fds([read_end, write_end, *fds])


def test_an_oversized_message_is_refused_before_its_body_is_read() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(wire.HEADER.pack(10**9))  # announces a gigabyte, sends nothing more
        right.settimeout(5)
        with pytest.raises(wire.MessageTooLarge, match="over the 1024 limit"):
            wire.recv_message(right, 1024)


def test_a_request_that_is_not_an_object_is_refused_and_its_fds_closed() -> None:
    left, right = socket.socketpair()
    read_end, write_end = os.pipe()
    with left, right:
        wire.send_message(left, [1, 2], [read_end])
        with pytest.raises(ValueError, match="JSON object"):
            wire.recv_request(right, 1024)
    os.close(read_end)
    try:
        with pytest.raises(BrokenPipeError):  # no read end is left open: the received copy was closed
            os.write(write_end, b"x")
    finally:
        os.close(write_end)


def test_a_trickling_peer_gains_nothing_past_the_deadline() -> None:
    left, right = socket.socketpair()
    stop = threading.Event()

    def trickle() -> None:
        data = wire.encode({"padding": "x" * 200})
        for byte in data:
            if stop.is_set():
                return
            left.send(bytes([byte]))
            time.sleep(0.05)

    sender = threading.Thread(target=trickle)
    sender.start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            wire.recv_message(right, 1024, deadline=time.monotonic() + 0.5)
        assert time.monotonic() - started < 2
    finally:
        stop.set()
        sender.join()
        left.close()
        right.close()


def test_a_hang_up_mid_message_is_an_eof() -> None:
    left, right = socket.socketpair()
    with right:
        left.sendall(wire.encode({"a": 1})[:6])
        left.close()
        with pytest.raises(EOFError):
            wire.recv_message(right, 1024)


def test_the_judge_reports_the_kinds_verdicts_and_the_harness_use() -> None:
    assert (wire.WRONG_ANSWER, wire.RUNTIME_ERROR, wire.TIMEOUT, wire.INTERNAL_ERROR) == (
        verdict.WRONG_ANSWER, verdict.RUNTIME_ERROR, verdict.TIMEOUT, verdict.INTERNAL_ERROR
    )
    assert harness.NOT_RUN is wire.NOT_RUN and harness.TIMEOUT is verdict.TIMEOUT


def test_the_wire_module_is_shipped_read_only_beside_the_server_and_the_judge() -> None:
    assert str(SHIPPED_FILES[WIRE_PATH]) == wire.__file__
    assert len({os.path.dirname(path) for path in SHIPPED_FILES}) == 1
    source = open(wire.__file__, encoding="utf-8").read()
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "json", "os", "socket", "struct", "time"}  # standard library only
