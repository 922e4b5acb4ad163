"""``feedback-gym train``: multi-turn GRPO on any registered environment.

Every field of :class:`feedback_gym.agents.grpo.Args` is a flag (``--tasks-per-step 4``,
``--kl-coef 0.05``, ``--no-progress``...); ``--env-kwargs`` takes JSON for ``gym.make``.

Example::

    feedback-gym train --env Countdown-v0 --model smollm2 --steps 100 --out runs/countdown
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

HELP = {
    "env": "registered environment id (see `feedback-gym list`)",
    "model": "policy spec to train: smollm2 (default, offline), tiny-random, hf:PATH_OR_ID",
    "steps": "optimizer steps, one rollout batch each",
    "out": "output directory (metrics.jsonl, transcripts.jsonl, checkpoints/, final/)",
    "env_kwargs": 'JSON passed to gym.make, e.g. \'{"max_turns": 3, "feedback": "tests"}\'',
    "group_size": "episodes per task (GRPO group)",
    "tasks_per_step": "distinct tasks per step",
    "kl_coef": "KL penalty to the frozen start model (0: no reference model)",
    "resume": "continue from the newest checkpoint in --out",
    "vectorization_mode": "sync, or async to run environments in subprocesses",
    "refinement_samples": "Critique-GRPO: replies after feedback join the group as samples of their own",
    "refinement_context": "a refinement sample follows the original prompt only, or the whole transcript",
    "refinement_shaping": "Critique-GRPO's gamma: p/(p+gamma) on refinement tokens (0: clipped ratio)",
    "reflection_memory": "Reflexion: the policy's reflection on a failed episode opens its task's next ones",
}


def add_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``train`` flags to the subcommand parser ``feedback-gym`` made for it."""
    from feedback_gym.agents.train_args import Args

    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    defaults = Args()
    for spec in dataclasses.fields(Args):
        flag = "--" + spec.name.replace("_", "-")
        default = getattr(defaults, spec.name)
        help_text = HELP.get(spec.name, "") + f" (default: {default})"
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        elif isinstance(default, dict):
            parser.add_argument(flag, type=_json_object, default=default, help=help_text)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=help_text)
    parser.set_defaults(func=run)
    return parser


def run(namespace: argparse.Namespace) -> int:
    """Build :class:`Args` from the parsed flags and train; print the last step's metrics."""
    from feedback_gym.agents.grpo import train
    from feedback_gym.agents.train_args import Args

    values = {spec.name: getattr(namespace, spec.name) for spec in dataclasses.fields(Args)}
    metrics = train(Args(**values))
    print(json.dumps(metrics, indent=2))
    return 0


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {err}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value
