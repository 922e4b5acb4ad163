"""Benchmark metrics: the canonical episode metrics of :mod:`feedback_gym.metrics`, applied to records.

The definitions (success@turn-k, first-turn accuracy, turns to solve, repetition, feedback friction,
regressions, tokens per solved task) live in one place, :mod:`feedback_gym.metrics`, which the
environments also use for ``info["episode_metrics"]``. This module only adapts them to benchmark
records: it takes the environment's own metrics from the last step's ``info`` when present (or
recomputes them from the per-turn ``info`` with the same functions), adds the policy's token counts
and the episode return, and aggregates what :mod:`feedback_gym.metrics` does not cover: the
best-of-n control and the macro average over a suite's environment configurations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from feedback_gym.metrics import aggregate_metrics, episode_metrics, record_from_info, with_tokens


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank: always one of the measured values.

    >>> percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5), percentile([1.0, 2.0], 0.95)
    (3.0, 2.0)
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def record_metrics(turns: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The metrics of one multi-turn episode from its turn records (``{"action", "reward", "info", ...}``).

    ``tokens`` counts the policy's generated tokens (``completion_tokens``); ``prompt_tokens`` the
    tokens it read (each turn's whole conversation, as a server bills it), and ``total_tokens`` both
    (the In-Place Feedback paper's measure). Each is ``None`` unless the policy reported it on every turn.

    >>> from feedback_gym.metrics import TurnRecord, episode_metrics
    >>> env_metrics = episode_metrics([TurnRecord("2", False), TurnRecord("2", False),
    ...                                TurnRecord("24", True, 1.0)], max_turns=3)
    >>> turns = [{"action": "a", "reward": 0.0, "completion_tokens": 5, "prompt_tokens": 20, "info": {}},
    ...          {"action": "a", "reward": 0.0, "completion_tokens": 6, "prompt_tokens": 30, "info": {}},
    ...          {"action": "b", "reward": 1.0, "completion_tokens": 4, "prompt_tokens": 40,
    ...           "info": {"episode_metrics": env_metrics}}]
    >>> m = record_metrics(turns)
    >>> m["turns_to_solve"], m["friction_events"], m["tokens"], m["prompt_tokens"], m["return"]
    (3, 1, 15, 90, 1.0)
    >>> m["total_tokens"]
    105
    """
    if not turns:
        raise ValueError("an episode needs at least one turn to have metrics")
    completion = [_count(t.get("completion_tokens")) for t in turns]
    last_info = turns[-1].get("info") or {}
    if isinstance(last_info.get("episode_metrics"), Mapping):
        metrics = with_tokens(last_info["episode_metrics"], completion)
    else:  # an env that does not report its own metrics: the same functions, on the infos
        records = [record_from_info(str(t.get("action", "")), t.get("info") or {}, tokens=count)
                   for t, count in zip(turns, completion, strict=True)]
        max_turns = int(last_info.get("max_turns") or len(turns))
        metrics = episode_metrics(records, max_turns)
    prompt = [_count(t.get("prompt_tokens")) for t in turns]
    metrics["prompt_tokens"] = None if any(p is None for p in prompt) else sum(prompt)  # type: ignore[arg-type]
    metrics["total_tokens"] = _sum_known(metrics["prompt_tokens"], metrics.get("tokens"))
    metrics["return"] = float(sum(float(t.get("reward", 0.0)) for t in turns))
    return metrics


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _sum_known(*values: Any) -> int | None:
    """The sum, or ``None`` when any value is unknown."""
    return None if any(v is None for v in values) else int(sum(values))


def turn_tokens(turns: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    """Completion (``tokens``), prompt and total tokens of turn records (``None`` where any is unknown).

    >>> turn_tokens([{"completion_tokens": 5, "prompt_tokens": 20},
    ...              {"completion_tokens": 4, "prompt_tokens": 30}])
    {'tokens': 9, 'prompt_tokens': 50, 'total_tokens': 59}
    """
    completion = _sum_known(*(t.get("completion_tokens") for t in turns))
    prompt = _sum_known(*(t.get("prompt_tokens") for t in turns))
    return {"tokens": completion, "prompt_tokens": prompt, "total_tokens": _sum_known(completion, prompt)}


def token_totals(metrics: Sequence[Mapping[str, Any]], solved: int) -> dict[str, Any]:
    """Prompt, completion and total tokens over episodes, per episode and per solved task.

    >>> t = token_totals([{"tokens": 10, "prompt_tokens": 30}, {"tokens": 5, "prompt_tokens": 15}], 1)
    >>> t["total_tokens"], t["total_tokens_per_episode"], t["total_tokens_per_solved"]
    (60, 30.0, 60.0)
    """
    prompt = [m.get("prompt_tokens") for m in metrics]
    completion = [m.get("tokens") for m in metrics]
    prompt_total = _sum_known(*prompt) if prompt else None
    total = _sum_known(prompt_total, *completion) if prompt_total is not None else None
    return {
        "prompt_tokens": prompt_total,
        "total_tokens": total,
        "total_tokens_per_episode": ratio(total, len(metrics)) if total is not None else None,
        "total_tokens_per_solved": ratio(total, solved) if total is not None else None,
    }


def aggregate_multi_turn(metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate the :func:`record_metrics` of one environment configuration's episodes.

    The canonical :func:`~feedback_gym.metrics.aggregate_metrics`, plus the leaderboard's names
    for its main figures (``success@1``, ``success@k``, ``success_curve``), the mean return and the
    token totals.

    >>> from feedback_gym.metrics import TurnRecord, episode_metrics
    >>> a = {**episode_metrics([TurnRecord("1", True, 1.0)], 2, tokens=[10]), "return": 1.0}
    >>> b = {**episode_metrics([TurnRecord("1", False), TurnRecord("1", False)], 2, tokens=[10, 10]),
    ...      "return": 0.0}
    >>> s = aggregate_multi_turn([a, b])
    >>> s["success@1"], s["success@k"], s["success_curve"], s["friction_rate"], s["mean_turns"]
    (0.5, 0.5, [0.5, 0.5], 1.0, 1.5)
    >>> s["tokens"], s["tokens_per_solved"], s["mean_reward"]
    (30, 30.0, 0.5)
    """
    result = aggregate_metrics(metrics)
    if not metrics:
        return result
    tokens = [m.get("tokens") for m in metrics]
    total = None if any(t is None for t in tokens) else int(sum(tokens))  # type: ignore[arg-type]
    result.update({
        "success@1": result["first_turn_accuracy"],
        "success@k": result["solve_rate"],
        "success_curve": result["success_at_turn"],
        "max_turns": max(int(m.get("max_turns") or 1) for m in metrics),
        "mean_reward": mean(m.get("return") for m in metrics),
        "tokens": total,
        "tokens_per_episode": ratio(total, len(metrics)) if total is not None else None,
        **token_totals(metrics, sum(bool(m.get("solved")) for m in metrics)),
    })
    trials = [list(m["trials"]) for m in metrics if m.get("trials")]
    if trials:  # Reflexion: the share of tasks solved within k trials, k = 1..n
        horizon = max(len(t) for t in trials)
        result["success_by_trial"] = [
            sum(any(t[: k + 1]) for t in trials) / len(trials) for k in range(horizon)
        ]
    return result


def aggregate_best_of_n(samples_solved: Sequence[Sequence[bool]]) -> dict[str, Any]:
    """Aggregate best-of-n single-turn controls: one list of per-sample outcomes per task.

    ``success@n`` is the share of tasks where any of the n samples solved it; ``sample_accuracy``
    the share of all samples that solved their task (single-turn accuracy).

    >>> s = aggregate_best_of_n([[False, True, False], [False, False, False]])
    >>> s["success@n"], s["n"], round(s["sample_accuracy"], 3)
    (0.5, 3, 0.167)
    """
    tasks = len(samples_solved)
    total = sum(len(s) for s in samples_solved)
    return {
        "episodes": tasks,
        "n": max((len(s) for s in samples_solved), default=0),
        "success@n": ratio(sum(any(s) for s in samples_solved), tasks),
        "sample_accuracy": ratio(sum(sum(s) for s in samples_solved), total),
    }


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not ``None`` (``None`` when there are none).

    >>> mean([1, None, 2])
    1.5
    >>> mean([None]) is None
    True
    """
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0.

    >>> ratio(1, 4), ratio(3, 0)
    (0.25, None)
    """
    return numerator / denominator if denominator else None


def macro_average(values: Iterable[float | None]) -> float | None:
    """The unweighted mean over environment configurations (each counts once), ignoring gaps.

    >>> macro_average([0.5, None, 1.0])
    0.75
    """
    return mean(values)
