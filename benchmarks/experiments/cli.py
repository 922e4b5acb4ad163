"""``feedback-gym experiment``: train the arms of a named experiment and report held-out gains.

Examples::

    feedback-gym experiment --list
    feedback-gym experiment learns-v0                        # CPU scale, into runs/experiments/learns-v0
    feedback-gym experiment unary-feedback-v0 --scale gpu --out runs/ufo-gpu
    feedback-gym experiment learns-v0 --report-only --out docs/experiments/learns-v0
    feedback-gym experiment --update-index docs/experiments/index.md

Re-running the same command resumes: finished runs are skipped, a run in progress continues
from its newest checkpoint.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

SCALES = ("tiny", "quick", "cpu", "gpu")


def add_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Fill in the ``experiment`` subcommand's arguments and set its handler."""
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("name", nargs="?", help="the experiment (see --list)")
    parser.add_argument("--list", action="store_true", help="name the experiments and exit")
    parser.add_argument("--scale", default="cpu", choices=SCALES,
                        help="compute scale (default cpu: 26-37 min per experiment on 2 cores; gpu: one GPU)")
    parser.add_argument("--out", type=Path, help="output folder (default runs/experiments/NAME-SCALE)")
    parser.add_argument("--model", help="policy spec to train instead of the experiment's (e.g. tiny-random)")
    parser.add_argument("--arm", action="append", dest="arms", help="run only this arm (repeatable)")
    parser.add_argument("--steps", type=int, help="override the scale's steps")
    parser.add_argument("--seeds", type=lambda text: tuple(int(s) for s in text.split(",")),
                        help="override the scale's seeds, e.g. 0,1,2")
    parser.add_argument("--set", action="append", default=[], dest="settings", metavar="KEY=VALUE",
                        help="override any scale setting, e.g. --set heldout_tasks=16 (repeatable)")
    parser.add_argument("--device", default="auto", help="auto (GPU when there is one), cpu, cuda")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--keep-models", action="store_true", help="keep checkpoints and final models")
    parser.add_argument("--report-only", action="store_true",
                        help="re-judge --out/results.json and redraw its plots and report.md; train nothing")
    parser.add_argument("--tune", metavar="RATES",
                        type=lambda text: tuple(float(r) for r in text.split(",")),
                        help="instead of a run: train the first arm with each learning rate (e.g. 1e-5,3e-5) "
                             "and pick the best by success on the validation split, never the held-out one")
    parser.add_argument("--update-index", type=Path, metavar="INDEX_MD",
                        help="rewrite the results table of a docs index from the results.json beside it")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """List, report, or run an experiment."""
    from feedback_gym.benchmarks.experiments import EXPERIMENTS, get_experiment
    from feedback_gym.errors import ConfigError, require_int

    if args.list:
        for name in EXPERIMENTS:
            experiment = get_experiment(name)
            print(f"{name:<22} {experiment.question}")
        return 0
    if args.update_index:
        from feedback_gym.benchmarks.experiments.report import update_index

        update_index(args.update_index)
        return 0
    if not args.name:
        raise SystemExit("name an experiment (feedback-gym experiment --list names them)")
    experiment = get_experiment(args.name)
    out = args.out or Path("runs/experiments") / f"{args.name}-{args.scale}"
    if args.report_only:
        import json

        from feedback_gym.benchmarks.experiments.report import write_report

        if not (out / "results.json").is_file():
            raise ConfigError(f"--report-only: no {out / 'results.json'}; run the experiment first")
        results = json.loads((out / "results.json").read_text())
        # Derived data and the spec's own words are refreshed; the measurements are left as they are.
        from feedback_gym.benchmarks.experiments.stats import CI_METHOD

        results.update(question=experiment.question, can_show=experiment.can_show)
        results["evaluation"]["difference_ci"] = CI_METHOD
        results["verdict"] = experiment.judge(results)
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        for path in write_report(results, out):
            print(path)
        return 0
    if args.threads is not None:
        import torch

        torch.set_num_threads(require_int("--threads", args.threads, minimum=1))
    from feedback_gym.benchmarks.experiments.runner import run_experiment, tune

    if args.tune:
        record = tune(
            experiment, args.scale, out / "tuning", args.tune, model=args.model, device=args.device,
            progress=not args.no_progress, **_overrides(args),
        )
        best = record["best_learning_rate"]
        print(f"validation success@k by learning rate: {record['scores']}; best {best}")
        return 0
    results = run_experiment(
        experiment,
        args.scale,
        out,
        model=args.model,
        arms=args.arms,
        device=args.device,
        progress=not args.no_progress,
        keep_models=args.keep_models,
        command="feedback-gym " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["experiment"]
        else "feedback-gym experiment " + args.name,
        **_overrides(args),
    )
    verdict = results["verdict"]
    print(f"{experiment.name}: {verdict['status']}. {verdict['summary']}")
    print(f"results: {out / 'results.json'}  report: {out / 'report.md'}")
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The scale overrides: ``--set KEY=VALUE`` pairs (lists read as tuples) plus ``--steps``/``--seeds``."""
    from feedback_gym.cli import parse_kwargs
    from feedback_gym.errors import ConfigError

    values = parse_kwargs(args.settings, "--set")
    overrides = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
    for key in ("steps", "seeds"):
        flag = getattr(args, key)
        if flag is None:
            continue
        if key in overrides:
            raise ConfigError(f"{key} given twice (--{key} and --set {key}=...); give it once")
        overrides[key] = flag
    return overrides
