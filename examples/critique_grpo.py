"""Critique-GRPO: GRPO where the refinements made after a critique join the group as samples.

Each maths task is played by a group of episodes of two turns: an answer, the reference-guided
critique (or a critic model's, ``--critic SPEC``), a refinement. With ``refinement_samples`` every
refinement is a sample of its own next to the first answers, with its own reward and advantage,
trained after the original prompt (as in the paper) with the shaping ``p / (p + gamma)``.

    python examples/critique_grpo.py --model smollm2 --steps 50 --out runs/critique-grpo
    python examples/critique_grpo.py --tiny   # or FEEDBACK_GYM_EXAMPLE_TINY=1: tiny-random, one step
"""

from __future__ import annotations

import argparse
import json
import os

from feedback_gym.agents.grpo import train
from feedback_gym.agents.train_args import Args


def main() -> None:
    """Train with refinement samples and print the last step's metrics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--critic", default=None, help="a critic model spec (default: reference-guided)")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--gamma", type=float, default=0.1, help="the shaping's gamma (0: clipped ratio)")
    parser.add_argument("--out", default=None, help="the run's folder (default: ./critique-grpo-run)")
    parser.add_argument("--tiny", action="store_true", help="tiny-random, one step of two tasks")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"
    feedback = {"feedback": "model", "feedback_options": {"critic": args.critic}} if args.critic else {}
    run = Args(
        env="MathCritique-v0",
        env_kwargs={"max_turns": 2, **feedback},
        model="tiny-random" if tiny else args.model,
        steps=1 if tiny else args.steps,
        tasks_per_step=2 if tiny else 8,
        group_size=2 if tiny else 8,
        max_new_tokens=16 if tiny else 256,
        refinement_samples=True,
        refinement_shaping=args.gamma,
        out=args.out or "critique-grpo-run",
        progress=not tiny,
    )
    metrics = train(run)
    shown = ("step", "reward_mean", "solved_rate", "samples", "refinement_samples", "loss", "grad_norm")
    print(json.dumps({"example": "critique_grpo", "out": run.out, **{key: metrics[key] for key in shown}}))


if __name__ == "__main__":
    main()
