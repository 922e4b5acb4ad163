"""RISE (recursive introspection): does a model improve over turns when told its answer is wrong?

RISE fine-tunes on multi-turn rollouts in which each turn improves on the last. This script plays
those rollouts on maths problems under two kinds of oracle feedback (``binary``: "incorrect", and the
reference-guided ``critique``), reports the turn-1 to final-turn gain, and writes the improving
episodes (a wrong turn followed by a solved one): the data RISE distils from.

    python examples/rise.py --policy smollm2 --tasks 20 --out rise_data.jsonl
    FEEDBACK_GYM_EXAMPLE_TINY=1 python examples/rise.py      # CI budget: tiny-random, 2 tasks
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
    """Play each feedback mode; print per-mode gains as one JSON line; write the improving episodes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="tiny-random" if TINY else "smollm2")
    parser.add_argument("--tasks", type=int, default=2 if TINY else 20)
    parser.add_argument("--turns", type=int, default=2 if TINY else 4)
    parser.add_argument("--out", default="rise_data.jsonl")
    args = parser.parse_args()
    sampling = {} if args.policy == "oracle" else {"max_new_tokens": 32 if TINY else 256}
    policy = make_policy(args.policy, **sampling)
    result, improving = {"example": "rise", "policy": args.policy, "modes": {}}, []
    pool = EnvPool()
    try:
        for mode in ("binary", "critique"):
            kwargs = {"feedback": mode, "max_turns": args.turns}
            records = play_batch(policy, [EpisodeSpec(mode, "MathCritique-v0", kwargs, t, 0)
                                          for t in range(args.tasks)], pool)
            summary = aggregate_multi_turn([r["metrics"] for r in records if r["metrics"]])
            errors = sum(bool(r["error"]) for r in records)
            result["modes"][mode] = {"episodes": len(records), "errors": errors,
                                     "success_at_turn": summary["success_at_turn"],
                                     "turn1_to_final": summary["turn1_to_final_delta"]}
            improving += [{"feedback": mode, "messages": r["messages"]} for r in records if r["metrics"]
                          and r["metrics"]["solved"] and not r["metrics"]["first_turn_solved"]]
    finally:
        pool.close()
    with open(args.out, "w") as out:
        out.writelines(json.dumps(episode) + "\n" for episode in improving)
    result["improving_episodes"] = len(improving)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
