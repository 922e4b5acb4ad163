"""Serve any :class:`Policy` as an OpenAI-compatible chat-completions endpoint on loopback.

Lets tools that speak the OpenAI API (a model critic, an evaluation harness, the endpoint policy)
use a local transformers model. ``GET /v1/models`` and ``POST /v1/chat/completions`` are served by
the standard library's threading HTTP server. Requests that arrive together are gathered into one
``policy.act`` call (up to ``max_batch``, waiting at most ``batch_wait`` seconds), so concurrent
clients get batched generation.

Sampling settings are the policy's own (set them when building it, e.g.
``make_policy("smollm2", temperature=0, max_new_tokens=256)``); a request's ``max_tokens``,
``temperature`` and ``model`` fields are accepted and ignored, so one batch never mixes settings.

It binds to loopback only: this is a test and local-tooling server, not a public API.

>>> from feedback_gym.agents.policy import RandomPolicy
>>> server = serve(RandomPolicy(seed=0))
>>> server.url.startswith("http://127.0.0.1:")
True
>>> server.stop()
"""

from __future__ import annotations

import ipaddress
import json
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from feedback_gym.agents.policy import Policy, Reply
from feedback_gym.errors import ConfigError, require_int

MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass
class ServerHandle:
    """A running server: its base URL (ending in ``/v1``) and how to stop it."""

    url: str
    model: str
    _server: ThreadingHTTPServer
    _threads: tuple[threading.Thread, ...]
    _batcher: _Batcher

    def stop(self) -> None:
        """Shut the server down and join its threads (idempotent)."""
        self._batcher.close()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Batcher:
    """Collects concurrent requests and answers them with one ``policy.act`` call."""

    def __init__(self, policy: Policy, max_batch: int, batch_wait: float) -> None:
        self.policy = policy
        self.max_batch = max_batch
        self.batch_wait = batch_wait
        self.requests: queue.Queue[tuple[list[dict[str, str]], Future[Reply]] | None] = queue.Queue()

    def submit(self, messages: list[dict[str, str]]) -> Future[Reply]:
        future: Future[Reply] = Future()
        self.requests.put((messages, future))
        return future

    def close(self) -> None:
        self.requests.put(None)

    def run(self) -> None:
        while True:
            item = self.requests.get()
            if item is None:
                return
            batch = [item]
            deadline = time.monotonic() + self.batch_wait
            while len(batch) < self.max_batch:
                try:
                    nxt = self.requests.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    self.requests.put(None)
                    break
                batch.append(nxt)
            try:
                replies = self.policy.act([messages for messages, _ in batch])
                for (_, future), reply in zip(batch, replies, strict=True):
                    future.set_result(reply)
            except Exception as err:  # noqa: BLE001 - the error goes back to each waiting client
                for _, future in batch:
                    future.set_exception(err)


def _handler(batcher: _Batcher, model: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(
                    200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "local"}]}
                )
            else:
                self._error(404, f"no route {self.path}; try /v1/models or POST /v1/chat/completions")

        def do_POST(self) -> None:
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._error(404, f"no route {self.path}; POST /v1/chat/completions")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY_BYTES:
                self._error(
                    400 if length <= 0 else 413, f"the body must be 1..{MAX_BODY_BYTES} bytes of JSON"
                )
                return
            try:
                body = json.loads(self.rfile.read(length))
                messages = _messages(body)
            except (ValueError, TypeError) as err:
                self._error(400, str(err))
                return
            try:
                reply = batcher.submit(messages).result(timeout=600)
            except Exception as err:  # noqa: BLE001 - report, keep serving
                self._error(500, f"the policy failed: {type(err).__name__}: {err}")
                return
            self._send(200, _completion(reply, model, want_logprobs=bool(body.get("logprobs"))))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(
                status, {"error": {"message": message, "type": "invalid_request_error", "code": status}}
            )

    return Handler


def _messages(body: Any) -> list[dict[str, str]]:
    """Validate the ``messages`` of a request; content parts lists are joined as text."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise ValueError("the request needs a non-empty 'messages' list")
    messages = []
    for message in body["messages"]:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError("each message needs a 'role' string and 'content'")
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise ValueError("message content must be a string or a list of text parts")
        messages.append({"role": message["role"], "content": content})
    return messages


def _completion(reply: Reply, model: str, want_logprobs: bool) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": reply.text},
        "finish_reason": reply.extra.get("finish_reason", "stop"),
        "logprobs": None,
    }
    if want_logprobs and reply.logprobs is not None:
        ids = reply.token_ids or [None] * len(reply.logprobs)
        choice["logprobs"] = {
            "content": [{"token": str(i), "logprob": lp} for i, lp in zip(ids, reply.logprobs, strict=False)]
        }
    prompt, completion = reply.prompt_tokens or 0, reply.completion_tokens or 0
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def serve(
    policy: Policy,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    model: str | None = None,
    max_batch: int = 32,
    batch_wait: float = 0.005,
) -> ServerHandle:
    """Start serving ``policy`` in background threads; return the handle (``port=0`` picks a free port).

    Args:
        policy: any :class:`Policy`.
        host: a loopback address (``127.0.0.1``, ``::1``, ``localhost``); anything else is refused.
        port: the TCP port, or 0 for a free one.
        model: the model id announced by ``/v1/models`` (default: ``policy.name``).
        max_batch: the most requests answered by one ``policy.act`` call.
        batch_wait: seconds to wait for more requests before answering a batch.
    """
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConfigError(
                f"the policy server binds to loopback only (127.0.0.1, ::1, localhost); got {host!r}"
            )
    require_int("max_batch", max_batch, minimum=1)
    if batch_wait < 0:
        raise ConfigError(f"batch_wait must be >= 0 seconds; got {batch_wait}")
    model = model or getattr(policy, "name", "policy")
    batcher = _Batcher(policy, max_batch, batch_wait)
    server_class = ThreadingHTTPServer
    if ":" in host:
        import socket

        class _V6Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        server_class = _V6Server
    server = server_class((host, port), _handler(batcher, model))
    server.daemon_threads = True
    threads = (
        threading.Thread(target=server.serve_forever, name="policy-server", daemon=True),
        threading.Thread(target=batcher.run, name="policy-batcher", daemon=True),
    )
    for thread in threads:
        thread.start()
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    return ServerHandle(f"http://{shown}:{bound_port}/v1", model, server, threads, batcher)


def main(argv: list[str] | None = None) -> int:
    """``python -m feedback_gym.agents.openai_server --model SPEC [--port N]``: serve until Ctrl-C."""
    import argparse

    from feedback_gym.agents.policy import make_policy

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--model", default="smollm2", help="a policy spec (smollm2, tiny-random, hf:PATH, ...)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    handle = serve(make_policy(args.model), args.host, args.port)
    print(f"serving {args.model} at {handle.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
