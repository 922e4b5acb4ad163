"""Run an experiment end to end: split the tasks, train every arm and seed, evaluate, write the results.

Layout of ``out`` (re-running the same command resumes; finished runs are skipped)::

    config.json                  the experiment, scale and model this folder belongs to
    split.json                   the task ids of each split (train / validation / held-out)
    baseline/seed-S.json         the untrained model on the held-out tasks (step 0 of every arm)
    ARM/seed-S/                  the trainer's folder (metrics.jsonl, transcripts.jsonl, checkpoint)
    ARM/seed-S/evals.jsonl       one held-out evaluation per kept checkpoint
    ARM/seed-S/done.json         written when the run is complete
    results.json                 everything above gathered, plus the judge's verdict
    success_vs_steps.png, success_vs_tokens.png, report.md

A run in progress resumes from its newest checkpoint (``Args.resume``); its evaluations are
written before the checkpoint of the same step, so none is lost or repeated. Checkpoints and the
final model are deleted when a run is done (``keep_models`` keeps them): the results need only
the evaluations, and a 135M-parameter model with its optimizer state is 1.6 GB.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gymnasium as gym

from feedback_gym.benchmarks.experiments.spec import Arm, Experiment, Scale
from feedback_gym.benchmarks.experiments.splits import SPLIT_METHOD, PlayOnly, TaskSplit
from feedback_gym.benchmarks.experiments.stats import CI_METHOD, RATE_CI_METHOD
from feedback_gym.errors import ConfigError

RESULTS_SCHEMA = 1


def run_experiment(
    experiment: Experiment,
    scale_name: str,
    out: Path,
    *,
    model: str | None = None,
    arms: Sequence[str] | None = None,
    device: str = "auto",
    progress: bool = True,
    keep_models: bool = False,
    command: str | None = None,
    evaluate_on: str = "heldout",
    **overrides: Any,
) -> dict[str, Any]:
    """Train and evaluate every arm (or only ``arms``) at ``scale_name``; write and return the results.

    ``overrides`` replace scale settings (``steps=2``); ``model`` replaces the experiment's model
    (``tiny-random`` in tests). ``evaluate_on="validation"`` evaluates on the validation split
    instead of the held-out one (for tuning; see :func:`tune`). A folder that holds another
    configuration is refused, never mixed.
    """
    import feedback_gym  # noqa: F401  (registers the ids)
    from feedback_gym.agents.transformers_policy import resolve_device

    scale = experiment.scale(scale_name, **overrides)
    chosen = [experiment.arm(name) for name in arms] if arms else list(experiment.arms)
    model = model or experiment.model
    resolve_device(device)  # an unusable device fails before the folder is claimed
    if evaluate_on not in ("heldout", "validation"):
        raise ConfigError(f"evaluate_on must be 'heldout' or 'validation'; got {evaluate_on!r}")
    out.mkdir(parents=True, exist_ok=True)
    config = {"experiment": experiment.name, "scale": scale_name, "settings": asdict(scale), "model": model}
    if evaluate_on != "heldout":
        config["evaluate_on"] = evaluate_on
    _claim_folder(out / "config.json", config)

    split = _split(experiment, scale, out / "split.json")
    eval_kwargs = {**experiment.env_kwargs, **experiment.eval_env_kwargs}
    size = scale.heldout_tasks if evaluate_on == "heldout" else scale.validation_tasks
    heldout = split[evaluate_on][:size]
    bar = _bar(progress, experiment.name, len(chosen) * len(scale.seeds) * scale.steps)
    try:
        for seed in scale.seeds:
            _baseline(experiment, scale, model, device, heldout, eval_kwargs, seed, out)
        for arm in chosen:
            for seed in scale.seeds:
                bar.set_postfix_str(f"{arm.name} seed {seed}")
                _run_arm(
                    experiment, scale, arm, seed, model, device, split["train"], heldout, eval_kwargs, out,
                    bar, keep_models,
                )
    finally:
        bar.close()
    results = gather(experiment, out, command=command)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    from feedback_gym.benchmarks.experiments.report import write_report

    write_report(results, out)
    return results


# ---------------------------------------------------------------------- the pieces


def _claim_folder(path: Path, config: dict[str, Any]) -> None:
    config = json.loads(json.dumps(config))  # tuples read back as lists
    if path.exists():
        existing = json.loads(path.read_text())
        if existing != config:
            raise ConfigError(
                f"{path.parent} holds a run of another configuration ({existing}); "
                "give a new --out, or delete the folder to start over"
            )
    else:
        path.write_text(json.dumps(config, indent=1) + "\n")


def _split(experiment: Experiment, scale: Scale, path: Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    env = gym.make(experiment.env, **dict(experiment.env_kwargs))
    try:
        split = TaskSplit.build(
            env,
            {
                "train": scale.train_tasks,
                "validation": scale.validation_tasks,
                "heldout": scale.heldout_tasks,
            },
        )
    finally:
        env.close()
    if split.overlap:
        raise ConfigError(f"{split.overlap} prompts fell into two splits; the split is broken")
    record = {
        "method": SPLIT_METHOD,
        "train": list(split.train),
        "validation": list(split.validation),
        "heldout": list(split.heldout),
        "overlap": split.overlap,
    }
    path.write_text(json.dumps(record) + "\n")
    return record


def _make_policy(model: str, device: str, scale: Scale) -> Any:
    import torch

    from feedback_gym.agents.policy import make_policy

    return make_policy(model, device=device, dtype=torch.float32, max_new_tokens=scale.max_new_tokens)


def _evaluate(policy: Any, envs: Any, scale: Scale, heldout: Sequence[str], seed: int) -> dict[str, Any]:
    from feedback_gym.benchmarks.experiments.evaluate import evaluate

    started = time.perf_counter()
    record = evaluate(
        policy,
        envs,
        len(heldout),
        scale.eval_samples,
        temperature=scale.temperature,
        max_new_tokens=scale.max_new_tokens,
        sampling_seed=1_000 + seed,
    )
    record["seconds"] = round(time.perf_counter() - started, 2)
    return record


def _baseline(
    experiment: Experiment,
    scale: Scale,
    model: str,
    device: str,
    heldout: Sequence[str],
    eval_kwargs: dict[str, Any],
    seed: int,
    out: Path,
) -> None:
    """The untrained model on the held-out tasks: step 0 of every arm of this seed."""
    from feedback_gym.benchmarks.experiments.evaluate import heldout_envs

    path = out / "baseline" / f"seed-{seed}.json"
    if path.exists():
        return
    policy = _make_policy(model, device, scale)
    envs = heldout_envs(experiment.env, eval_kwargs, heldout, scale.eval_samples)
    try:
        record = {"step": 0, "generated_tokens": 0, **_evaluate(policy, envs, scale, heldout, seed)}
    finally:
        envs.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record) + "\n")


def _run_arm(
    experiment: Experiment,
    scale: Scale,
    arm: Arm,
    seed: int,
    model: str,
    device: str,
    train_split: Sequence[str],
    heldout: Sequence[str],
    eval_kwargs: dict[str, Any],
    out: Path,
    bar: Any,
    keep_models: bool,
) -> None:
    """Train one arm with one seed, evaluating on the held-out tasks every ``eval_every`` steps."""
    from feedback_gym.agents.grpo import train
    from feedback_gym.agents.train_args import Args
    from feedback_gym.benchmarks.experiments.evaluate import heldout_envs

    run_dir = out / arm.name / f"seed-{seed}"
    done_path = run_dir / "done.json"
    if done_path.exists():
        bar.update(json.loads(done_path.read_text())["steps"])
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    evals_path = run_dir / "evals.jsonl"
    evaluated = {record["step"] for record in read_jsonl(evals_path)}
    train_ids = list(train_split[: scale.train_tasks])
    train_kwargs = experiment.train_env_kwargs(arm)

    def train_env() -> gym.Env:
        return PlayOnly(gym.make(experiment.env, **train_kwargs), train_ids)

    args = Args(
        env=experiment.env,
        model=model,
        steps=scale.steps,
        out=str(run_dir),
        seed=seed,
        tasks_per_step=scale.tasks_per_step,
        group_size=scale.group_size,
        env_kwargs=train_kwargs,
        max_new_tokens=scale.max_new_tokens,
        temperature=scale.temperature,
        learning_rate=scale.learning_rate,
        micro_batch_size=scale.micro_batch_size,
        checkpoint_every=scale.eval_every,
        keep_checkpoints=1,
        resume=True,
        progress=False,
        device=device,
    )
    envs = heldout_envs(experiment.env, eval_kwargs, heldout, scale.eval_samples)
    started = time.perf_counter()
    bar.update(_checkpointed_steps(run_dir))

    def on_step(step: int, policy: Any, metrics: dict[str, Any]) -> bool:
        bar.update(1)
        tokens = generated_tokens(run_dir / "metrics.jsonl")
        stop = scale.token_budget is not None and tokens >= scale.token_budget
        if (step % scale.eval_every == 0 or stop or step == scale.steps) and step not in evaluated:
            record = {
                "step": step, "generated_tokens": tokens, **_evaluate(policy, envs, scale, heldout, seed)
            }
            with evals_path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            evaluated.add(step)
            rate = record["success@k"]["rate"]
            bar.set_postfix_str(f"{arm.name} seed {seed}: held-out success@k {rate:.2f}")
        if stop:
            bar.total -= scale.steps - step
        return stop

    try:
        if not _budget_spent(scale, run_dir):
            train(args, env_factory=train_env, on_step=on_step)
    finally:
        envs.close()
    steps = max((m["step"] for m in read_jsonl(run_dir / "metrics.jsonl")), default=0)
    done = {
        "steps": steps,
        "generated_tokens": generated_tokens(run_dir / "metrics.jsonl"),
        "seconds_last_session": round(time.perf_counter() - started, 1),
    }
    done_path.write_text(json.dumps(done) + "\n")
    if not keep_models:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        shutil.rmtree(run_dir / "final", ignore_errors=True)


def _checkpointed_steps(run_dir: Path) -> int:
    from feedback_gym.agents.grpo import checkpoints

    newest = checkpoints(run_dir)
    return int(newest[-1].name.split("-")[1]) if newest else 0


def _budget_spent(scale: Scale, run_dir: Path) -> bool:
    """Whether a run stopped by its token budget (before ``done.json`` was written) is already complete."""
    if scale.token_budget is None:
        return False
    step = _checkpointed_steps(run_dir)
    kept = [m for m in read_jsonl(run_dir / "metrics.jsonl") if m["step"] <= step]
    return sum(int(m["policy_tokens"]) for m in kept) >= scale.token_budget


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file, or none when it does not exist."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def generated_tokens(metrics_path: Path) -> int:
    """Tokens the policy sampled in training so far (the sum of ``policy_tokens`` over steps)."""
    return sum(int(m["policy_tokens"]) for m in read_jsonl(metrics_path))


class _NoBar:
    total = 0

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(enabled: bool, name: str, total: int) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="step")


# ---------------------------------------------------------------------- results.json


def gather(experiment: Experiment, out: Path, command: str | None = None) -> dict[str, Any]:
    """Collect a run folder into the ``results.json`` record and add the judge's verdict."""
    config = json.loads((out / "config.json").read_text())
    split = json.loads((out / "split.json").read_text())
    settings = config["settings"]
    baseline = {
        int(p.stem.split("-")[1]): json.loads(p.read_text())
        for p in sorted((out / "baseline").glob("seed-*.json"))
    }
    arms: dict[str, Any] = {}
    for arm in experiment.arms:
        runs = {}
        for seed in settings["seeds"]:
            run_dir = out / arm.name / f"seed-{seed}"
            if not (run_dir / "evals.jsonl").exists():
                continue
            done = run_dir / "done.json"
            metrics = read_jsonl(run_dir / "metrics.jsonl")
            runs[str(seed)] = {
                "complete": done.exists(),
                "evals": [baseline[seed], *read_jsonl(run_dir / "evals.jsonl")] if seed in baseline else
                read_jsonl(run_dir / "evals.jsonl"),
                "train": {
                    "steps": len(metrics),
                    "generated_tokens": sum(int(m["policy_tokens"]) for m in metrics),
                    "seconds": round(sum(float(m["step_seconds"]) for m in metrics), 1),
                    "reward_mean_first": metrics[0]["reward_mean"] if metrics else None,
                    "reward_mean_last": metrics[-1]["reward_mean"] if metrics else None,
                },
            }
        if runs:
            arms[arm.name] = {
                "description": arm.description,
                "train_env_kwargs": experiment.train_env_kwargs(arm),
                "runs": runs,
            }
    evaluate_on = config.get("evaluate_on", "heldout")
    train_ids = split["train"][: settings["train_tasks"]]
    size = settings["heldout_tasks" if evaluate_on == "heldout" else "validation_tasks"]
    heldout_ids = split[evaluate_on][:size]
    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "experiment": experiment.name,
        "question": experiment.question,
        "claim": asdict(experiment.claim),
        "command": command,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "model": config["model"],
        "env": experiment.env,
        "scale": {"name": config["scale"], **settings},
        "split": {
            "method": split["method"],
            "train_tasks": len(split["train"][: settings["train_tasks"]]),
            "validation_tasks": len(split["validation"]),
            "heldout_tasks": len(split["heldout"][: settings["heldout_tasks"]]),
            "evaluated_on": evaluate_on,
            "overlap_train_heldout": len(set(train_ids) & set(heldout_ids)),
            "evaluated_tasks": len(heldout_ids),
        },
        "evaluation": {
            "env_kwargs": {**experiment.env_kwargs, **experiment.eval_env_kwargs},
            "k": experiment.eval_k(),
            "samples_per_task": settings["eval_samples"],
            "temperature": settings["temperature"],
            "max_new_tokens": settings["max_new_tokens"],
            "rate_ci": RATE_CI_METHOD,
            "difference_ci": CI_METHOD,
        },
        "can_show": experiment.can_show,
        "arms": arms,
    }
    results["verdict"] = experiment.judge(results)
    return results


def machine() -> dict[str, Any]:
    """Where the results were made: CPU count, load, GPU, torch threads, library versions."""
    info: dict[str, Any] = {"platform": platform.platform(), "python": sys.version.split()[0]}
    info["cpus"] = os.cpu_count()
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        info["load_average"] = None
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["torch"] = None
    return info



def tune(
    experiment: Experiment,
    scale_name: str,
    out: Path,
    learning_rates: Sequence[float],
    **kwargs: Any,
) -> dict[str, Any]:
    """Train the first arm with each learning rate and pick the best by *validation* success@k.

    Each rate runs in ``out/lr-RATE`` with ``evaluate_on="validation"``, so the held-out tasks
    are never looked at while choosing; ``out/tuning.json`` records every rate's final
    validation success and the choice.
    """
    from feedback_gym.benchmarks.experiments.verdicts import task_rows

    arm = experiment.arms[0].name
    scores = {}
    for rate in learning_rates:
        results = run_experiment(
            experiment, scale_name, out / f"lr-{rate:g}", arms=[arm], evaluate_on="validation",
            learning_rate=rate, **kwargs,
        )
        rows = task_rows(results, arm, "success@k")
        scores[f"{rate:g}"] = sum(map(sum, rows)) / sum(map(len, rows))
    best = max(scores, key=lambda rate: scores[rate])
    record = {"experiment": experiment.name, "scale": scale_name, "arm": arm, "split": "validation",
              "metric": "success@k (final checkpoint)", "scores": scores, "best_learning_rate": float(best)}
    (out / "tuning.json").write_text(json.dumps(record, indent=1) + "\n")
    return record
