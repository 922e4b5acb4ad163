"""The ``feedback-gym`` command: ``list``, ``play``, ``version``, and the subcommands of subpackages.

Subpackages contribute subcommands through :data:`SUBCOMMANDS` (``name -> "module:function"``);
the function receives the subparser to fill in and must set ``func`` on it. A contributing module
that is not part of this installation is skipped, so ``feedback-gym --help`` always works.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from feedback_gym.errors import ConfigError

#: Subcommands defined in other modules, imported only when the CLI starts.
SUBCOMMANDS: dict[str, str] = {
    "sandbox": "feedback_gym.sandboxes.cli:add_parser",
    "bench": "feedback_gym.benchmarks.cli:add_parser",
    "experiment": "feedback_gym.benchmarks.experiments.cli:add_parser",
    "train": "feedback_gym.agents.cli:add_parser",
    "serve": "feedback_gym.serve.cli:add_parser",
    "serve-image": "feedback_gym.serve.cli:add_image_parser",
}


def _cmd_version(args: argparse.Namespace) -> int:
    from feedback_gym.version import __version__

    print(__version__)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from feedback_gym.registration import DESCRIPTIONS

    width = max(len(env_id) for env_id in DESCRIPTIONS)
    for env_id, description in DESCRIPTIONS.items():
        print(f"{env_id:<{width}}  {description}")
    return 0


def parse_kwargs(pairs: Sequence[str], flag: str = "--kwarg") -> dict[str, Any]:
    """Turn ``key=value`` strings into kwargs, reading values as JSON when they parse.

    >>> parse_kwargs(["temperature=0.7", "name=x"])
    {'temperature': 0.7, 'name': 'x'}
    """
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} expects KEY=VALUE; got {pair!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def _read_action(prompt: str) -> str | None:
    """Read one action from the terminal: lines until a line with only '.', or EOF."""
    print(prompt, flush=True)
    lines: list[str] = []
    for line in sys.stdin:
        if line.rstrip("\n") == ".":
            return "\n".join(lines)
        lines.append(line.rstrip("\n"))
    return "\n".join(lines) if lines else None


def _cmd_play(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import feedback_gym  # noqa: F401  (registers the ids)

    env = gym.make(args.env_id, **parse_kwargs(args.kwarg))
    options = {"task_id": args.task_id} if args.task_id else None
    obs, info = env.reset(seed=args.seed, options=options)
    print(f"== {args.env_id} | task {info['task_id']} ==\n\n{obs}\n")
    total = 0.0
    while True:
        action = _read_action("-- your reply (end with a line holding only '.') --")
        if action is None:
            print("\n(end of input)")
            break
        if action.strip() == ":oracle":
            action = env.unwrapped.oracle_action()
            print(action)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        print(f"\n{obs}\n\n[reward {reward:+.3f} | turn {info['turn']} | score {info['score']:.2f}]\n")
        if terminated or truncated:
            print(f"episode over ({'solved' if info['solved'] else 'not solved'}); return {total:.3f}")
            break
    env.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser, including the subcommands other modules contribute."""
    parser = argparse.ArgumentParser(
        prog="feedback-gym", description="Gymnasium environments with feedback for LLM agents."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print the version").set_defaults(func=_cmd_version)
    sub.add_parser("list", help="list the registered environment ids").set_defaults(func=_cmd_list)
    play = sub.add_parser("play", help="play an environment in the terminal")
    play.add_argument("env_id", help="a registered id, e.g. Countdown-v0")
    play.add_argument("--seed", type=int, default=None)
    play.add_argument("--task-id", default=None, help="play this task instead of a drawn one")
    play.add_argument(
        "--kwarg", action="append", default=[], metavar="KEY=VALUE",
        help="an env constructor argument (value read as JSON when it parses), repeatable",
    )
    play.set_defaults(func=_cmd_play)
    for name, target in SUBCOMMANDS.items():
        module_name, _, function = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue  # that part of the package is not installed (yet)
            raise
        getattr(module, function)(sub.add_parser(name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from gymnasium.error import DeprecatedEnv, UnregisteredEnv

    try:
        return int(args.func(args) or 0)
    except (ConfigError, UnregisteredEnv, DeprecatedEnv) as err:
        # A bad argument is the user's to fix: say what is wrong and what is accepted, not a traceback.
        print(f"feedback-gym {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
