"""The FastAPI app of one served id: OpenEnv's server routes, an info route and the guard.

OpenEnv's ``HTTPEnvServer`` provides the protocol: ``/ws`` (a session: ``reset``, ``step``,
``state``, ``close`` messages), ``/health``, ``/schema``, ``/metadata`` and ``/mcp``. It is
registered in OpenEnv's *production* mode, which leaves out the stateless HTTP ``/reset`` and
``/step``: each of those builds a throwaway environment, so a multi-turn episode cannot live across
them, and they would sidestep the session bound. ``/feedback-gym`` tells clients what
:class:`~feedback_gym.remote.RemoteEnv` needs: the spaces, the limits, the version.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from feedback_gym.errors import ConfigError, missing_dependency
from feedback_gym.serve.config import ServeConfig
from feedback_gym.serve.guard import ASGIApp, Guard

#: The route of the server's self-description.
INFO_PATH = "/feedback-gym"


def describe_space(space: Any) -> dict[str, Any]:
    """A ``gymnasium.spaces.Text`` as JSON: lengths and the charset."""
    return {
        "type": "Text",
        "min_length": int(space.min_length),
        "max_length": int(space.max_length),
        "charset": "".join(sorted(space.character_set)),
    }


def server_info(config: ServeConfig) -> dict[str, Any]:
    """What ``GET /feedback-gym`` answers (built once: spaces need one throwaway env)."""
    import gymnasium as gym

    from feedback_gym.version import __version__

    env = gym.make(config.env_id, **dict(config.env_kwargs))
    try:
        spaces = {
            "observation": describe_space(env.observation_space),
            "action": describe_space(env.action_space),
        }
    finally:
        env.close()
    return {
        "env_id": config.env_id,
        "env_kwargs": dict(config.env_kwargs),
        "feedback_gym_version": __version__,
        "spaces": spaces,
        "limits": {
            "max_sessions": config.max_sessions,
            "idle_timeout_s": config.idle_timeout_s,
            "step_timeout_s": config.step_timeout_s,
            "max_request_bytes": config.max_request_bytes,
        },
        "expose_oracle": config.expose_oracle,
    }


def resolve_env_id(env_id: str) -> tuple[str, str]:
    """The registered id (``module:Id`` imports ``module`` first) and its one-line description.

    Raises ``ConfigError`` naming the ids that exist when ``env_id`` is not registered.
    """
    import importlib

    import gymnasium as gym

    import feedback_gym
    from feedback_gym.registration import DESCRIPTIONS

    module, _, name = env_id.rpartition(":")
    try:
        if module:
            importlib.import_module(module)
        gym.spec(name)
    except (gym.error.Error, ImportError) as err:
        known = ", ".join(feedback_gym.registered_ids())
        raise ConfigError(f"cannot serve {env_id!r} ({err}); registered ids: {known}") from None
    return name, DESCRIPTIONS.get(name, "")


def build_app(config: ServeConfig) -> ASGIApp:
    """The guarded ASGI app serving ``config.env_id``; its shutdown closes every env and sandbox."""
    try:
        from fastapi import FastAPI
        from openenv.core.env_server.http_server import HTTPEnvServer
        from openenv.core.env_server.types import ConcurrencyConfig, ServerMode
    except ImportError:
        raise missing_dependency("openenv-core", "serve") from None
    from feedback_gym.serve.environment import SharedEnvs, environment_class
    from feedback_gym.serve.models import FeedbackAction, FeedbackObservation

    env_id, description = resolve_env_id(config.env_id)
    config = replace(config, env_id=env_id)
    info = server_info(config)
    envs = SharedEnvs()
    app = FastAPI(
        title=f"feedback-gym: {config.env_id}", description=description, version=info["feedback_gym_version"]
    )
    server = HTTPEnvServer(
        environment_class(config, envs, description),
        FeedbackAction,
        FeedbackObservation,
        concurrency_config=ConcurrencyConfig(
            max_concurrent_envs=config.max_sessions, session_timeout=config.idle_timeout_s
        ),
    )
    server.register_routes(app, mode=ServerMode.PRODUCTION)
    app.get(INFO_PATH, tags=["feedback-gym"], summary="The served id, its spaces and the server's limits")(
        lambda: info
    )
    app.router.on_shutdown.append(envs.close)
    app.state.openenv_server = server  # tests read the session count from here
    return Guard(app, config.token, config.max_request_bytes)
