"""Per-step overhead of the code environments on top of the sandbox.

A step's cost is the sandbox work (running the tests: milliseconds to a second for a C++ compile) plus
what the environment adds: reading the program out of the reply, turning outcomes into checks and
evidence, rendering feedback, the reward and ``info``. Timing whole steps against bare harness calls
buries that addition in the sandbox's jitter on a busy machine, so it is measured directly: the same
step is replayed with the harness calls answered from a recording of a real run (no sandbox work at
all), and compared with the real harness time measured in the same run.

Run: ``python -m feedback_gym.benchmarks.env_overhead [--backend local|docker] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from feedback_gym.benchmarks.leaderboard import Column, fmt_number, fmt_text, markdown_table
from feedback_gym.benchmarks.metrics import percentile
from feedback_gym.envs.code import CodeFeedbackEnv, CppCompilerFeedbackEnv
from feedback_gym.envs.code import verifier as verifier_module
from feedback_gym.envs.code.mutants import wrong_answer_program
from feedback_gym.sandboxes import make_sandbox

#: (label, env class, task ids); a correct and a wrong program are stepped for each task.
CASES = [
    ("python function", CodeFeedbackEnv, ["bundled/py/two_sum", "bundled/py/edit_distance",
                                          "bundled/py/gcd"]),
    ("python stdin/stdout", CodeFeedbackEnv, ["bundled/py-io/sum-two", "bundled/py-io/lis-io"]),
    ("C/C++ stdin/stdout", CppCompilerFeedbackEnv, ["bundled/c/sum-two", "bundled/cpp/lis-io"]),
]
HARNESS_CALLS = ("check_function", "run_io_tests", "compile_source")


@contextmanager
def harness(mode: str, tape: list[Any]) -> Iterator[list[float]]:
    """Record the verifier's harness calls, or replay a recording of them.

    ``record``: run the real calls, keep their results in ``tape`` and their durations; ``replay``:
    answer them from ``tape`` in order, instantly. Yields the list of recorded durations (seconds).
    """
    originals = {name: getattr(verifier_module, name) for name in HARNESS_CALLS}
    durations: list[float] = []
    replay = iter(tape)

    def wrap(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if mode == "replay":
                return next(replay)
            start = time.perf_counter()
            result = originals[name](*args, **kwargs)
            durations.append(time.perf_counter() - start)
            tape.append(result)
            return result

        return call

    for name in HARNESS_CALLS:
        setattr(verifier_module, name, wrap(name))
    try:
        yield durations
    finally:
        for name, original in originals.items():
            setattr(verifier_module, name, original)


def measure(backend: str, rounds: int) -> list[dict[str, Any]]:
    """For each task kind: the real harness time per step and the env's own time per step (ms)."""
    sandbox = make_sandbox(backend)
    rows = []
    try:
        for label, env_class, task_ids in CASES:
            env = env_class(sandbox=sandbox)
            sandbox_times, env_times = [], []
            for task_id in task_ids:
                env.reset(options={"task_id": task_id})
                language = env.task.metadata["language"]
                for action in (env.oracle_action(), f"```{language}\n{wrong_answer_program(env.task)}\n```"):
                    for _ in range(rounds):
                        tape: list[Any] = []
                        env.reset(options={"task_id": task_id})
                        with harness("record", tape) as durations:
                            recorded = env.step(action)
                        sandbox_times.append(sum(durations))
                        env.reset(options={"task_id": task_id})
                        with harness("replay", tape):
                            start = time.perf_counter()
                            replayed = env.step(action)
                            env_times.append(time.perf_counter() - start)
                        assert replayed[0] == recorded[0], "a replayed step must give the same feedback"
            env.close()
            sandbox_ms = 1000 * statistics.median(sandbox_times)
            env_ms = 1000 * statistics.median(env_times)
            rows.append({
                "kind": label, "steps": len(env_times), "sandbox_ms": sandbox_ms, "env_ms": env_ms,
                "env_p95_ms": 1000 * percentile(env_times, 0.95), "share": env_ms / (env_ms + sandbox_ms),
            })
    finally:
        sandbox.close()
    return rows


COLUMNS = (
    Column("kind", "task kind", fmt_text),
    Column("steps", "steps", fmt_number),
    Column("sandbox_ms", "sandbox harness (ms)", "{:.2f}".format),
    Column("env_ms", "env overhead (ms)", "{:.3f}".format),
    Column("env_p95_ms", "overhead p95 (ms)", "{:.3f}".format),
    Column("share", "overhead share", "{:.2%}".format),
)


def render(rows: list[dict[str, Any]], backend: str) -> str:
    """A Markdown table of the measurements."""
    title = f"Code env per-step overhead on top of the sandbox (sandbox={backend}; medians)"
    return f"{title}\n\n{markdown_table(rows, COLUMNS)}"


def main(argv: list[str] | None = None) -> int:
    """Measure and print the per-step overhead table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("local", "docker"), default="local")
    parser.add_argument("--rounds", type=int, default=10, help="timed repetitions per (task, program)")
    args = parser.parse_args(argv)
    print(render(measure(args.backend, args.rounds), args.backend))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
