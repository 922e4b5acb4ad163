"""Reflexion: each task is tried again after a failure, opened by the policy's own reflection.

A suite entry with ``memory`` plays each task up to ``trials`` times; after a failed trial the policy
under test writes a reflection (``reflector: "self"``; ``None`` for a plain account of its last answer
and the feedback), and the task's next trial starts with the reflections so far. The summary reports
success by trial next to success by turn. The built-in suite is ``reflexion-v0``:

    feedback-gym bench --policy smollm2 --suite reflexion-v0 --out runs/reflexion
    python examples/reflexion.py --policy smollm2 --tasks 10 --trials 3
    python examples/reflexion.py --tiny   # or FEEDBACK_GYM_EXAMPLE_TINY=1: tiny-random, 2 tasks
"""

from __future__ import annotations

import argparse
import json
import os

from feedback_gym.benchmarks.runner import BenchConfig, run_benchmark
from feedback_gym.benchmarks.suites import Suite, SuiteEntry


def main() -> None:
    """Run a Reflexion suite on Countdown and print success by trial and the tokens it cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="smollm2")
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--reflector", default="self", help='"self", "none" or a policy spec')
    parser.add_argument("--out", default=None, help="the run's folder (default: ./reflexion-run)")
    parser.add_argument("--tiny", action="store_true", help="tiny-random, two tasks, two trials")
    args = parser.parse_args()
    if args.tiny or os.environ.get("FEEDBACK_GYM_EXAMPLE_TINY") == "1":
        args.policy, args.tasks, args.trials = "tiny-random", 2, 2
    memory = {"trials": args.trials, "reflector": None if args.reflector == "none" else args.reflector}
    entry = SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 2}, tuple(range(args.tasks)),
                       control=False, memory=memory)
    sampling = {"max_new_tokens": 24 if args.policy == "tiny-random" else 256, "temperature": 0.7, "seed": 0}
    config = BenchConfig(args.policy, Suite("reflexion-example", (entry,)),
                         args.out or "reflexion-run", workers=1, policy_kwargs=sampling)
    summary = run_benchmark(config, progress=False)
    (env,) = summary["envs"].values()
    multi = env["multi_turn"]
    print(json.dumps({"example": "reflexion", "out": str(config.out), "episodes": multi["episodes"],
                      "success_by_trial": multi.get("success_by_trial"), "success@k": multi["success@k"],
                      "total_tokens": multi.get("total_tokens"), "errors": summary["overall"]["errors"]}))


if __name__ == "__main__":
    main()
