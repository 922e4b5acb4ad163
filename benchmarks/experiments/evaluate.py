"""Held-out evaluation of a policy: every held-out task played once per sample, outcomes kept per task.

The episodes are played by the trainer's own rollout (:func:`~feedback_gym.agents.rollout.collect_episodes`),
so a checkpoint is evaluated on exactly the turns, feedback and token handling it was trained with.
Each outcome is the turn on which the task was solved (0: not solved within the eval env's turn
budget), which gives success@1 and success@k from the same episodes and keeps what the paired
bootstrap needs (one row per task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from feedback_gym.agents.rollout import collect_episodes, make_rollout_envs
from feedback_gym.benchmarks.experiments.splits import PlayOnly
from feedback_gym.benchmarks.experiments.stats import wilson


def heldout_envs(env_id: str, env_kwargs: Mapping[str, Any], task_ids: Sequence[str], samples: int) -> Any:
    """A vector env that plays each of ``task_ids`` ``samples`` times (seeds ``0..n-1`` select them)."""

    def make() -> gym.Env:
        return PlayOnly(gym.make(env_id, **dict(env_kwargs)), task_ids)

    return make_rollout_envs(make, len(task_ids) * samples)


def evaluate(
    policy: Any,
    envs: Any,
    num_tasks: int,
    samples: int,
    *,
    temperature: float,
    max_new_tokens: int,
    sampling_seed: int,
) -> dict[str, Any]:
    """Play every task ``samples`` times; return outcomes per task and the success rates.

    The policy's sampling settings are set for the evaluation and put back afterwards (the
    trainer reseeds its sampling stream every step, so evaluating between steps does not change
    what training samples). The same ``sampling_seed`` at every checkpoint of a run makes the
    comparison between checkpoints one of common random numbers.
    """
    saved = policy.max_new_tokens, policy.temperature, policy.top_p
    policy.max_new_tokens, policy.temperature, policy.top_p = max_new_tokens, temperature, 1.0
    policy.reseed(sampling_seed)
    try:
        episodes, _ = collect_episodes(policy, envs, list(range(num_tasks)), samples)
    finally:
        policy.max_new_tokens, policy.temperature, policy.top_p = saved
    turns = [e.turns if e.solved else 0 for e in episodes]
    outcomes = [turns[task * samples : (task + 1) * samples] for task in range(num_tasks)]
    return {
        "outcomes": outcomes,
        "task_ids": [episodes[task * samples].task_id for task in range(num_tasks)],
        "policy_tokens": sum(e.policy_tokens for e in episodes),
        **rates(outcomes),
    }


def solved_by(outcomes: Sequence[Sequence[int]], k: int | None) -> list[list[float]]:
    """Per task, 1.0 for each sample solved within ``k`` turns (``None``: within the whole budget).

    >>> solved_by([[1, 0], [3, 2]], 1), solved_by([[1, 0], [3, 2]], None)
    ([[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [1.0, 1.0]])
    """
    return [[float(0 < turn and (k is None or turn <= k)) for turn in row] for row in outcomes]


def rates(outcomes: Sequence[Sequence[int]]) -> dict[str, Any]:
    """success@1 and success@k (k = the eval turn budget) with Wilson intervals.

    >>> rates([[1], [2], [0], [0]])["success@k"]["rate"]
    0.5
    """
    summary = {}
    for name, k in (("success@1", 1), ("success@k", None)):
        flat = [v for row in solved_by(outcomes, k) for v in row]
        low, high = wilson(int(sum(flat)), len(flat))
        summary[name] = {"rate": sum(flat) / len(flat) if flat else 0.0, "ci": [low, high], "n": len(flat)}
    return summary
