"""The ASGI layer in front of the app: the token check and the request-body bound.

Plain ASGI rather than a Starlette middleware class, so a step pays one function call for it. A
WebSocket handshake without the token is refused before the app sees it (HTTP 401 where the
server supports denial responses, else close code 1008); an HTTP request gets a JSON 401. Bodies
over the bound get a JSON 413 (WebSocket messages are bounded by uvicorn's ``ws_max_size``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """A request body grew past the bound while it was being read."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


class Guard:
    """Wrap ``app``: require ``Authorization: Bearer <token>`` (when a token is set), bound bodies."""

    def __init__(self, app: ASGIApp, token: str | None, max_body_bytes: int) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode() if token else None
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the token, then pass the request on (HTTP bodies counted against the bound)."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        if self._expected is not None:
            given = _header(scope, b"authorization") or b""
            if not hmac.compare_digest(given, self._expected):
                await _deny(scope, send, kind, "missing or wrong token: send 'Authorization: Bearer <token>'")
                return
        if kind == "http":
            await self._bounded_http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _bounded_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _json(send, 413, f"the request body is over the server's limit of {limit} bytes")
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _json(send, 413, f"the request body is over the server's limit of {limit} bytes")


async def _json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _deny(scope: Scope, send: Send, kind: str, message: str) -> None:
    if kind == "http":
        await _json(send, 401, message)
    elif "websocket.http.response" in scope.get("extensions", {}):
        body = json.dumps({"detail": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
