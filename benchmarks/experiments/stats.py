"""Confidence intervals for held-out success rates and for the difference between two of them.

A rate gets a Wilson score interval over every (task, seed, sample) outcome pooled. A difference
(trained vs untrained, arm A vs arm B) gets a *paired bootstrap over held-out tasks*: each resample
draws tasks with replacement and keeps, for each drawn task, its outcomes under every seed, so
the interval carries the spread between tasks and between training seeds, and the pairing (the
same task under both settings) removes the between-task variance the two sides share.

The bootstrap alone is too narrow when only a handful of tasks differ between the two sides
(four tasks solved by one side only give a percentile interval above zero, where an exact sign
test gives p = 0.125). So the reported interval is the union of the bootstrap interval and
Newcombe's score interval for paired proportions, which stays honest at small counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Two-sided 95 %.
Z_95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 4000
CI_METHOD = (
    "95%: the union of a paired bootstrap over held-out tasks (4000 resamples; each resampled task "
    "keeps its outcomes under every training seed) and Newcombe's score interval for paired "
    "proportions (method 10, over task x seed pairs), the wider bound of the two on each side; "
    "the bootstrap alone is too narrow when only a few tasks differ"
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
    boot_low, boot_high = np.quantile(resampled, [0.025, 0.975])
    if all(len(row_a) == len(row_b) for row_a, row_b in zip(a, b, strict=True)):
        score_low, score_high = newcombe_paired(
            [(x, y) for row_a, row_b in zip(a, b, strict=True) for x, y in zip(row_a, row_b, strict=True)]
        )
    else:  # outcomes that cannot be paired one to one: the two pooled rates' interval
        score_low, score_high = newcombe([v for row in a for v in row], [v for row in b for v in row])
    low, high = min(boot_low, score_low), max(boot_high, score_high)
    return {
        "difference": float(diffs.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "a": float(a_means.mean()),
        "b": float(b_means.mean()),
        "tasks": len(diffs),
    }


def newcombe_paired(pairs: Sequence[tuple[float, float]], z: float = Z_95) -> tuple[float, float]:
    """Newcombe's score interval (1998, method 10) for P(a) - P(b) from paired 0/1 outcomes.

    It combines the Wilson intervals of the two rates with the correlation of the pairs (phi,
    continuity-corrected as Newcombe does), and unlike a percentile bootstrap it keeps zero
    inside when a few discordant pairs all point one way.

    >>> [round(x, 3) for x in newcombe_paired([(1, 0)] * 4 + [(0, 0)] * 60)]
    [-0.006, 0.15]
    >>> [round(x, 3) for x in newcombe_paired([(1, 0)] * 13 + [(1, 1)] * 2 + [(0, 0)] * 113)]
    [0.05, 0.167]
    """
    n = len(pairs)
    if not n:
        raise ValueError("need at least one pair")
    both = sum(1 for x, y in pairs if x and y)
    only_a = sum(1 for x, y in pairs if x and not y)
    only_b = sum(1 for x, y in pairs if y and not x)
    neither = n - both - only_a - only_b
    p_a, p_b = (both + only_a) / n, (both + only_b) / n
    low_a, high_a = wilson(both + only_a, n, z)
    low_b, high_b = wilson(both + only_b, n, z)
    # The pairs' correlation, with Newcombe's continuity correction on the positive side.
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    cross = both * neither - only_a * only_b
    corrected = cross - n / 2 if cross > n / 2 else min(cross, 0)
    phi = corrected / math.sqrt(margins) if margins else 0.0
    below = (p_a - low_a) ** 2 - 2 * phi * (p_a - low_a) * (high_b - p_b) + (high_b - p_b) ** 2
    above = (high_a - p_a) ** 2 - 2 * phi * (high_a - p_a) * (p_b - low_b) + (p_b - low_b) ** 2
    difference = p_a - p_b
    return difference - math.sqrt(max(0.0, below)), difference + math.sqrt(max(0.0, above))


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
