"""Coffee-Gym: the policy writes feedback on buggy code and is paid by how much the revision improves.

``CodeCritic-v0`` shows a task and a program with an injected bug; the reply is feedback ("Line N:
... should be `...`"); a literal editor applies it, and the reward is the unit-test score gain of the
revision (CoffeeEval). Prints the mean reward of the policy and, for scale, of the oracle critic.

    python examples/coffee_gym.py --policy smollm2 --tasks 20
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/coffee_gym.py     # CI budget: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"


def mean_reward(policy, tasks: int) -> tuple[float, str]:
    """The mean CoffeeEval return over ``tasks`` episodes, and the last feedback the policy wrote."""
    env = gym.make("CodeCritic-v0")
    total, reply = 0.0, ""
    for task in range(tasks):
        observation, _ = env.reset(seed=task)
        done = False
        while not done:
            reply = policy.act([[{"role": "user", "content": observation}]], envs=[env.unwrapped])[0].text
            observation, reward, terminated, truncated, _ = env.step(reply)
            total, done = total + reward, terminated or truncated
    env.close()
    return total / tasks, reply


def main() -> None:
    """Score the policy's feedback and the oracle's; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 20)
    args = parser.parse_args()
    sampling = {} if args.policy == "oracle" else {"max_new_tokens": 32 if TINY else 256}
    policy = make_policy(args.policy, **sampling)
    mine, feedback = mean_reward(policy, args.tasks)
    oracle, _ = mean_reward(make_policy("oracle"), args.tasks)
    print(json.dumps({"example": "coffee_gym", "policy": args.policy, "tasks": args.tasks,
                      "mean_reward": mine, "oracle_mean_reward": oracle, "last_feedback": feedback[:200]}))


if __name__ == "__main__":
    main()
