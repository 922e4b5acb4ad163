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
    "outcomes under every training seed); when every resample gives the same difference (e.g. no "
    "task solved on either side) Newcombe's Wilson-based interval for a difference of two rates instead"
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
    if np.all(resampled == resampled[0]):
        # No spread to resample (all tasks alike): a zero-width interval would claim a precision
        # the data do not have. Fall back to the score interval of the two pooled rates.
        low, high = newcombe([v for row in a for v in row], [v for row in b for v in row])
    return {
        "difference": float(diffs.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "a": float(a_means.mean()),
        "b": float(b_means.mean()),
        "tasks": len(diffs),
    }


def newcombe(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Newcombe's interval for mean(a) - mean(b) from the two Wilson intervals (0/1 outcomes).

    >>> [round(x, 3) for x in newcombe([0] * 16, [0] * 16)]
    [-0.194, 0.194]
    """
    pa, pb = float(np.mean(a)), float(np.mean(b))
    la, ua = wilson(int(round(sum(a))), len(a))
    lb, ub = wilson(int(round(sum(b))), len(b))
    difference = pa - pb
    return (
        difference - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2),
        difference + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2),
    )


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
