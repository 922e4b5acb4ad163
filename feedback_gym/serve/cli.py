"""``feedback-gym serve ID``: serve an environment over OpenEnv's protocol; ``serve-image``: build its image.

Examples::

    feedback-gym serve CodeFeedback-v0                        # http://127.0.0.1:8000, loopback only
    feedback-gym serve MathCritique-v0 --port 8001 --env-kwargs '{"max_turns": 3}' --max-sessions 32
    FEEDBACK_GYM_SERVE_TOKEN=... feedback-gym serve CodeFeedback-v0 --host 0.0.0.0
    feedback-gym serve-image                                  # build the server image from local files
    feedback-gym serve --docker CodeFeedback-v0 --port 8000   # the same server, inside that image
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from feedback_gym.errors import ConfigError, FeedbackGymError
from feedback_gym.serve.config import DEFAULT_PORT, TOKEN_ENV_VAR, ServeConfig, token_from_env


def parse_env_kwargs(text: str | None) -> dict[str, Any]:
    """``--env-kwargs``: a JSON object of constructor arguments.

    >>> parse_env_kwargs('{"max_turns": 2}')
    {'max_turns': 2}
    """
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"--env-kwargs must be a JSON object such as '{{\"max_turns\": 2}}'; {err}"
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(f"--env-kwargs must be a JSON object; got {type(value).__name__}")
    return value


#: The session limits on the command line: (flag, ServeConfig field, type, metavar, help); the
#: defaults are ServeConfig's own.
_LIMIT_OPTIONS = (
    ("--max-sessions", "max_sessions", int, "N", "sessions open at once (default {})"),
    ("--idle-timeout", "idle_timeout_s", float, "S", "close sessions idle this long (default {:g} s)"),
    ("--step-timeout", "step_timeout_s", float, "S",
     "a reset or step running longer closes its session (default {:g} s)"),
    ("--max-request-bytes", "max_request_bytes", int, "N",
     "largest request or message accepted (default {})"),
)


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """The validated :class:`ServeConfig` of the parsed command line."""
    return ServeConfig(
        env_id=args.env_id,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        host=args.host,
        port=args.port,
        uds=args.uds,
        token=token_from_env(args.token),
        expose_oracle=args.expose_oracle,
        **{field: getattr(args, field) for _, field, _, _, _ in _LIMIT_OPTIONS},
    )


def _serve(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
        if args.docker:
            from feedback_gym.serve.container import serve_in_docker

            serve_in_docker(config, image=args.image)
        else:
            from feedback_gym.serve.server import serve

            serve(config)
    except FeedbackGymError as err:
        print(f"feedback-gym serve: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _build_image(args: argparse.Namespace) -> int:
    from feedback_gym.serve.image import build_server_image

    try:
        print(build_server_image(args.tag))
    except FeedbackGymError as err:
        print(f"feedback-gym serve-image: error: {err}", file=sys.stderr)
        return 2
    return 0


def add_parser(parser: argparse.ArgumentParser) -> None:
    """Fill in ``feedback-gym serve`` (called by ``feedback_gym.cli``)."""
    from feedback_gym.serve.image import DEFAULT_SERVER_IMAGE

    defaults = ServeConfig(env_id="x")
    parser.description = (
        "Serve a registered environment over OpenEnv's protocol (a WebSocket session per client, each "
        "with its own environment). Loopback only unless a token is given."
    )
    parser.add_argument(
        "env_id", help="a registered id, e.g. CodeFeedback-v0 (module:Id imports module first)"
    )
    parser.add_argument(
        "--host", default=defaults.host, help="address to bind (default 127.0.0.1; others need a token)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0: any free)"
    )
    parser.add_argument(
        "--uds", default=None, metavar="PATH", help="serve on this Unix socket (0600) instead of TCP"
    )
    parser.add_argument(
        "--env-kwargs", default=None, metavar="JSON", help="constructor arguments, a JSON object"
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"every request must send 'Authorization: Bearer TOKEN' (or set {TOKEN_ENV_VAR})",
    )
    for flag, field, kind, metavar, text in _LIMIT_OPTIONS:
        default = getattr(defaults, field)
        parser.add_argument(
            flag, dest=field, type=kind, default=default, metavar=metavar, help=text.format(default)
        )
    parser.add_argument(
        "--expose-oracle",
        action="store_true",
        help="put the reference action in the session state (tests, baselines; it is the answer)",
    )
    parser.add_argument(
        "--docker",
        action="store_true",
        help="run the server inside the server image (see `feedback-gym serve-image`)",
    )
    parser.add_argument("--image", default=DEFAULT_SERVER_IMAGE, help="the server image for --docker")
    parser.set_defaults(func=_serve)


def add_image_parser(parser: argparse.ArgumentParser) -> None:
    """Fill in ``feedback-gym serve-image`` (called by ``feedback_gym.cli``)."""
    from feedback_gym.serve.image import DEFAULT_SERVER_IMAGE

    parser.description = "Build the environment-server Docker image from this machine's files (no registry)."
    parser.add_argument(
        "--tag", default=DEFAULT_SERVER_IMAGE, help=f"image tag (default {DEFAULT_SERVER_IMAGE})"
    )
    parser.set_defaults(func=_build_image)
