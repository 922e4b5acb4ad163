"""MathTryAgain-v0 and retry over the maths family: unary, reject-previous, critique, in-place."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.envs.retry import RetryUntilSolved
from feedback_gym.envs.retry.math_try_again import MathTryAgainEnv
from feedback_gym.feedback import DEFAULT_UNARY_PHRASINGS

WRONG = "Step 1: I guess.\nAnswer: 987654321"


def test_registered_with_unary_feedback_and_strict_check_env_passes() -> None:
    env = gym.make("MathTryAgain-v0")
    assert isinstance(env.unwrapped, MathTryAgainEnv)
    assert env.unwrapped.feedback.kind == "unary" and env.unwrapped.max_turns == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


def test_all_wrong_episode_gets_only_try_again_and_truncates_at_max_turns() -> None:
    env = gym.make("MathTryAgain-v0")
    env.reset(seed=0)
    steps = [env.step(WRONG) for _ in range(5)]
    assert [s[2:4] for s in steps] == [(False, False)] * 4 + [(False, True)]
    assert all(s[0] in DEFAULT_UNARY_PHRASINGS for s in steps)
    metrics = steps[-1][4]["episode_metrics"]
    assert metrics["success_at_turn"] == [0.0] * 5 and metrics["friction_events"] == 4


def test_oracle_after_two_misses_earns_the_discounted_reward() -> None:
    env = gym.make("MathTryAgain-v0", reward={"turn_discount": 0.8, "repetition_penalty": 0.1})
    env.reset(seed=1)
    _, r1, *_ = env.step(WRONG)
    _, r2, *_ = env.step(WRONG)
    _, r3, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert (r1, r2) == (0.0, -0.1) and terminated
    assert r3 == pytest.approx(0.8**2)
    assert info["episode_metrics"]["turns_to_solve"] == 3


def test_reject_previous_names_the_parsed_answers() -> None:
    env = gym.make("MathTryAgain-v0", feedback="reject_previous")
    env.reset(seed=0)
    env.step("Answer: 11")
    obs, *_ = env.step("so it is\n\\boxed{12}")
    assert "`11`" in obs and "`12`" in obs


@pytest.mark.parametrize("feedback", ["critique", "in_place"])
def test_the_math_critics_compose_with_the_try_again_budget(feedback: str) -> None:
    env = gym.make("MathTryAgain-v0", feedback=feedback)
    env.reset(seed=0)
    obs, _, terminated, truncated, info = env.step(WRONG)
    assert info["feedback_kind"] == feedback and not (terminated or truncated)
    assert obs not in DEFAULT_UNARY_PHRASINGS
    assert "987654321" in obs  # both point at the agent's own wrong line, not just "try again"


def test_wrapper_passes_the_math_critique_through_and_retries() -> None:
    inner = gym.make("MathCritique-v0", max_turns=1, feedback="critique")
    env = RetryUntilSolved(inner, max_turns=3, feedback="env")
    _, info0 = env.reset(seed=2)
    obs, _, terminated, _, info = env.step(WRONG)
    assert not terminated and obs not in DEFAULT_UNARY_PHRASINGS
    assert "critique" in info  # the maths env's own info keys survive the wrapper
    _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert terminated and reward == 1.0 and info["task_id"] == info0["task_id"]


def test_wrapper_over_a_reasoning_gym_source_of_the_maths_family() -> None:
    pytest.importorskip("reasoning_gym")
    inner = gym.make("MathCritique-v0", source="reasoning_gym:basic_arithmetic", max_turns=1,
                     feedback="binary")
    env = RetryUntilSolved(inner, max_turns=2, feedback="reject_previous")
    _, info = env.reset(seed=0)
    assert info["task_id"].startswith("rg-basic_arithmetic")
    obs, _, _, truncated, _ = env.step(WRONG)
    assert "`987654321`" in obs and not truncated
    *_, truncated, info = env.step(WRONG)
    assert truncated and info["episode_metrics"]["friction_events"] == 1


def test_try_again_natively_on_a_reasoning_gym_dataset() -> None:
    pytest.importorskip("reasoning_gym")
    env = gym.make("MathTryAgain-v0", source="reasoning_gym:basic_arithmetic", max_turns=3)
    _, info = env.reset(seed=4)
    assert info["task_id"].startswith("rg-basic_arithmetic")
    obs, reward, terminated, _, _ = env.step(WRONG)
    assert obs in DEFAULT_UNARY_PHRASINGS and reward == 0.0 and not terminated
    _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert terminated and reward == 1.0 and info["episode_metrics"]["success_at_turn"] == [0.0, 1.0, 1.0]
