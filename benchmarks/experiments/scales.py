"""The compute scales every experiment offers, so ``--scale`` means the same thing for all three.

- ``tiny``: seconds, for the tests (with ``--model tiny-random``); shows only that the code runs.
- ``quick``: a few minutes of CPU, to try a change before a full run.
- ``cpu`` (default): measured on the 2-core machine with ``--threads 1``: learns-v0 26 minutes
  wall (load 1-5); unary-feedback-v0 and textual-vs-binary-v0 37 minutes each, run side by side.
- ``gpu``: the configuration for one GPU (more tasks, steps and a larger batch; estimated, not yet
  run: no GPU was lent to this work).

The learning rate is the one thing tuned, on the validation split (``--tune``): a short run
cannot move a 135M model at the 1e-6 usual for long GPU runs, so the CPU scales use a larger one.
"""

from __future__ import annotations

from feedback_gym.benchmarks.experiments.spec import Scale

TINY = Scale(
    steps=2, eval_every=1, seeds=(0,), tasks_per_step=1, group_size=2, max_new_tokens=8,
    heldout_tasks=4, validation_tasks=4, train_tasks=16, learning_rate=1e-3, temperature=1.0,
    minutes="seconds (tests)",
)
QUICK = Scale(
    steps=4, eval_every=2, seeds=(0, 1), tasks_per_step=2, group_size=4, max_new_tokens=24,
    heldout_tasks=32, validation_tasks=16, train_tasks=500, learning_rate=2e-5,
    minutes="about 10-15 minutes per experiment on a loaded 2-core machine",
)
CPU = Scale(
    steps=8, eval_every=4, seeds=(0, 1), tasks_per_step=4, group_size=4, max_new_tokens=24,
    heldout_tasks=64, learning_rate=2e-5,
    minutes="measured on 2 cores with --threads 1: learns-v0 26 minutes; unary-feedback-v0 and "
    "textual-vs-binary-v0 37 minutes each, run side by side",
)
GPU = Scale(
    steps=60, eval_every=10, seeds=(0, 1), tasks_per_step=16, group_size=8, max_new_tokens=64,
    heldout_tasks=300, validation_tasks=100, train_tasks=20_000, learning_rate=5e-6, micro_batch_size=32,
    minutes="estimated 5-10 minutes per experiment on one H200 (not run yet: no GPU was lent)",
)


def standard(token_budgets: dict[str, int] | None = None) -> dict[str, Scale]:
    """The four scales; ``token_budgets`` (scale name -> tokens) caps generated tokens per arm and seed."""
    from dataclasses import replace

    scales = {"tiny": TINY, "quick": QUICK, "cpu": CPU, "gpu": GPU}
    for name, budget in (token_budgets or {}).items():
        scales[name] = replace(scales[name], token_budget=budget)
    return scales
