"""LeTI / RLTF: code generation that learns from interpreter errors and unit-test results.

LeTI feeds the interpreter's error messages back as text; RLTF rewards the fraction of unit tests
passed (a finer signal than pass/fail). This script plays the bundled Python tasks with ``full``
feedback (tracebacks) and ``binary`` feedback, both with ``reward="fraction"``, and prints the solve
rate and the mean return of each: what an RL run on these envs would optimise.

    python examples/leti_rltf.py --policy smollm2 --tasks 20
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/leti_rltf.py     # CI budget: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.conversation import play_episode

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"


def play(policy, feedback: str, tasks: int, turns: int) -> dict:
    """Play ``tasks`` episodes one by one; return solve rate, mean return and one feedback text."""
    env = gym.make("CodeFeedback-v0", feedback=feedback, reward="fraction", max_turns=turns)
    solved, returns, shown = 0, [], ""
    for task in range(tasks):
        turns = play_episode(policy, env, seed=task)
        shown = shown or next((t.observation for t in turns if not t.info["solved"]), "")
        solved += turns[-1].info["solved"]
        returns.append(sum(t.reward for t in turns))
    env.close()
    return {"solve_rate": solved / tasks, "mean_return": sum(returns) / tasks, "feedback_seen": shown[:300]}


def main() -> None:
    """Compare the two feedback modes; print them as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 20)
    parser.add_argument("--turns", type=int, default=2 if TINY else 4)
    args = parser.parse_args()
    sampling = {} if args.policy == "oracle" else {"max_new_tokens": 48 if TINY else 384}
    policy = make_policy(args.policy, **sampling)
    modes = {mode: play(policy, mode, args.tasks, args.turns) for mode in ("full", "binary")}
    print(json.dumps({"example": "leti_rltf", "policy": args.policy, "modes": modes}))


if __name__ == "__main__":
    main()
