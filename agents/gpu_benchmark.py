"""Throughput of the reference GRPO trainer, and of TRL's GRPOTrainer on the same task, same device.

Both trainers get the same model, environment, batch (``tasks_per_step`` x ``group_size``
episodes) and reply budget, single-turn so the work is identical; the reference trainer is also
timed multi-turn. The first step of each run is warm-up and is not counted. Figures are printed
as JSON (and written to ``--out``/benchmark.json)::

    python -m feedback_gym.agents.gpu_benchmark --model smollm2 --device cuda     # on a GPU
    python -m feedback_gym.agents.gpu_benchmark --model tiny-random --device cpu  # anywhere

Reported: ``seconds_per_step`` (median), ``rollout_tokens_per_second`` (sampled tokens / generation
seconds; reference trainer only, TRL does not time generation apart), and
``end_to_end_tokens_per_second`` (sampled tokens / step seconds) for both, plus their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from feedback_gym.agents.grpo import train
from feedback_gym.agents.train_args import Args


def reference_run(args: argparse.Namespace, max_turns: int, out: Path) -> dict[str, Any]:
    """Run the reference trainer for ``args.steps`` steps; summarise its metrics."""
    run_args = Args(
        env=args.env,
        model=args.model,
        steps=args.steps,
        out=str(out),
        seed=0,
        tasks_per_step=args.tasks_per_step,
        group_size=args.group_size,
        max_new_tokens=args.max_new_tokens,
        env_kwargs={"max_turns": max_turns},
        learning_rate=1e-6,
        micro_batch_size=args.micro_batch_size,
        checkpoint_every=10_000,
        progress=False,
        device=args.device,
    )
    train(run_args)
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()][1:]
    tokens = sum(m["policy_tokens"] for m in metrics)
    seconds = sum(m["step_seconds"] for m in metrics)
    generate = sum(
        m["policy_tokens"] / m["rollout_tokens_per_second"] for m in metrics if m["rollout_tokens_per_second"]
    )
    return {
        "trainer": f"feedback-gym GRPO ({max_turns} turn{'s' if max_turns > 1 else ''})",
        "seconds_per_step": statistics.median(m["step_seconds"] for m in metrics),
        "rollout_tokens_per_second": tokens / generate if generate else None,
        "end_to_end_tokens_per_second": tokens / seconds,
        "update_seconds_per_step": statistics.median(m["update_seconds"] for m in metrics),
        "sampled_tokens_per_step": tokens / len(metrics),
    }


def trl_run(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Run TRL's GRPOTrainer on the same task (single turn, the environment as reward function)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from feedback_gym.agents.adapters.trl import reward_function, task_dataset
    from feedback_gym.agents.models import smollm2_path, tiny_random_path

    path = {"smollm2": smollm2_path, "tiny-random": tiny_random_path}.get(
        args.model, lambda: args.model.removeprefix("hf:")
    )()
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    batch = args.tasks_per_step * args.group_size
    on_gpu = args.device.startswith("cuda")
    config = GRPOConfig(
        output_dir=str(out),
        max_steps=args.steps,
        per_device_train_batch_size=batch,
        num_generations=args.group_size,
        max_completion_length=args.max_new_tokens,
        learning_rate=1e-6,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=not on_gpu,
        bf16=on_gpu,
        seed=0,
        gradient_accumulation_steps=1,
    )

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.starts: list[float] = []
            self.durations: list[float] = []

        def on_step_begin(self, *_: Any, **__: Any) -> None:
            self.starts.append(time.perf_counter())

        def on_step_end(self, *_: Any, **__: Any) -> None:
            self.durations.append(time.perf_counter() - self.starts[-1])

    timer = StepTimer()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward_function(args.env, max_turns=1)],
        train_dataset=task_dataset(args.env, batch * args.steps, max_turns=1),
        args=config,
        processing_class=tokenizer,
        callbacks=[timer],
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "completions/mean_length" in entry][1:]
    durations = timer.durations[1:]
    tokens = sum(entry["completions/mean_length"] * batch for entry in logs)
    return {
        "trainer": "trl GRPOTrainer (1 turn)",
        "seconds_per_step": statistics.median(durations),
        "rollout_tokens_per_second": None,
        "end_to_end_tokens_per_second": tokens / sum(durations),
        "sampled_tokens_per_step": tokens / len(logs),
    }


def main(argv: list[str] | None = None) -> int:
    """Run both trainers and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2", help="smollm2, tiny-random or hf:PATH")
    parser.add_argument("--env", default="Countdown-v0")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=4, help="steps per run (the first is warm-up)")
    parser.add_argument("--tasks-per-step", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument(
        "--multi-turn", type=int, default=3, help="turns of the extra multi-turn run (0: skip)"
    )
    parser.add_argument("--skip-trl", action="store_true")
    parser.add_argument("--out", default=None, help="where to write benchmark.json (default: a temp dir)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.steps < 2:
        parser.error("--steps must be >= 2 (the first step is warm-up)")
    import feedback_gym  # noqa: F401 - registers the environment ids

    out = Path(args.out or tempfile.mkdtemp(prefix="fg-bench-"))
    results = [reference_run(args, 1, out / "reference-1")]
    if not args.skip_trl:
        results.append(trl_run(args, out / "trl"))
    if args.multi_turn > 1:
        results.append(reference_run(args, args.multi_turn, out / f"reference-{args.multi_turn}"))
    report: dict[str, Any] = {
        "model": args.model,
        "env": args.env,
        "device": args.device,
        "device_name": torch.cuda.get_device_name()
        if args.device.startswith("cuda")
        else platform.processor(),
        "episodes_per_step": args.tasks_per_step * args.group_size,
        "max_new_tokens": args.max_new_tokens,
        "steps_timed": args.steps - 1,
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "results": results,
    }
    if not args.skip_trl:
        ours, theirs = results[0], results[1]
        report["speedup_seconds_per_step_vs_trl"] = theirs["seconds_per_step"] / ours["seconds_per_step"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
