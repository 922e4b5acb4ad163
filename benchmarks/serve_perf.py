"""How much serving costs: steps/s and step latency in-process vs through ``feedback-gym serve``.

For each env (CodeFeedback-v0 and MathCritique-v0 by default), the same episodes are played
in-process and through a server on loopback, with 1 and with N concurrent sessions (threads of this
process, one environment each; in-process they share one sandbox as the server's sessions do).
Every episode is ``reset(seed)``, a wrong attempt (for code: the reference with every answer
changed, so the sandbox runs it), then the reference action; only steps are timed. The server is a
child process (``feedback-gym serve``), stopped by its PID at the end.

Run: ``python -m feedback_gym.benchmarks.serve_perf [--envs ...] [--sessions 1 16] [--episodes N]``.
Prints a Markdown table, the machine's load average and core count. Figures from a shared machine
move with its load: compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from feedback_gym.benchmarks.leaderboard import Column, fmt_number, fmt_text, markdown_table
from feedback_gym.benchmarks.metrics import percentile

DEFAULT_ENVS = ("CodeFeedback-v0", "MathCritique-v0")
KNOWN_BAD_ACTION = "I don't know."


def episode_plan(env_id: str, seeds: range) -> list[tuple[int, list[str]]]:
    """For each seed, the actions of one episode: a wrong attempt, then the reference."""
    import gymnasium as gym

    import feedback_gym  # noqa: F401  (registers the ids)

    env = gym.make(env_id)
    plan = []
    try:
        for seed in seeds:
            env.reset(seed=seed)
            task = env.unwrapped.task
            wrong = KNOWN_BAD_ACTION
            if env_id.startswith(("CodeFeedback", "CppCompiler")):
                from feedback_gym.envs.code.mutants import wrong_answer_program

                language = task.metadata.get("language", "python")
                wrong = f"```{language}\n{wrong_answer_program(task)}\n```"
            plan.append((seed, [wrong, env.unwrapped.oracle_action()]))
    finally:
        env.close()
    return plan


def play(make: Callable[[], Any], plan: list[tuple[int, list[str]]], sessions: int) -> dict[str, Any]:
    """Play ``plan`` (split over ``sessions`` threads, one env each); returns timings of the steps."""
    envs = [make() for _ in range(sessions)]
    latencies: list[list[float]] = [[] for _ in range(sessions)]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        env = envs[index]
        try:
            for seed, actions in plan[index::sessions]:
                env.reset(seed=seed)
                for action in actions:
                    start = time.perf_counter()
                    *_, terminated, truncated, _ = env.step(action)
                    latencies[index].append(time.perf_counter() - start)
                    if terminated or truncated:
                        break
        except BaseException as err:  # noqa: BLE001 - reported below; a failed run has no figures
            errors.append(err)

    for env in envs:  # warm up: first steps start sandboxes and fill caches
        env.reset(seed=plan[0][0])
        env.step(plan[0][1][-1])
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(sessions)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    for env in envs:
        env.close()
    if errors:
        raise errors[0]
    flat = sorted(x for per in latencies for x in per)
    return {
        "steps": len(flat),
        "steps_per_s": len(flat) / wall,
        "p50_ms": 1000 * statistics.median(flat),
        "p95_ms": 1000 * percentile(flat, 0.95),
    }


def measure(env_ids: list[str], sessions: list[int], episodes: int) -> list[dict[str, Any]]:
    """Rows of (env, where, sessions) with their timings; one server per env."""
    import gymnasium as gym

    from feedback_gym.benchmarks.play import EnvPool
    from feedback_gym.remote import RemoteEnv
    from feedback_gym.serve.process import ServerProcess

    rows = []
    for env_id in env_ids:
        for count in sessions:
            plan = episode_plan(env_id, range(max(episodes, count)))
            pool = EnvPool(share_sandboxes=True)  # one sandbox for all sessions, as the server has
            kwargs = dict(gym.spec(env_id).kwargs)
            try:
                local = play(lambda p=pool, i=env_id, k=kwargs: p.acquire(i, k), plan, count)
            finally:
                pool.close()
            rows.append({"env": env_id, "where": "in-process", "sessions": count, **local})
            with ServerProcess(env_id, ["--max-sessions", str(max(sessions) + 1)]) as server:
                served = play(lambda url=server.url: RemoteEnv(url), plan, count)
            rows.append({"env": env_id, "where": "served", "sessions": count, **served})
    return rows


def _or_blank(template: str) -> Callable[[Any], str]:
    return lambda value: "" if value is None else template.format(value)


COLUMNS = (
    Column("env", "env", fmt_text),
    Column("where", "where", fmt_text),
    Column("sessions", "sessions", fmt_number),
    Column("steps", "steps", fmt_number),
    Column("steps_per_s", "steps/s", "{:.1f}".format),
    Column("p50_ms", "p50 ms", "{:.2f}".format),
    Column("p95_ms", "p95 ms", "{:.2f}".format),
    Column("added_p50_ms", "added p50 ms", _or_blank("{:+.2f}")),
    Column("vs_in_process", "vs in-process", _or_blank("{:.0%}")),
)


def render(rows: list[dict[str, Any]], load_before: tuple[float, ...], load_after: tuple[float, ...]) -> str:
    """A Markdown table, with the service's added p50 and its share of in-process throughput."""
    local = {(r["env"], r["sessions"]): r for r in rows if r["where"] == "in-process"}
    before, after = (" ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    table = []
    for r in rows:
        base = local[(r["env"], r["sessions"])]
        served = r["where"] == "served"
        table.append({**r, "added_p50_ms": r["p50_ms"] - base["p50_ms"] if served else None,
                      "vs_in_process": r["steps_per_s"] / base["steps_per_s"] if served else None})
    title = (
        f"Serving overhead on loopback ({os.cpu_count()} cores; load average {before} before, {after} after)"
    )
    return f"{title}\n\n{markdown_table(table, COLUMNS)}"


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=list(DEFAULT_ENVS), help="ids to measure")
    parser.add_argument("--sessions", nargs="+", type=int, default=[1, 16], help="concurrent sessions")
    parser.add_argument("--episodes", type=int, default=64, help="episodes per configuration (2 steps each)")
    args = parser.parse_args(argv)
    before = os.getloadavg()
    rows = measure(args.envs, args.sessions, args.episodes)
    print(render(rows, before, os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
