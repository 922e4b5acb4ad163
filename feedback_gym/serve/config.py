"""The settings of one environment server, validated before anything starts.

The rules that make a network service safe to leave running live here, as checks that raise
``ConfigError``: loopback unless a token is given, a token long enough to guess at no cost, and
positive bounds on sessions, idle time, step time and request size.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feedback_gym.errors import ConfigError, require_int, require_positive_number

#: The environment variable a token may come from (server and client), so it stays out of ``ps``.
TOKEN_ENV_VAR = "FEEDBACK_GYM_SERVE_TOKEN"
#: Shorter tokens are refused: a token is the only lock on a non-loopback server.
MIN_TOKEN_CHARS = 16
#: OpenEnv's conventional port.
DEFAULT_PORT = 8000


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface only.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def token_from_env(token: str | None) -> str | None:
    """``token`` when given, else the value of ``FEEDBACK_GYM_SERVE_TOKEN`` (``None`` when unset or empty)."""
    if token is not None:
        return token
    return os.environ.get(TOKEN_ENV_VAR) or None


@dataclass(frozen=True)
class ServeConfig:
    """How to serve one environment id.

    Args:
        env_id: A registered id (``module:Name-vN`` imports ``module`` first, as in ``gym.make``).
        env_kwargs: Constructor arguments for every session's environment (JSON values).
        host: The address to bind; anything but loopback needs ``token``.
        port: The TCP port (0 picks a free one).
        uds: Serve on this Unix socket path instead of TCP (mode 0600: only its owner connects).
        token: A shared secret every request must carry as ``Authorization: Bearer <token>``.
        max_sessions: Sessions (WebSocket connections, one environment each) open at once.
        idle_timeout_s: A session with no reset or step for this long is closed and its slot freed.
        step_timeout_s: A reset or step running longer ends its session with an error.
        max_request_bytes: The largest HTTP body or WebSocket message accepted.
        expose_oracle: Put the reference action in the session state (for tests and baselines;
            off by default because it is the answer).
    """

    env_id: str
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    uds: str | None = None
    token: str | None = None
    max_sessions: int = 16
    idle_timeout_s: float = 600.0
    step_timeout_s: float = 120.0
    max_request_bytes: int = 4 * 2**20
    expose_oracle: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ConfigError(
                f"env_id must be a registered id such as 'CodeFeedback-v0'; got {self.env_id!r}"
            )
        if not isinstance(self.env_kwargs, Mapping) or not all(isinstance(k, str) for k in self.env_kwargs):
            raise ConfigError(f"env_kwargs must be a dict with str keys; got {self.env_kwargs!r}")
        require_int("port", self.port, 0, 65535)
        require_int("max_sessions", self.max_sessions, minimum=1)
        require_positive_number("idle_timeout_s", self.idle_timeout_s)
        require_positive_number("step_timeout_s", self.step_timeout_s)
        require_int("max_request_bytes", self.max_request_bytes, minimum=1)
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"the token must be at least {MIN_TOKEN_CHARS} characters; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe())'"
            )
        if self.uds is None and not is_loopback(self.host) and self.token is None:
            raise ConfigError(
                f"refusing to serve on {self.host!r} without a token: any machine that reaches it could "
                f"run episodes. Pass --token or set {TOKEN_ENV_VAR} (every request must then carry it), "
                "or bind to 127.0.0.1"
            )

    @property
    def url(self) -> str:
        """The base URL clients use (``unix:PATH`` for a Unix socket)."""
        if self.uds is not None:
            return f"unix:{self.uds}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
