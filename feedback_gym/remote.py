"""``RemoteEnv``: a ``gymnasium.Env`` whose episodes run on a ``feedback-gym serve`` server.

Example::

    from feedback_gym.remote import RemoteEnv

    env = RemoteEnv("http://127.0.0.1:8000")          # one session on the server
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(program_text)
    env.close()                                       # frees the session

Each instance holds one OpenEnv session (a WebSocket, an environment of its own on the server)
from construction to ``close``. The spaces are the served env's own, read from the server, so the
strict conformance checks pass against a live server as they do in-process. Errors come back as
the same feedback-gym classes (``EpisodeEndedError`` after the end, ``ConfigError`` for a bad
option); a server that refuses, fails or goes away raises ``RemoteEnvError``. Needs the ``serve``
extra (``openenv-core``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from feedback_gym.errors import ConfigError, MissingReferenceError, RemoteEnvError, missing_dependency
from feedback_gym.serve.config import token_from_env

#: Seconds a reply may take beyond the server's own step bound before the client gives up.
REPLY_MARGIN_S = 30.0


def fetch_server_info(url: str, token: str | None = None, timeout_s: float = 10.0) -> dict[str, Any]:
    """``GET {url}/feedback-gym``: the served id, its spaces and the server's limits (no proxies)."""
    from feedback_gym.serve.app import INFO_PATH

    request = urllib.request.Request(url.rstrip("/") + INFO_PATH)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:300]
        raise RemoteEnvError(f"{url} answered HTTP {err.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise RemoteEnvError(f"no feedback-gym server answers at {url}: {err}") from None


def _text_space(spec: dict[str, Any]) -> spaces.Text:
    return spaces.Text(max_length=spec["max_length"], min_length=spec["min_length"], charset=spec["charset"])


def _wire_action(action: Any) -> Any:
    """The action as JSON: text as is, bytes decoded as the envs do, other JSON values passed on."""
    from feedback_gym.text import coerce_action

    if isinstance(action, str | bool | int | float) or action is None:
        return action
    text, _ = coerce_action(action)
    if text is not None:
        return text
    try:
        json.dumps(action)
    except (TypeError, ValueError):
        return f"<{type(action).__name__}>"  # not JSON: the env answers "must be text" all the same
    return action


class RemoteEnv(gym.Env[str, str]):
    """One session of a served feedback-gym environment, behind Gymnasium's API.

    Args:
        url: The server's base URL, e.g. ``http://127.0.0.1:8000``.
        token: The server's token (default: ``FEEDBACK_GYM_SERVE_TOKEN``); sent on every request.
        connect_timeout_s: How long to wait for the server to answer at all.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, url: str, token: str | None = None, connect_timeout_s: float = 10.0) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"url must be an http:// or https:// address of a feedback-gym server; got {url!r}"
            )
        try:
            from feedback_gym.serve.client import FeedbackGymClient
        except ImportError:
            raise missing_dependency("openenv-core", "serve") from None
        self.url = url.rstrip("/")
        token = token_from_env(token)
        self.server_info = fetch_server_info(self.url, token, connect_timeout_s)
        self.env_id: str = self.server_info["env_id"]
        self.observation_space = _text_space(self.server_info["spaces"]["observation"])
        self.action_space = _text_space(self.server_info["spaces"]["action"])
        limits = self.server_info["limits"]
        self._max_request_bytes = int(limits["max_request_bytes"])
        client = FeedbackGymClient(
            self.url,
            token=token,
            connect_timeout_s=connect_timeout_s,
            message_timeout_s=float(limits["step_timeout_s"]) + REPLY_MARGIN_S,
        )
        self._client = client.sync()
        self._closed = False
        self._client.connect()
        self._client.state()  # the session exists now: a full server says so here, not at reset

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode on the server (same ``seed`` and ``options`` as the served env)."""
        super().reset(seed=seed)
        data: dict[str, Any] = {}
        if seed is not None:
            data["seed"] = seed
        if options is not None:
            data["options"] = options
        result = self._session().reset(**data)
        return result.observation["text"], result.observation["info"]

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Send one action; returns the served env's ``(feedback, reward, terminated, truncated, info)``."""
        payload = {"text": _wire_action(action)}
        size = len(json.dumps(payload))
        if size > self._max_request_bytes - 1024:
            raise ConfigError(
                f"the action is {size} bytes as JSON; the server accepts messages of at most "
                f"{self._max_request_bytes} bytes (--max-request-bytes)"
            )
        result = self._session().step(payload)
        observation = result.observation
        return (
            observation["text"],
            float(result.reward or 0.0),
            bool(observation["terminated"]),
            bool(observation["truncated"]),
            observation["info"],
        )

    def state(self) -> dict[str, Any]:
        """The session's state on the server: env id, task id, turn, done (OpenEnv's ``state``)."""
        return self._session().state()

    def oracle_action(self) -> str:
        """A reference action for the current task (only from servers started with ``--expose-oracle``)."""
        action = self.state().get("oracle_action")
        if action is None:
            if not self.server_info.get("expose_oracle"):
                raise MissingReferenceError(
                    f"the server at {self.url} does not share reference actions "
                    "(start it with --expose-oracle)"
                )
            raise MissingReferenceError("no reference action for the current task (call reset() first?)")
        return str(action)

    def close(self) -> None:
        """End the session on the server (idempotent)."""
        if not getattr(self, "_closed", True):
            self._closed = True
            self._client.close()
        super().close()

    def _session(self) -> Any:
        if self._closed:
            raise RemoteEnvError("this RemoteEnv is closed; make a new one")
        return self._client
