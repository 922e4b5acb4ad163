"""StepTool: tool use with step-grained rewards (each useful call pays, each call costs).

``ToolUse-v0`` with ``step_reward`` (a call that succeeded and revealed a new key fact) and
``call_cost`` (every call), on top of the answer's success reward; ``info["reward_components"]`` keeps
the parts apart, as StepTool's step-grained credit needs. Prints the mean return and the summed
components of the policy and of the oracle's plan.

    python examples/steptool.py --policy smollm2 --tasks 10
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/steptool.py      # CI budget: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.conversation import play_episode

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"


def play(policy, tasks: int) -> dict:
    """Mean return and summed reward components over ``tasks`` episodes."""
    env = gym.make("ToolUse-v0", step_reward=0.1, call_cost=0.02, max_turns=4 if TINY else 12)
    parts, total = Counter(), 0.0
    for task in range(tasks):
        for turn in play_episode(policy, env, seed=task):
            total += turn.reward
            parts.update(turn.info["reward_components"])
    env.close()
    return {"mean_return": total / tasks, "components": {k: round(v, 4) for k, v in parts.items()}}


def main() -> None:
    """Play the policy and the oracle; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 10)
    args = parser.parse_args()
    sampling = {} if args.policy == "oracle" else {"max_new_tokens": 32 if TINY else 256}
    policy = make_policy(args.policy, **sampling)
    print(json.dumps({"example": "steptool", "policy": args.policy, "tasks": args.tasks,
                      "policy_result": play(policy, args.tasks),
                      "oracle_result": play(make_policy("oracle"), args.tasks)}))


if __name__ == "__main__":
    main()
