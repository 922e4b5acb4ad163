"""The FeedbackEnv hook: counters on every step, episode metrics when the episode ends."""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.errors import EpisodeEndedError

WRONG = "<answer>1 + 1</answer>"


@pytest.mark.parametrize("feedback", ["unary", "binary", "reject_previous", "none"])
def test_all_wrong_episode_truncates_exactly_at_max_turns(feedback: str) -> None:
    env = gym.make("Countdown-v0", feedback=feedback, max_turns=3)
    env.reset(seed=1)
    flags = []
    for _ in range(3):
        _, reward, terminated, truncated, info = env.step(WRONG)
        flags.append((terminated, truncated))
        assert reward == 0.0
    assert flags == [(False, False), (False, False), (False, True)]
    assert info["turn"] == 3
    metrics = info["episode_metrics"]
    assert metrics["success_at_turn"] == [0.0, 0.0, 0.0] and metrics["turns_to_solve"] is None
    assert metrics["repetitions"] == 2
    assert metrics["friction_events"] == (0 if feedback == "none" else 2)
    with pytest.raises(EpisodeEndedError):
        env.step(WRONG)


def test_metrics_appear_only_at_the_end_and_counters_run() -> None:
    env = gym.make("Countdown-v0", feedback="unary", max_turns=4)
    _, info = env.reset(seed=2)
    assert "episode_metrics" not in info and info["counters"]["turns"] == 0
    _, _, _, _, info = env.step(WRONG)
    _, _, _, _, info = env.step(WRONG)
    assert "episode_metrics" not in info
    assert info["counters"] == {"turns": 2, "repetitions": 1, "friction_events": 1,
                                "feedback_turns": 1, "regressions": 0}
    _, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert terminated and reward == 1.0
    metrics = info["episode_metrics"]
    assert metrics["turns_to_solve"] == 3 and metrics["success_at_turn"] == [0.0, 0.0, 1.0, 1.0]
    _, info = env.reset(seed=2)
    assert info["counters"]["turns"] == 0  # a new episode starts from zero


def test_discounted_reward_in_the_env_is_the_sum_of_its_components() -> None:
    env = gym.make("Countdown-v0", feedback="unary", max_turns=4,
                   reward={"turn_discount": 0.5, "repetition_penalty": 0.25})
    env.reset(seed=0)
    _, r1, *_ = env.step(WRONG)
    _, r2, _, _, info2 = env.step(WRONG)
    _, r3, terminated, _, info3 = env.step(env.unwrapped.oracle_action())
    assert (r1, r2) == (0.0, -0.25) and info2["reward_components"]["repetition_penalty"] == -0.25
    assert terminated and r3 == pytest.approx(0.25)
    assert sum(info3["reward_components"].values()) == pytest.approx(r3)


def test_give_up_ends_the_episode_without_counting_feedback() -> None:
    env = gym.make("Countdown-v0", feedback="unary", max_turns=4)
    env.reset(seed=0)
    env.step(WRONG)
    _, _, terminated, truncated, info = env.step("<give_up>")
    assert terminated and not truncated
    assert info["episode_metrics"]["feedback_turns"] == 1
