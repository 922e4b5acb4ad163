"""``feedback-gym sandbox ...``: manage the Docker engine and image, and run the sandbox benchmark.

Subcommands (CI calls them by these names):

- ``install-engine``: ``apt-get install docker.io`` when there is no ``dockerd``; a no-op otherwise.
- ``start-engine --pid-file PATH``: start ``dockerd --bridge=none --iptables=false`` unless an engine
  answers; write its PID to PATH and wait until it answers.
- ``stop-engine --pid-file PATH``: stop the dockerd whose PID is in PATH (the one we started).
- ``build-image [--tag TAG]``: build the sandbox image from this machine's files.
- ``bench [--quick]``: the performance benchmark and soak run; prints figures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from feedback_gym.sandboxes.config import DEFAULT_IMAGE


def _report(action: Callable[[], str]) -> int:
    """Print what an engine action did (exit 0), or why it could not (exit 1)."""
    try:
        print(action())
    except (RuntimeError, PermissionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _install(args: argparse.Namespace) -> int:
    from feedback_gym.sandboxes.engine import install_engine

    return _report(install_engine)


def _start(args: argparse.Namespace) -> int:
    from feedback_gym.sandboxes.engine import start_engine

    return _report(lambda: start_engine(Path(args.pid_file)))


def _stop(args: argparse.Namespace) -> int:
    from feedback_gym.sandboxes.engine import stop_engine

    return _report(lambda: stop_engine(Path(args.pid_file)))


def _build(args: argparse.Namespace) -> int:
    from feedback_gym.sandboxes.image import build_image

    print(build_image(args.tag))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from feedback_gym.benchmarks.sandbox_perf import main as bench_main

    argv = ["--quick"] if args.quick else []
    if args.soak_checks is not None:
        argv += ["--soak-checks", str(args.soak_checks)]
    if args.no_docker:
        argv.append("--no-docker")
    return bench_main(argv)


def add_parser(parser: argparse.ArgumentParser) -> None:
    """Fill in the ``sandbox`` subcommand's parser (called by ``feedback_gym.cli``)."""
    parser.description = "Manage the sandbox backends: the Docker engine, the image, the benchmark."
    sub = parser.add_subparsers(dest="sandbox_command", required=True)
    sub.add_parser("install-engine", help="apt-get install docker.io if dockerd is missing").set_defaults(
        func=_install
    )
    start = sub.add_parser("start-engine", help="start dockerd --bridge=none --iptables=false (background)")
    start.add_argument("--pid-file", required=True, help="where to write the daemon's PID")
    start.set_defaults(func=_start)
    stop = sub.add_parser("stop-engine", help="stop the dockerd whose PID is in --pid-file")
    stop.add_argument("--pid-file", required=True)
    stop.set_defaults(func=_stop)
    build = sub.add_parser("build-image", help="build the sandbox image from local files (no registry)")
    build.add_argument("--tag", default=DEFAULT_IMAGE)
    build.set_defaults(func=_build)
    bench = sub.add_parser("bench", help="latency/throughput benchmark of the backends and a soak run")
    bench.add_argument("--quick", action="store_true", help="fewer checks (a smoke run, ~1 minute)")
    bench.add_argument("--soak-checks", type=int, default=None, help="checks in the soak run")
    bench.add_argument("--no-docker", action="store_true", help="skip the docker measurements")
    bench.set_defaults(func=_bench)
