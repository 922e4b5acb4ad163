"""In-Place Feedback: the critic corrects the previous answer where it goes wrong; the agent continues it.

Against a separate critique message (``feedback="model"``) on the same maths tasks, counting prompt +
completion tokens per turn and per solved task. With ``in_place`` the env returns the edited text in
``info["assistant_prefix"]``; the policy continues it and the env judges prefix + continuation.

    python examples/in_place.py --policy smollm2 --critic smollm2 --tasks 10 --turns 3
    python examples/in_place.py --tiny   # or FEEDBACK_GYM_EXAMPLE_TINY=1: tiny-random, one task
"""

from __future__ import annotations

import argparse
import json
import os

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.conversation import play_episode


def play(policy, mode: str, critic: dict, tasks: int, turns: int) -> dict:
    """Play ``tasks`` episodes in one feedback mode; return the solve rate and token totals."""
    env = gym.make("MathCritique-v0", feedback=mode, feedback_options=critic, max_turns=turns)
    solved, per_turn = 0, []
    for task in range(tasks):
        turns = play_episode(policy, env, seed=task)  # continues each in-place edit
        per_turn += [(t.reply.prompt_tokens or 0) + (t.reply.completion_tokens or 0) for t in turns]
        solved += bool(turns[-1].info["solved"])
    tokens = sum(per_turn)
    env.close()
    return {"solved": solved, "tasks": tasks, "total_tokens": tokens,
            "tokens_per_turn": per_turn, "tokens_per_solved": tokens / solved if solved else None}


def main() -> None:
    """Run both modes and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="smollm2")
    parser.add_argument("--critic", default="smollm2")
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="tiny-random, one task, two turns")
    args = parser.parse_args()
    tiny = args.tiny or os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"
    if tiny:
        args.policy, args.critic, args.tasks, args.turns = "tiny-random", "tiny-random", 1, 2
    sampling = {"max_new_tokens": 24 if tiny else 256, "temperature": 0.7, "seed": 0}
    policy = make_policy(args.policy, **sampling)
    critic = {"critic": args.critic, "critic_options": sampling, "fallback": tiny}  # a fallback is marked
    modes = {mode: play(policy, mode, critic, args.tasks, args.turns) for mode in ("model", "in_place")}
    print(json.dumps({"example": "in_place", "policy": args.policy, "critic": args.critic, "modes": modes}))


if __name__ == "__main__":
    main()
