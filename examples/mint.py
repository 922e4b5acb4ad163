"""MINT: tool use with a simulated user's feedback after every reply, success measured per turn.

The agent answers maths word problems with a calculator (``ToolUseMath-v0``); after each reply a
critic model (any policy spec: a local model, or ``openai:BASE_URL#MODEL`` for a served one) comments
on it, reading the worked solution and the oracle's tool plan privately, its reply leak-filtered.

    python examples/mint.py --policy smollm2 --critic smollm2 --tasks 10 --turns 5
    python examples/mint.py --tiny   # or FEEDBACK_GYM_EXAMPLE_TINY=1: the oracle, critic tiny-random
"""

from __future__ import annotations

import argparse
import json
import os

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.conversation import play_episode


def main() -> None:
    """Play the tasks and print the share solved by each turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="smollm2")
    parser.add_argument("--critic", default="smollm2")
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--tiny", action="store_true", help="oracle policy, tiny-random critic, 1 task")
    args = parser.parse_args()
    if args.tiny or os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1":
        args.tiny, args.policy, args.critic, args.tasks, args.turns = True, "oracle", "tiny-random", 1, 4
    sampling = {"max_new_tokens": 24 if args.tiny else 256, "temperature": 0.7, "seed": 0}
    policy = make_policy(args.policy, **({} if args.policy in ("oracle", "random") else sampling))
    critic = {"critic": args.critic, "critic_options": sampling}
    env = gym.make("ToolUseMath-v0", feedback="model", feedback_options=critic,
                   critique_every_reply=True, max_turns=args.turns)
    solved_at = []
    for task in range(args.tasks):
        turns = play_episode(policy, env, seed=task)
        solved_at.append(len(turns) if turns[-1].info["solved"] else None)
        observations = [turn.observation for turn in turns]
    env.close()
    turns = range(1, args.turns + 1)
    curve = [sum(t is not None and t <= k for t in solved_at) / len(solved_at) for k in turns]
    feedback = [text for text in observations if "[feedback]" in text]
    print(json.dumps({"example": "mint", "policy": args.policy, "critic": args.critic, "tasks": args.tasks,
                      "success_by_turn": curve, "critiqued_tool_replies": len(feedback)}))


if __name__ == "__main__":
    main()
