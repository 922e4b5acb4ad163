"""UFO ("A Simple 'Try Again'"): unary feedback only, and a reward that pays early success more.

The agent is told nothing but "try again" until it solves a maths problem; ``turn_discount`` makes
success on turn t worth ``discount ** (t - 1)``, UFO's turn-minimising reward. Prints the success@turn
curve and the mean discounted return.

    python examples/ufo.py --policy smollm2 --tasks 20 --turns 5
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/ufo.py       # CI budget: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os

from feedback_gym.agents.policy import make_policy
from feedback_gym.benchmarks.metrics import aggregate_multi_turn
from feedback_gym.benchmarks.play import EnvPool, play_batch
from feedback_gym.benchmarks.suites import EpisodeSpec

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"


def main() -> None:
    """Play the tasks with unary feedback and a turn discount; print the curve as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 20)
    parser.add_argument("--turns", type=int, default=3 if TINY else 5)
    parser.add_argument("--discount", type=float, default=0.8)
    args = parser.parse_args()
    sampling = {} if args.policy == "oracle" else {"max_new_tokens": 32 if TINY else 256}
    policy = make_policy(args.policy, **sampling)
    kwargs = {"max_turns": args.turns, "reward": {"turn_discount": args.discount}}
    specs = [EpisodeSpec("ufo", "MathTryAgain-v0", kwargs, task, 0) for task in range(args.tasks)]
    pool = EnvPool()
    try:
        records = play_batch(policy, specs, pool)
    finally:
        pool.close()
    summary = aggregate_multi_turn([r["metrics"] for r in records if r["metrics"]])
    print(json.dumps({"example": "ufo", "policy": args.policy, "episodes": len(records),
                      "errors": sum(bool(r["error"]) for r in records),
                      "success_at_turn": summary["success_at_turn"], "mean_return": summary["mean_reward"]}))


if __name__ == "__main__":
    main()
