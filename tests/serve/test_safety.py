"""The server as a network service: loopback by default, a token elsewhere, bounds on everything.

All traffic is on loopback; no test binds anything but 127.0.0.1.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from websockets.sync.client import connect

from feedback_gym.errors import ConfigError, RemoteEnvError
from feedback_gym.remote import RemoteEnv
from feedback_gym.serve.config import ServeConfig
from tests.serve.conftest import slow_server

TOKEN = "a-test-token-of-enough-length"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _ws(url: str, **kwargs):
    return connect(url.replace("http://", "ws://") + "/ws", proxy=None, open_timeout=10, **kwargs)


def _healthy(url: str, token: str | None = None) -> bool:
    request = urllib.request.Request(url + "/health")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    return json.loads(_OPENER.open(request, timeout=10).read())["status"] == "healthy"


def _active_sessions_free(url: str, timeout_s: float) -> RemoteEnv:
    """A new session, retried until the server has a free slot (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return RemoteEnv(url)
        except RemoteEnvError as err:
            if "full" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def test_non_loopback_binds_need_a_long_token():
    with pytest.raises(ConfigError, match="without a token"):
        ServeConfig(env_id="CodeFeedback-v0", host="0.0.0.0")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        ServeConfig(env_id="CodeFeedback-v0", host="0.0.0.0", token="short")
    assert ServeConfig(env_id="CodeFeedback-v0", host="0.0.0.0", token=TOKEN).token == TOKEN
    assert ServeConfig(env_id="CodeFeedback-v0").host == "127.0.0.1"  # the default is loopback
    for bad in ({"max_sessions": 0}, {"step_timeout_s": -1}, {"max_request_bytes": 1.5}, {"port": 70000}):
        with pytest.raises(ConfigError):
            ServeConfig(env_id="CodeFeedback-v0", **bad)


def test_the_cli_refuses_to_start_on_a_public_address_without_a_token(capsys, monkeypatch):
    from feedback_gym.cli import main

    monkeypatch.delenv("FEEDBACK_GYM_SERVE_TOKEN", raising=False)
    assert main(["serve", "CodeFeedback-v0", "--host", "0.0.0.0"]) == 2
    assert "without a token" in capsys.readouterr().err
    assert main(["serve", "CodeFeedback-v0", "--env-kwargs", "[1]"]) == 2
    assert "JSON object" in capsys.readouterr().err
    assert main(["serve", "NoSuchEnv-v0"]) == 2
    assert "registered ids: Countdown-v0" in capsys.readouterr().err


@pytest.mark.slow
def test_every_request_must_carry_the_token():
    with slow_server("--token", TOKEN) as server:
        with pytest.raises(urllib.error.HTTPError) as refused:
            _OPENER.open(server.url + "/health", timeout=10)
        assert refused.value.code == 401 and "token" in refused.value.read().decode()
        with pytest.raises(RemoteEnvError, match="401"):
            RemoteEnv(server.url, token="a-wrong-token-of-enough-length")
        with pytest.raises(Exception, match="401"):
            _ws(server.url).recv(timeout=5)
        env = RemoteEnv(server.url, token=TOKEN)
        assert env.reset(seed=0)[0] == "say something"
        env.close()
        assert _healthy(server.url, TOKEN)


@pytest.mark.slow
def test_sessions_are_bounded_and_a_client_that_vanishes_frees_its_session():
    with slow_server("--max-sessions", "2") as server:
        first, second = RemoteEnv(server.url), RemoteEnv(server.url)
        with pytest.raises(RemoteEnvError, match="full: 2 of 2"):
            RemoteEnv(server.url)
        first.step  # noqa: B018  (first stays open)
        # The second client vanishes without a goodbye: its socket is just closed.
        sync = second._client
        sync._ensure_loop().call_soon_threadsafe(sync.async_client._ws.transport.abort)
        third = _active_sessions_free(server.url, timeout_s=10)
        assert third.reset(seed=0)[0] == "say something"
        first.reset(seed=0)
        assert first.step("still mine")[0] == "echo: still mine"  # sessions stay apart
        first.close(), third.close()


@pytest.mark.slow
def test_idle_sessions_are_closed_and_their_slot_freed():
    with slow_server("--max-sessions", "1", "--idle-timeout", "1") as server:
        idle = RemoteEnv(server.url)
        idle.reset(seed=0)
        fresh = _active_sessions_free(server.url, timeout_s=15)  # the reaper looks every 5 s at most
        assert fresh.reset(seed=0)[0] == "say something"
        with pytest.raises(RemoteEnvError, match="SessionClosed"):
            idle.step("hello?")
        fresh.close(), idle.close()


@pytest.fixture(scope="module")
def bounded_server():
    """A server with a 1 s step limit and a 64 KiB request limit (each test below uses one of them)."""
    with slow_server("--step-timeout", "1", "--max-request-bytes", "65536") as server:
        yield server


@pytest.mark.slow
def test_a_stuck_step_ends_its_session_not_the_server(bounded_server):
    server = bounded_server
    env = RemoteEnv(server.url)
    env.reset(seed=0)
    started = time.monotonic()
    with pytest.raises(RemoteEnvError, match="StepTimeout.*1 s limit"):
        env.step("sleep 5")
    assert time.monotonic() - started < 4
    with pytest.raises(RemoteEnvError, match="SessionClosed"):
        env.reset(seed=0)
    env.close()
    other = RemoteEnv(server.url)
    other.reset(seed=0)
    assert other.step("quick")[0] == "echo: quick"
    other.close()


@pytest.mark.slow
def test_malformed_and_huge_requests_get_clear_errors_and_the_server_keeps_serving(bounded_server):
    server = bounded_server
    with _ws(server.url) as ws:
        ws.send("{not json")
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error" and reply["data"]["code"] == "INVALID_JSON"
        ws.send(json.dumps({"type": "step", "data": {"wrong": 1}}))
        reply = json.loads(ws.recv(timeout=10))
        assert reply["data"]["code"] == "VALIDATION_ERROR"
        ws.send(json.dumps({"type": "explode"}))
        assert "Unknown message type" in json.loads(ws.recv(timeout=10))["data"]["message"]
        ws.send(json.dumps({"type": "reset", "data": {"seed": "zero"}}))
        assert "seed must be an int" in json.loads(ws.recv(timeout=10))["data"]["message"]
    with _ws(server.url) as ws:
        ws.send("x" * 100_000)  # over the 64 KiB bound: the server closes with 1009
        with pytest.raises(Exception) as closed:
            ws.recv(timeout=10)
        assert getattr(closed.value, "rcvd", None) is not None and closed.value.rcvd.code == 1009
    with _ws(server.url) as ws:
        ws.send(b"\x00\xff binary frame")
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error"
    request = urllib.request.Request(server.url + "/mcp", data=b"x" * 100_000, method="POST")
    with pytest.raises(urllib.error.HTTPError) as too_big:
        _OPENER.open(request, timeout=10)
    assert too_big.value.code == 413 and "65536 bytes" in too_big.value.read().decode()
    env = RemoteEnv(server.url)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="at most 65536 bytes"):
        env.step("y" * 70_000)  # refused before it is sent: the session survives
    assert env.step("small")[0] == "echo: small"
    env.close()
    assert _healthy(server.url)
