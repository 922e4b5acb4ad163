"""CodeTryAgain-v0: the code family with unary feedback, the retry rewards and metrics on real tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.envs.retry.code_try_again import CodeTryAgainEnv

TASK = {"task_id": "bundled/py/add_numbers"}


def program(body: str) -> str:
    return f"```python\ndef add_numbers(a, b):\n    {body}\n```"


HALF_RIGHT = program("return a + b + (a > 5)")
ALL_WRONG = program("return 0")


@pytest.fixture
def env() -> Iterator[gym.Env]:
    made = gym.make("CodeTryAgain-v0", max_turns=3)
    yield made
    made.close()


def test_registered_with_unary_feedback_and_strict_check_env_passes() -> None:
    made = gym.make("CodeTryAgain-v0")
    try:
        assert isinstance(made.unwrapped, CodeTryAgainEnv)
        assert made.unwrapped.feedback.kind == "unary" and made.unwrapped.max_turns == 4
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(made.unwrapped, skip_render_check=True)
    finally:
        made.close()


def test_unary_feedback_says_nothing_about_the_tests(env: gym.Env) -> None:
    env.reset(options=TASK)
    obs, reward, terminated, truncated, info = env.step(HALF_RIGHT)
    assert reward == 0.0 and not (terminated or truncated)
    assert 0 < info["verdict"]["checks_passed"] < info["verdict"]["checks_total"]  # the verdict knows
    for leak in ("expected", "input", "passed", "assert", "add_numbers", "test"):
        assert leak not in obs.lower()  # the agent is told nothing of it


def test_all_wrong_programs_truncate_exactly_at_max_turns(env: gym.Env) -> None:
    env.reset(options=TASK)
    flags = [env.step(ALL_WRONG)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_oracle_solves_on_a_later_turn_with_the_discounted_reward() -> None:
    made = gym.make("CodeTryAgain-v0", reward={"turn_discount": 0.5})
    try:
        made.reset(options=TASK)
        made.step(ALL_WRONG)
        _, reward, terminated, _, info = made.step(made.unwrapped.oracle_action())
        assert terminated and reward == pytest.approx(0.5)
        assert info["episode_metrics"]["success_at_turn"] == [0.0, 1.0, 1.0, 1.0]
    finally:
        made.close()


def test_regression_penalty_counts_tests_that_passed_and_now_fail() -> None:
    made = gym.make("CodeTryAgain-v0", reward={"regression_penalty": 1.0})
    try:
        made.reset(options=TASK)
        *_, first = made.step(HALF_RIGHT)
        _, reward, _, _, second = made.step(ALL_WRONG)
        passed_before = {c["name"] for c in first["verdict"]["checks"] if c["passed"]}
        passed_now = {c["name"] for c in second["verdict"]["checks"] if c["passed"]}
        broken = len(passed_before - passed_now) / len(passed_before)
        assert broken > 0
        assert reward == pytest.approx(-broken)
        assert second["counters"]["regressions"] == 1
    finally:
        made.close()


def test_reject_previous_lists_rejected_programs_abridged() -> None:
    made = gym.make("CodeTryAgain-v0", feedback="reject_previous")
    try:
        made.reset(options=TASK)
        made.step(ALL_WRONG)
        obs, *_ = made.step(HALF_RIGHT)
        assert "`def add_numbers(a, b): return 0` (2 lines)" in obs
        assert "`def add_numbers(a, b): return a + b + (a > 5)` (2 lines)" in obs
    finally:
        made.close()
