"""``feedback-gym bench --env-url ID=URL``: play some ids on environment servers instead of locally.

The mapping travels to the workers in an environment variable (worker processes inherit it), so
the runner and the backends stay as they are; :class:`~feedback_gym.benchmarks.play.EnvPool` asks
:func:`remote_env` before building an env. A served env runs with the kwargs its server was started
with, so an episode that needs other kwargs (another feedback mode, the best-of-n control's single
turn) is refused with a message rather than played on the wrong configuration.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from feedback_gym.errors import ConfigError

#: The environment variable holding ``{"ID": "URL", ...}`` as JSON.
ENV_URLS_VAR = "FEEDBACK_GYM_ENV_URLS"


def parse_env_urls(pairs: Sequence[str]) -> dict[str, str]:
    """``ID=URL`` strings as a mapping.

    >>> parse_env_urls(["CodeFeedback-v0=http://127.0.0.1:8000"])
    {'CodeFeedback-v0': 'http://127.0.0.1:8000'}
    """
    urls: dict[str, str] = {}
    for pair in pairs:
        env_id, sep, url = pair.partition("=")
        if not sep or not env_id or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--env-url expects ID=http://HOST:PORT; got {pair!r}")
        urls[env_id] = url
    return urls


@contextmanager
def exported_env_urls(urls: Mapping[str, str]) -> Iterator[None]:
    """Put the mapping where the workers started inside the block find it; restore the old value after."""
    previous = os.environ.pop(ENV_URLS_VAR, None)
    if urls:
        os.environ[ENV_URLS_VAR] = json.dumps(dict(urls))
    try:
        yield
    finally:
        os.environ.pop(ENV_URLS_VAR, None)
        if previous is not None:
            os.environ[ENV_URLS_VAR] = previous


def remote_env(env_id: str, kwargs: Mapping[str, Any]) -> Any:
    """A :class:`~feedback_gym.remote.RemoteEnv` when ``env_id`` is served, else ``None``."""
    url = json.loads(os.environ.get(ENV_URLS_VAR) or "{}").get(env_id)
    if url is None:
        return None
    from feedback_gym.remote import RemoteEnv

    env = RemoteEnv(url)
    wanted = {k: v for k, v in kwargs.items() if k != "sandbox"}
    served = env.server_info.get("env_kwargs", {})
    if env.env_id != env_id or json.loads(json.dumps(wanted)) != served:
        env.close()
        raise ConfigError(
            f"{url} serves {env.env_id} with kwargs {served}, but this episode needs {env_id} with {wanted}: "
            "start a server with those --env-kwargs (or pass --no-control, whose best-of-n episodes "
            "need max_turns=1)"
        )
    return env
