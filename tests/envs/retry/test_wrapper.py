"""RetryUntilSolved over our single-turn envs, a user's own env and a reasoning-gym dataset."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers import RecordEpisodeStatistics

import feedback_gym
from feedback_gym.envs.retry import RetryUntilSolved
from feedback_gym.errors import ConfigError, EpisodeEndedError

WRONG = "<answer>1 + 1</answer>"


class GuessEnv(gym.Env[str, str]):
    """A user's single-turn env: guess a secret digit; reports info['solved'] and info['score'].

    Its Text spaces use a narrow charset of its own, and it knows nothing of feedback-gym.
    """

    metadata = {"render_modes": []}
    CHARSET = "0123456789abcdefghijklmnopqrstuvwxyzGIH ?.,"

    def __init__(self) -> None:
        self.observation_space = spaces.Text(max_length=200, charset=self.CHARSET)
        self.action_space = spaces.Text(max_length=20, charset=self.CHARSET)
        self.secret = 0
        self.steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self.secret = int(self.np_random.integers(10))
        return f"Guess my digit, it is {'even' if self.secret % 2 == 0 else 'odd'}.", {"secret_parity": 0}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.steps += 1
        guess = action.strip()
        solved = guess == str(self.secret)
        closeness = 1 - abs(int(guess) - self.secret) / 10 if guess.isdigit() else 0.0
        info = {"solved": solved, "score": 1.0 if solved else closeness, "user_key": 7}
        return ("right" if solved else "wrong"), float(solved), True, False, info


def _strict_check(env: gym.Env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the one warning check_env gives for any wrapper; the rest stay errors
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version")
        check_env(env, skip_render_check=True)


def _play(env: gym.Env, actions: list[str]) -> list[tuple]:
    return [env.step(a) for a in actions]


# ---------------------------------------------------------------------------- on Countdown-v0


@pytest.mark.parametrize("feedback", ["unary", "binary", "reject_previous", "none", "score", "env"])
def test_all_wrong_episode_truncates_exactly_at_max_turns(feedback: str) -> None:
    env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=3, feedback=feedback)
    obs, info = env.reset(seed=0)
    assert "up to 3 attempts" in obs and info["turn"] == 0
    steps = _play(env, [WRONG, WRONG, WRONG])
    assert [(s[2], s[3]) for s in steps] == [(False, False), (False, False), (False, True)]
    assert all(s[1] == 0.0 for s in steps)
    assert all(env.observation_space.contains(s[0]) for s in steps)
    info = steps[-1][4]
    assert info["turn"] == 3 and info["episode_metrics"]["success_at_turn"] == [0.0, 0.0, 0.0]
    assert info["feedback_kind"] == feedback
    with pytest.raises(EpisodeEndedError):
        env.step(WRONG)


def test_solving_on_a_later_turn_replays_the_same_task() -> None:
    env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=4, reward={"turn_discount": 0.5})
    _, info0 = env.reset(seed=5)
    env.step(WRONG)
    env.step("<answer>2 + 2</answer>")
    _, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
    assert (terminated, truncated) == (True, False)
    assert reward == pytest.approx(0.25) and info["reward_components"]["success"] == 1.0
    assert info["task_id"] == info0["task_id"] and info["solved"]
    assert info["episode_metrics"]["turns_to_solve"] == 3
    assert [m["role"] for m in info["messages"]] == ["user"] + ["assistant", "user"] * 3


def test_env_feedback_passes_the_wrapped_envs_own_feedback_through() -> None:
    inner = gym.make("Countdown-v0", max_turns=1, feedback="tests")
    env = RetryUntilSolved(inner, max_turns=2, feedback="env")
    env.reset(seed=0)
    obs, *_ = env.step(WRONG)
    assert "reaches the target" in obs  # Countdown's rule-by-rule feedback, not a bare "try again"


def test_unary_phrasings_are_sampled_reproducibly_with_the_seed() -> None:
    def phrases(seed: int) -> list[str]:
        env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=8, feedback="unary",
                               feedback_options={"phrasings": ["A.", "B.", "C."]})
        env.reset(seed=seed)
        return [env.step(WRONG)[0] for _ in range(7)]

    assert phrases(1) == phrases(1) and len(set(phrases(1))) > 1


def test_same_seed_same_episode_and_unseeded_resets_differ() -> None:
    env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=2)
    first = env.reset(seed=9)[0]
    assert env.reset(seed=9)[0] == first
    prompts = {env.reset()[0] for _ in range(5)}
    assert len(prompts) > 1


def test_unseeded_resets_after_a_seeded_one_are_reproducible() -> None:
    def prompts() -> list[str]:
        env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=2)
        return [env.reset(seed=21)[0]] + [env.reset()[0] for _ in range(3)]

    assert prompts() == prompts()


def test_reset_options_select_the_task_for_every_attempt() -> None:
    env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=3)
    obs, _ = env.reset(options={"task": {"numbers": [3, 8, 1], "target": 24, "solution": "3 * 8 * 1"}})
    assert "[3, 8, 1]" in obs
    env.step(WRONG)
    _, reward, terminated, _, _ = env.step("<answer>3 * 8</answer>")
    assert terminated and reward == 1.0


JUNK = ["", "x" * 1_000_000, "\x00\x01 \ud800", "```python\nprint(", 12, None, b"\xff"]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_actions_get_feedback_and_no_reward(junk: object) -> None:
    env = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1).unwrapped, max_turns=2)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(junk)  # type: ignore[arg-type]
    assert reward == 0.0 and not terminated and not truncated
    assert obs.strip() and env.observation_space.contains(obs)
    assert all(env.observation_space.contains(m["content"]) for m in info["messages"])
    assert not info["solved"]


def test_give_up_ends_the_episode_without_reaching_the_env() -> None:
    inner = GuessEnv()
    env = RetryUntilSolved(inner, max_turns=5)
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step("<give_up>")
    assert terminated and not truncated and inner.steps == 0
    assert info["error_kind"] == "gave_up"


@pytest.mark.parametrize("junk", ["", "   ", "x" * 1_000_000, 12])
def test_unreadable_actions_never_reach_the_wrapped_env(junk: object) -> None:
    inner = GuessEnv()
    env = RetryUntilSolved(inner, max_turns=3, feedback="env")
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(junk)  # type: ignore[arg-type]
    assert inner.steps == 0 and reward == 0.0 and not (terminated or truncated)
    assert info["error_kind"] == "invalid_action" and obs.startswith("Incorrect:")
    env.step(str(env.env.secret))
    assert inner.steps == 1  # the first attempt that reached it needed no replay


def test_human_render_prints_and_the_retry_is_a_feedback_env(capsys: pytest.CaptureFixture[str]) -> None:
    env = RetryUntilSolved(GuessEnv(), max_turns=2, render_mode="human")
    assert isinstance(env, feedback_gym.FeedbackEnv)
    env.reset(seed=0)
    env.step("x")
    assert "[user]" in capsys.readouterr().out
    ansi = RetryUntilSolved(gym.make("Countdown-v0", max_turns=1, render_mode="ansi"), max_turns=2)
    assert ansi.render_mode == "ansi"  # taken from the wrapped env
    ansi.reset(seed=0)
    ansi.step(WRONG)
    assert ansi.render().count("[assistant]") == 1


def test_strict_check_env_passes_on_wrapped_envs() -> None:
    _strict_check(RetryUntilSolved(gym.make("Countdown-v0", max_turns=1).unwrapped, max_turns=3))
    _strict_check(RetryUntilSolved(GuessEnv(), max_turns=3, feedback="reject_previous"))


def test_episode_statistics_wrapper_composes() -> None:
    env = RecordEpisodeStatistics(RetryUntilSolved(GuessEnv(), max_turns=2))
    env.reset(seed=0)
    env.step("11")
    *_, info = env.step("11")
    assert info["episode"]["l"] == 2 and info["episode_metrics"]["repetitions"] == 1


# ---------------------------------------------------------------------------- a user's own env


def test_user_env_keeps_its_info_keys_and_charset() -> None:
    env = RetryUntilSolved(GuessEnv(), max_turns=10, feedback="reject_previous",
                           reward={"success": "fraction", "regression_penalty": 1.0})
    obs, info = env.reset(seed=3)
    assert info["secret_parity"] == 0 and env.observation_space.contains(obs)
    secret = env.env.secret
    guesses = [g for g in "0123456789" if g != str(secret)][:3] + [str(secret)]
    for guess in guesses:
        obs, reward, terminated, truncated, info = env.step(guess)
        assert env.observation_space.contains(obs)
        assert info["user_key"] == 7 and "inner_reward" in info
    assert terminated and info["solved"]
    assert info["episode_metrics"]["turns_to_solve"] == 4
    assert set(GuessEnv.CHARSET) <= set(env.observation_space.character_set)


def test_score_drives_fraction_reward_and_regression() -> None:
    env = RetryUntilSolved(GuessEnv(), max_turns=4, reward={"success": "fraction", "regression_penalty": 1.0})
    env.reset(seed=3)
    secret = env.env.secret
    near, far = str(min(9, secret + 1) if secret < 9 else 8), str(0 if secret >= 5 else 9)
    _, r_near, *_ = env.step(near)
    _, r_far, _, _, info = env.step(far)
    assert r_near > 0  # closeness credit
    assert r_far < 0 and info["reward_components"]["regression_penalty"] < 0
    assert info["counters"]["regressions"] == 1


def test_env_without_solved_in_info_is_refused_clearly() -> None:
    class NoSolved(GuessEnv):
        def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
            obs, reward, terminated, truncated, _ = super().step(action)
            return obs, reward, terminated, truncated, {}

    env = RetryUntilSolved(NoSolved(), max_turns=2)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match=r"info\['solved'\]"):
        env.step("1")


def test_env_that_does_not_replay_its_task_is_refused_clearly() -> None:
    class Drifting(GuessEnv):
        calls = 0

        def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
            Drifting.calls += 1
            super().reset(seed=seed)
            return f"guess {Drifting.calls}", {}

    env = RetryUntilSolved(Drifting(), max_turns=3)
    env.reset(seed=0)
    env.step("1")
    with pytest.raises(ConfigError, match="same seed"):
        env.step("2")


def test_non_text_envs_and_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="Text"):
        RetryUntilSolved(gym.make("CartPole-v1"), max_turns=2)
    with pytest.raises(ConfigError, match="max_turns"):
        RetryUntilSolved(GuessEnv(), max_turns=0)
    with pytest.raises(ConfigError, match="feedback"):
        RetryUntilSolved(GuessEnv(), feedback="loud")


# ---------------------------------------------------------------------------- reasoning-gym


class ReasoningGymTask(gym.Env[str, str]):
    """A single-turn env over a reasoning-gym dataset, scored with the dataset's own score_answer."""

    def __init__(self, name: str = "basic_arithmetic", size: int = 20) -> None:
        import reasoning_gym

        self.dataset = reasoning_gym.create_dataset(name, size=size, seed=0)
        self.observation_space = feedback_gym.text.text_space(10_000)
        self.action_space = feedback_gym.text.text_space(10_000)
        self.entry: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        index = int(self.np_random.integers(len(self.dataset)))
        self.entry = self.dataset[index]
        return self.entry["question"], {"task_id": f"rg/{index}"}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        score = float(self.dataset.score_answer(action.strip(), self.entry))
        return "", score, True, False, {"solved": score == 1.0, "score": score, "parsed": action.strip()}


def test_reasoning_gym_dataset_becomes_a_retry_env() -> None:
    pytest.importorskip("reasoning_gym")
    env = RetryUntilSolved(ReasoningGymTask(), max_turns=3, feedback="reject_previous")
    obs, info = env.reset(seed=11)
    answer = env.env.entry["answer"]
    wrong = str(int(answer) + 1) if answer.lstrip("-").isdigit() else "nope"
    obs, reward, terminated, _, _ = env.step(wrong)
    assert not terminated and f"`{wrong}`" in obs
    obs, reward, terminated, _, info = env.step(answer)
    assert terminated and reward == 1.0 and info["task_id"].startswith("rg/")
    assert info["episode_metrics"]["success_at_turn"] == [0.0, 1.0, 1.0]
    _strict_check(RetryUntilSolved(ReasoningGymTask(), max_turns=2))
