"""Success@turn-k and feedback friction of a policy on Countdown under different retry feedback modes.

A plain-Gymnasium example of driving environments by hand with a batched policy and pooling the
per-episode metrics (``feedback_gym.metrics``). The leaderboard runner (``feedback-gym bench``) does
the same at scale; this file shows the moving parts.

    python examples/retry_friction.py --tasks 10 --turns 3 --modes unary,reject_previous
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/retry_friction.py   # CI budget: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os
import time

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.agents.policy import make_policy
from feedback_gym.conversation import continued, opening
from feedback_gym.metrics import aggregate_metrics, with_tokens

TINY = os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1"
SHOWN = ("solve_rate", "first_turn_accuracy", "success_at_turn", "repetition_rate", "friction_rate",
         "tokens_per_solved", "mean_turns")


def play(policy, mode: str, tasks: int, turns: int) -> dict:
    """Play ``tasks`` Countdown episodes (seeds 0..tasks-1) in lockstep; return the pooled metrics."""
    envs = [gym.make("Countdown-v0", feedback=mode, max_turns=turns) for _ in range(tasks)]
    conversations = [opening(env.reset(seed=i)[0]) for i, env in enumerate(envs)]
    tokens: list[list[int | None]] = [[] for _ in envs]
    finished: list[dict] = []
    live = list(range(tasks))
    while live:
        replies = policy.act([conversations[i] for i in live])
        still_live = []
        for i, reply in zip(live, replies, strict=True):
            observation, _, terminated, truncated, info = envs[i].step(reply.text)
            tokens[i].append(reply.completion_tokens)
            conversations[i] = continued(conversations[i], reply.text, observation)
            if terminated or truncated:
                finished.append(with_tokens(info["episode_metrics"], tokens[i]))
            else:
                still_live.append(i)
        live = still_live
    return aggregate_metrics(finished)


def main() -> None:
    """Parse the arguments, play every mode, print one JSON line per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 10)
    parser.add_argument("--turns", type=int, default=2 if TINY else 3)
    parser.add_argument("--modes", default="unary,reject_previous")
    args = parser.parse_args()
    sampling = {"max_new_tokens": 64, "temperature": 0.7, "seed": 0}
    policy = make_policy(args.policy, **({} if args.policy in ("oracle", "random") else sampling))
    results = {}
    for mode in args.modes.split(","):
        start = time.time()
        metrics = play(policy, mode, args.tasks, args.turns)
        shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics.items() if k in SHOWN}
        print(mode, json.dumps(shown), f"{time.time() - start:.0f}s", flush=True)
        results[mode] = {**shown, "episodes": metrics["episodes"]}
    print(json.dumps({"example": "retry_friction", "policy": args.policy, "modes": results}))


if __name__ == "__main__":
    main()
