"""OpenEnv's ``EnvClient`` for feedback-gym servers: a token header, typed errors, no proxies.

The protocol (one WebSocket per session, ``reset``/``step``/``state``/``close`` messages) is
OpenEnv's own; this subclass only fills in the three payload hooks and changes two things about
the connection: it sends ``Authorization: Bearer <token>`` when there is a token (OpenEnv's client
sends no headers), and it never goes through an HTTP proxy from the environment. Errors come back
as the feedback-gym classes the server raised (see :mod:`feedback_gym.serve.wire`).
"""

from __future__ import annotations

from typing import Any

from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient

from feedback_gym.errors import ConfigError, RemoteEnvError
from feedback_gym.serve.wire import error_from_message

#: What common WebSocket close codes mean for a caller.
CLOSE_REASONS = {
    1008: "the server refused the request (a wrong or missing token?)",
    1009: "the message was larger than the server accepts (--max-request-bytes)",
    1011: "the server failed",
    1013: "the server is overloaded; try again later",
}


class FeedbackGymClient(EnvClient[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """An async OpenEnv client for one session of a feedback-gym server; ``.sync()`` gives the sync one."""

    def __init__(self, base_url: str, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def connect(self) -> FeedbackGymClient:
        """Open the session's WebSocket (with the token header, without proxies)."""
        if self._ws is not None:
            return self
        from websockets.asyncio.client import connect

        try:
            self._ws = await connect(
                self._ws_url,
                open_timeout=self._connect_timeout,
                max_size=self._max_message_size,
                additional_headers=self._headers,
                proxy=None,
            )
        except Exception as err:
            raise RemoteEnvError(f"cannot open a session at {self._ws_url}: {err}") from err
        return self

    async def _send_and_receive(self, message: dict[str, Any]) -> dict[str, Any]:
        from websockets.exceptions import ConnectionClosed

        try:
            try:
                await self._send(message)
            except ConnectionClosed:
                pass  # a refused session is closed at once; its error message is still queued
            response = await self._receive()
        except ConnectionClosed as err:
            code = err.rcvd.code if err.rcvd is not None else None
            reason = CLOSE_REASONS.get(code or 0, "the connection was lost")
            raise RemoteEnvError(f"the server closed the session: {reason} (close code {code})") from err
        except TimeoutError as err:
            raise RemoteEnvError(
                f"no answer from the server within {self._message_timeout:g} s "
                f"(message {message.get('type')!r})"
            ) from err
        if response.get("type") == "error":
            raise _error(response.get("data") or {})
        return response

    def _step_payload(self, action: dict[str, Any]) -> dict[str, Any]:
        return action

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[dict[str, Any]]:
        return StepResult(
            observation=payload.get("observation", {}),
            reward=payload.get("reward"),
            done=bool(payload.get("done")),
        )

    def _parse_state(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload


def _error(data: dict[str, Any]) -> Exception:
    """The exception for one of OpenEnv's error envelopes."""
    code = data.get("code")
    message = str(data.get("message", "unknown error"))
    if code == "EXECUTION_ERROR":
        return error_from_message(message)
    if code == "VALIDATION_ERROR":
        problems = "; ".join(
            f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in data.get("errors", [])
        )
        return ConfigError(f"the server rejected the message: {problems or message}")
    if code == "CAPACITY_REACHED":
        return RemoteEnvError(
            f"the server is full: {data.get('active_sessions')} of {data.get('max_sessions')} sessions "
            "in use (--max-sessions); close one or try again later"
        )
    return RemoteEnvError(f"the server reported {code}: {message}")
