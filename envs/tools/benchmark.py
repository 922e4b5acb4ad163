"""How long one tool call takes through ``env.step``, and how many oracle episodes run per second.

Run ``python -m feedback_gym.envs.tools.benchmark`` (``--quick`` for fewer repetitions). Every figure
is measured in the same run as its baseline: a malformed reply (parsing and feedback only, no tool)
is the floor each tool call is compared with, and the python tool is measured with and without
earlier cells to replay.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from feedback_gym.envs.tools.env import ToolUseEnv

SHOP_TASK = {"question": "benchmark", "answer": 1, "database": "shop"}
CALLS = {
    "calculator": {"tool": "calculator", "arguments": {"expression": "round(1234.5 * (1 - 15 / 100), 2)"}},
    "search (BM25, 68 docs)": {"tool": "search", "arguments": {"query": "first rain gauge"}},
    "sql (3-table join)": {"tool": "sql", "arguments": {"query": (
        "SELECT ROUND(SUM(oi.quantity * p.price), 2) FROM orders o JOIN order_items oi ON oi.order_id = o.id "
        "JOIN products p ON p.id = oi.product_id WHERE o.status = 'shipped'")}},
}
NO_PYTHON_KINDS = ("shop_revenue", "shop_cancelled_share", "weather_gap", "town_years", "town_density",
                   "invention_age", "river_span")


def step_latencies(repeats: int) -> list[tuple[str, float]]:
    """Median milliseconds of one ``env.step`` per kind of reply (a fresh episode each time)."""
    env = ToolUseEnv(max_turns=50, max_tool_calls=50)
    rows = []

    def one(action: str, before: tuple[str, ...] = ()) -> Callable[[], None]:
        def prepare_and_step() -> None:
            env.reset(options={"task": SHOP_TASK})
            for earlier in before:
                env.step(earlier)
            started = time.perf_counter()
            env.step(action)
            timings.append((time.perf_counter() - started) * 1000)

        return prepare_and_step

    try:
        env.reset(options={"task": SHOP_TASK})
        env.step(json.dumps({"tool": "python", "arguments": {"code": "1"}}))  # start the sandbox
        cases: list[tuple[str, str, tuple[str, ...]]] = [("malformed reply (baseline)", "not a call", ())]
        cases += [(name, json.dumps(call), ()) for name, call in CALLS.items()]
        cell = json.dumps({"tool": "python", "arguments": {"code": "print(sum(range(10)))"}})
        define = [{"tool": "python", "arguments": {"code": f"v{n} = {n}"}} for n in range(5)]
        earlier = tuple(json.dumps(call) for call in define)
        cases += [("python, fresh episode", cell, ()), ("python, 5 earlier cells replayed", cell, earlier)]
        for name, action, before in cases:
            timings: list[float] = []
            for _ in range(repeats):
                one(action, before)()
            rows.append((name, statistics.median(timings)))
    finally:
        env.close()
    return rows


def oracle_throughput(episodes: int) -> list[tuple[str, float, float]]:
    """Oracle episodes and steps per second for each task set."""
    rows = []
    for label, kwargs in (("generated, no python kinds", {"kinds": NO_PYTHON_KINDS}),
                          ("generated, all kinds", {}), ("handwritten", {"tasks": "handwritten"})):
        env = ToolUseEnv(**kwargs)
        try:
            env.reset(options={"task_index": 0})
            env.step(env.oracle_action())
            steps, started = 0, time.perf_counter()
            for index in range(episodes):
                env.reset(options={"task_index": index})
                done = False
                while not done:
                    _, _, terminated, truncated, _ = env.step(env.oracle_action())
                    steps += 1
                    done = terminated or truncated
            elapsed = time.perf_counter() - started
            rows.append((label, episodes / elapsed, steps / elapsed))
        finally:
            env.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print both tables as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for a smoke run)")
    args = parser.parse_args(argv)
    repeats, episodes = (5, 16) if args.quick else (30, 64)
    latencies = step_latencies(repeats)
    baseline = latencies[0][1]
    print("| reply | median ms per step | x baseline |\n|---|---|---|")
    for name, ms in latencies:
        print(f"| {name} | {ms:.2f} | {ms / baseline:.1f} |")
    print("\n| oracle episodes | episodes/s | steps/s |\n|---|---|---|")
    for label, per_episode, per_step in oracle_throughput(episodes):
        print(f"| {label} | {per_episode:.1f} | {per_step:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
