"""Confidence intervals for held-out success rates and for the difference between two of them.

A rate gets a Wilson score interval over every (task, seed, sample) outcome pooled. A difference
(trained vs untrained, arm A vs arm B) gets a *paired bootstrap over held-out tasks*: each resample
draws tasks with replacement and keeps, for each drawn task, its outcomes under every seed, so
the interval carries the spread between tasks and between training seeds, and the pairing (the
same task under both settings) removes the between-task variance the two sides share.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Two-sided 95 %.
Z_95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 4000
CI_METHOD = (
    "95% paired bootstrap over held-out tasks (4000 resamples; each resampled task keeps its "
    "outcomes under every training seed)"
)
RATE_CI_METHOD = "95% Wilson score interval over tasks x seeds x samples"


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate.

    >>> [round(x, 3) for x in wilson(5, 10)]
    [0.237, 0.763]
    >>> wilson(0, 0)
    (0.0, 1.0)
    """
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_difference(
    a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], seed: int = 0
) -> dict[str, float]:
    """Mean of ``a`` minus mean of ``b`` with a bootstrap CI; rows are tasks, columns seeds x samples.

    ``a[t]`` and ``b[t]`` hold the outcomes (0/1) of task ``t`` under the two settings; they may
    have different lengths per row (e.g. a different number of seeds).

    >>> d = paired_difference([[1, 1], [1, 0], [0, 1]], [[0, 0], [1, 0], [0, 0]])
    >>> round(d["difference"], 3), d["ci_low"] <= d["difference"] <= d["ci_high"]
    (0.5, True)
    """
    if len(a) != len(b) or not len(a):
        raise ValueError(f"need the same non-zero number of tasks on both sides; got {len(a)} and {len(b)}")
    a_means = np.array([np.mean(row) for row in a], dtype=np.float64)
    b_means = np.array([np.mean(row) for row in b], dtype=np.float64)
    diffs = a_means - b_means
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(diffs), size=(BOOTSTRAP_RESAMPLES, len(diffs)))
    resampled = diffs[draws].mean(axis=1)
    low, high = np.quantile(resampled, [0.025, 0.975])
    return {
        "difference": float(diffs.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "a": float(a_means.mean()),
        "b": float(b_means.mean()),
        "tasks": len(diffs),
    }


def excludes_zero(comparison: dict[str, float]) -> int:
    """+1 when the CI lies above zero, -1 when below, 0 when it contains zero.

    >>> excludes_zero({"ci_low": 0.01, "ci_high": 0.2}), excludes_zero({"ci_low": -0.1, "ci_high": 0.2})
    (1, 0)
    """
    if comparison["ci_low"] > 0:
        return 1
    if comparison["ci_high"] < 0:
        return -1
    return 0
