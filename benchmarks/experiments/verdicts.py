"""The comparisons a judge makes on ``results.json``: trained against untrained, one arm against another.

Every comparison is paired by held-out task: a task's row holds its outcomes under every seed,
for the trained checkpoint and for the untrained model (or for the other arm), and
:func:`~feedback_gym.benchmarks.experiments.stats.paired_difference` bootstraps over the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedback_gym.benchmarks.experiments.evaluate import solved_by
from feedback_gym.benchmarks.experiments.stats import excludes_zero, paired_difference

METRIC_K = {"success@1": 1, "success@k": None}

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, INCOMPLETE = (
    "reproduced", "not reproduced", "inconclusive", "incomplete"
)


def final_eval(run: Mapping[str, Any]) -> dict[str, Any]:
    """The last held-out evaluation of a run."""
    return run["evals"][-1]


def task_rows(
    results: Mapping[str, Any], arm: str, metric: str, at: str | int = "final"
) -> list[list[float]]:
    """Per held-out task, its 0/1 outcomes under ``metric`` across every seed of ``arm``.

    ``at`` is ``"final"`` (each run's last evaluation), ``"baseline"`` (the untrained model, step
    0) or a step number.
    """
    runs = results["arms"][arm]["runs"]
    rows: list[list[float]] | None = None
    for seed in sorted(runs, key=int):
        evals = runs[seed]["evals"]
        if at == "final":
            record = evals[-1]
        elif at == "baseline":
            record = evals[0]
        else:
            matching = [e for e in evals if e["step"] == at]
            if not matching:
                continue
            record = matching[0]
        solved = solved_by(record["outcomes"], METRIC_K[metric])
        rows = solved if rows is None else [old + new for old, new in zip(rows, solved, strict=True)]
    if rows is None:
        raise KeyError(f"no evaluation of {arm!r} at {at!r}")
    return rows


def gain(results: Mapping[str, Any], arm: str, metric: str) -> dict[str, Any]:
    """The final checkpoint of ``arm`` minus the untrained model, on ``metric``, paired by task and seed."""
    comparison = paired_difference(
        task_rows(results, arm, metric, "final"), task_rows(results, arm, metric, "baseline")
    )
    return {"name": f"{arm} (final) - untrained", "metric": metric, **comparison,
            "sign": excludes_zero(comparison)}


def between(results: Mapping[str, Any], a: str, b: str, metric: str) -> dict[str, Any]:
    """The final checkpoint of arm ``a`` minus that of arm ``b`` on ``metric``, paired by task."""
    comparison = paired_difference(task_rows(results, a, metric), task_rows(results, b, metric))
    return {"name": f"{a} - {b} (final)", "metric": metric, **comparison, "sign": excludes_zero(comparison)}


def complete(results: Mapping[str, Any], arms: tuple[str, ...]) -> bool:
    """Whether every named arm has finished every seed."""
    seeds = [str(s) for s in results["scale"]["seeds"]]
    return all(
        arm in results["arms"]
        and all(results["arms"][arm]["runs"].get(s, {}).get("complete") for s in seeds)
        for arm in arms
    )


def describe(comparison: Mapping[str, Any]) -> str:
    """One line: ``success@k: a - b = +0.094 [0.031, 0.156]``.

    >>> describe({"name": "x - y", "metric": "success@k", "difference": 0.1, "ci_low": -0.02, "ci_high": 0.2})
    'x - y, success@k: +0.100 (95% CI -0.020 to +0.200)'
    """
    return (
        f"{comparison['name']}, {comparison['metric']}: {comparison['difference']:+.3f} "
        f"(95% CI {comparison['ci_low']:+.3f} to {comparison['ci_high']:+.3f})"
    )


def mean_tokens(results: Mapping[str, Any], arm: str) -> float:
    """Generated training tokens of ``arm``, averaged over its seeds."""
    runs = results["arms"][arm]["runs"].values()
    return sum(run["train"]["generated_tokens"] for run in runs) / max(1, len(runs))
