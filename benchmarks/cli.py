"""``feedback-gym bench``: run a policy on a suite, or merge run summaries into one leaderboard.

Examples::

    feedback-gym bench --policy smollm2 --suite quick-v0 --out runs/smollm2
    feedback-gym bench --policy oracle --suite quick-v0 --out runs/oracle --backend ray --address HOST:6379
    feedback-gym bench --leaderboard runs/ --out runs/board      # merge every runs/*/summary.json
    feedback-gym bench --list-suites
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from feedback_gym.cli import parse_kwargs
from feedback_gym.errors import ConfigError

DEFAULT_POLICY = "smollm2"
DEFAULT_SUITE = "quick-v0"


def add_parser(parser: argparse.ArgumentParser) -> None:
    """Fill in the ``bench`` subcommand's arguments and set its handler."""
    from feedback_gym.benchmarks.backends import BACKENDS

    parser.description = (
        "Play a policy on a benchmark suite and write episodes.jsonl, summary.json, leaderboard.md/.html "
        "and success_vs_turn.png to --out. Re-running the same command resumes an interrupted run."
    )
    parser.add_argument("--policy", default=DEFAULT_POLICY,
                        help="oracle, random, tiny-random, smollm2 (default), hf:PATH_OR_ID, "
                             "openai:BASE_URL#MODEL, python:module:object")
    parser.add_argument("--suite", default=DEFAULT_SUITE,
                        help="a built-in suite (see --list-suites; default quick-v0) or a suite .json file")
    parser.add_argument("--out", type=Path, help="output folder (reused to resume)")
    parser.add_argument("--sandbox", choices=("local", "docker"), default=None,
                        help="where model-written code runs, for every env that takes a sandbox "
                             "(default: each env's own default, the local sandbox)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local process pool (default) or ray")
    parser.add_argument("--address", default=None, help="address of an existing Ray cluster (--backend ray)")
    parser.add_argument("--gpus-per-worker", type=float, default=0,
                        help="GPUs each Ray actor reserves for its policy (--backend ray)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers, each holding one copy of the policy (default: half the CPU cores)")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="episodes per batch: one policy call per turn covers the whole batch")
    parser.add_argument("--no-control", action="store_true",
                        help="skip the compute-matched best-of-n single-turn control")
    parser.add_argument("--retry-errors", action="store_true",
                        help="when resuming, play again the episodes that ended in an error")
    parser.add_argument("--allow-errors", action="store_true",
                        help="exit 0 even when episodes ended in an error (they still count as not solved "
                             "and are reported beside the rates); by default such a run exits 1")
    parser.add_argument("--policy-kwarg", action="append", default=[], metavar="KEY=VALUE",
                        help="an argument for the policy (value read as JSON when it parses), repeatable")
    parser.add_argument("--compare", action="append", default=[], metavar="PATH",
                        help="another run's summary.json or folder to include on the leaderboard, repeatable")
    parser.add_argument("--leaderboard", nargs="+", metavar="PATH", default=None,
                        help="only merge these summaries (files or folders) into a leaderboard in --out")
    parser.add_argument("--env-url", action="append", default=[], metavar="ID=URL",
                        help="play ID on a `feedback-gym serve ID` server at URL, not locally; repeatable")
    parser.add_argument("--list-suites", action="store_true", help="list the built-in suites and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_cli)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_cli(args: argparse.Namespace) -> int:
    """Handle ``feedback-gym bench``; returns the exit code.

    0: every episode has an outcome; 1: some episodes ended in an error (0 with ``--allow-errors``);
    2: a configuration error; 130: interrupted.

    SIGTERM is treated like Ctrl-C: the workers are stopped, the finished episodes stay on disk,
    and the same command resumes the run.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(args)  # a ConfigError is reported by feedback_gym.cli.main (exit 2)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume where it stopped", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from feedback_gym.benchmarks.suites import describe_suites, get_suite

    if args.list_suites:
        print(describe_suites())
        return 0
    if args.out is None:
        raise ConfigError("--out DIR is required (the folder for transcripts, summary and leaderboard)")
    from feedback_gym.benchmarks.runner import BenchConfig, run_benchmark, write_reports
    from feedback_gym.benchmarks.summary import load_summaries

    if args.leaderboard:
        written = write_reports(load_summaries([*args.leaderboard, *args.compare]), args.out)
        print("\n".join(str(path) for path in written))
        return 0
    suite = get_suite(args.suite)
    from feedback_gym.benchmarks.remote_envs import exported_env_urls, parse_env_urls

    env_urls = parse_env_urls(args.env_url)
    if args.sandbox:
        suite = suite.with_env_kwargs({"sandbox": args.sandbox})
    config = BenchConfig(
        policy=args.policy, suite=suite, out=args.out, backend=args.backend,
        address=args.address, workers=args.workers, batch_size=args.batch_size,
        control=not args.no_control, policy_kwargs=parse_kwargs(args.policy_kwarg, "--policy-kwarg"),
        retry_errors=args.retry_errors, compare=args.compare, gpus_per_worker=args.gpus_per_worker,
    )
    with exported_env_urls(env_urls):
        summary = run_benchmark(config, progress=not args.no_progress)
    _print_summary(summary, args.out)
    if summary["overall"]["errors"] and not args.allow_errors:
        print(f"feedback-gym bench: {summary['overall']['errors']} episodes ended in an error (counted as "
              "not solved); exiting 1 (pass --allow-errors to exit 0)", file=sys.stderr)
        return 1
    return 0


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    from feedback_gym.benchmarks.failures import errors_headline, fallback_headline
    from feedback_gym.benchmarks.leaderboard import ENV_COLUMNS, env_rows, markdown_table

    overall = summary["overall"]
    headline = errors_headline(overall["errors"], overall["episodes"] + overall["control_episodes"],
                               overall.get("error_causes") or {})
    if headline:
        print(f"ERRORS: {headline}\n")
    substituted = fallback_headline(overall.get("feedback_fallback"))
    if substituted:
        print(f"NOTE: {substituted}\n")
    print(markdown_table(env_rows([summary]), ENV_COLUMNS))

    def pct(value: Any) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    print(
        f"\n{summary['policy']['spec']} on {summary['suite']['name']}: "
        f"success@1 {pct(overall['success@1'])}, "
        f"success@k {pct(overall['success@k'])}, best-of-n control {pct(overall['best_of_n'])}, "
        f"{overall['episodes']} episodes, {overall['errors']} errors"
        f"{' (counted as not solved)' if overall['errors'] else ''} "
        f"(wall time {summary['config']['wall_s']} s over all invocations)"
    )
    print(f"wrote {out}/episodes.jsonl, summary.json, leaderboard.md, leaderboard.html, success_vs_turn.png")
