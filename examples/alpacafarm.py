"""AlpacaFarm: simulated pairwise annotators, and a policy's win rate against a baseline as its reward.

Each task's reply from the policy is compared with a baseline reply ("I don't know." by default, or a
second policy's) by two simulated annotators: a model (any policy spec; an OpenAI-compatible endpoint
with ``--annotator openai:http://127.0.0.1:8000/v1#MODEL``) asked in both orders, and a
reference-guided judge that runs both replies through the task's own checks. ``preference_reward``
is the same function a TRL ``GRPOTrainer(reward_funcs=...)`` takes.

    python examples/alpacafarm.py --policy smollm2 --annotator smollm2 --tasks 10
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/alpacafarm.py     # CI budget: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.annotators import ModelAnnotator, ReferenceJudge, preference_reward

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"
ENV_ID = "MathCritiqueBundled-v0"


def main() -> None:
    """Collect one reply per task, judge it against the baseline twice, print the win rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--annotator", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--baseline", default=None, help="a policy spec for the baseline replies")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 10)
    args = parser.parse_args()
    sampling = {"max_new_tokens": 32 if TINY else 256}
    env = gym.make(ENV_ID, max_turns=1)
    prompts, task_ids = [], []
    for task in range(args.tasks):
        prompt, info = env.reset(options={"task_index": task})
        prompts.append(prompt)
        task_ids.append(info["task_id"])
    env.close()
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    completions = [r.text for r in make_policy(args.policy, **sampling).act(conversations)]
    baseline = ([r.text for r in make_policy(args.baseline, **sampling).act(conversations)] if args.baseline
                else ["I don't know."] * len(prompts))
    judges = {"model": ModelAnnotator(args.annotator, on_unreadable="tie" if TINY else "raise"),
              "reference": ReferenceJudge(ENV_ID)}
    rewards = {name: preference_reward(judge)(prompts, completions, baseline=baseline, task_id=task_ids)
               for name, judge in judges.items()}
    judges["reference"].close()
    print(json.dumps({"example": "alpacafarm", "policy": args.policy, "tasks": len(prompts),
                      "rewards": rewards,
                      "win_rate": {name: sum(r) / len(r) for name, r in rewards.items()}}))


if __name__ == "__main__":
    main()
