"""One scripted episode through one env of every family: the shared step-loop contract holds for all.

Every family plays the same script (a wrong answer, an empty reply, a 1 MB reply, a wrong answer
again, with a budget of four moves), then a second episode that gives up, in ``ansi`` and ``human``
render modes. The checks are the user's contract: unreadable replies get feedback and no reward
without reaching the verifier, every observation and message fits the observation space, ``info``
always has the shared keys, the episode ends exactly at the budget, and an ended episode refuses
another step. The single-turn families are all :class:`FeedbackEnv` subclasses that do not
override ``step`` (the one loop); the code-critic seat is a view of a multi-agent game and plays
the same script through its own seat loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import pytest

import feedback_gym
from feedback_gym.env import FeedbackEnv
from feedback_gym.envs.retry import RetryUntilSolved
from feedback_gym.errors import EpisodeEndedError
from feedback_gym.text import MAX_ACTION_CHARS, MAX_OBSERVATION_CHARS

#: The keys every env's ``info`` has, after ``reset`` and after every ``step``.
CONTRACT_KEYS = (
    "task_id", "turn", "max_turns", "solved", "score", "reward_components", "feedback_kind",
    "feedback_details", "error_kind", "verdict", "task_metadata", "messages",
)
HUGE = "x" * 1_000_000
BUDGET = 4


@dataclass(frozen=True)
class Family:
    """How to make one env of a family with a four-move budget, and a wrong move for it."""

    make: Callable[[str], gym.Env]
    wrong: str
    ends_by: str = "truncated"  # how the budget ends an episode
    can_give_up: bool = True
    loop_env: bool = True  # a FeedbackEnv (the one step loop)
    extra_keys: tuple[str, ...] = field(default=())


def _made(env_id: str, **kwargs: Any) -> Callable[[str], gym.Env]:
    return lambda render_mode: gym.make(env_id, render_mode=render_mode, **kwargs)


FAMILIES = {
    "code": Family(_made("CodeFeedback-v0", max_turns=BUDGET), "```python\nprint(0)\n```",
                   extra_keys=("counters",)),
    "c-cpp": Family(_made("CppCompilerFeedback-v0", max_turns=BUDGET),
                    "```cpp\nint main() { return 0; }\n```"),
    "maths": Family(_made("MathCritique-v0", max_turns=BUDGET), "Step 1: I guess.\nAnswer: 987654321"),
    "countdown": Family(_made("Countdown-v0", max_turns=BUDGET), "<answer>1 + 1</answer>"),
    "tools": Family(_made("ToolUse-v0", max_turns=BUDGET, max_submissions=BUDGET), "<answer>no idea</answer>",
                    extra_keys=("tools", "tool_calls_left", "submissions_left")),
    "retry": Family(
        lambda render_mode: RetryUntilSolved(gym.make("Countdown-v0", max_turns=1), max_turns=BUDGET,
                                             render_mode=render_mode),
        "<answer>1 + 1</answer>", extra_keys=("best_score", "counters"),
    ),
    # The critique game has a fixed number of rounds: its end is the game's own (terminated), and a
    # critic has no "<give_up>" move.
    "code-critic": Family(_made("CodeCritic-v0", rounds=BUDGET), "Looks fine to me.\nVERDICT: correct",
                          ends_by="terminated", can_give_up=False, loop_env=False),
}


def _check_step(env: gym.Env, result: tuple, family: Family) -> dict[str, Any]:
    obs, reward, terminated, truncated, info = result
    assert isinstance(obs, str) and obs.strip() and env.observation_space.contains(obs)
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    missing = [key for key in (*CONTRACT_KEYS, *family.extra_keys) if key not in info]
    assert not missing, f"info lacks {missing}"
    assert isinstance(info["feedback_details"], dict) and isinstance(info["reward_components"], dict)
    assert reward == pytest.approx(sum(info["reward_components"].values()))
    assert all(env.observation_space.contains(m["content"]) for m in info["messages"])
    assert info["messages"][-1] == {"role": "user", "content": obs}
    return info


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_scripted_episode_keeps_the_contract(name: str) -> None:
    family = FAMILIES[name]
    env = family.make("ansi")
    try:
        if family.loop_env:
            assert isinstance(env.unwrapped, FeedbackEnv)
            assert type(env.unwrapped).step is FeedbackEnv.step, "a family must not override the step loop"
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs) and info["turn"] == 0
        assert not [key for key in CONTRACT_KEYS if key not in info]

        info = _check_step(env, env.step(family.wrong), family)
        assert not info["solved"] and info["turn"] == 1

        for turn, junk in ((2, ""), (3, HUGE)):
            obs, reward, terminated, truncated, info = env.step(junk)
            _check_step(env, (obs, reward, terminated, truncated, info), family)
            assert reward == 0.0 and not (terminated or truncated) and info["turn"] == turn
            assert info["error_kind"] == "invalid_action" and not info["solved"]
            assert ("empty" in obs) if junk == "" else (f"{len(HUGE)} characters" in obs)
        shown = info["messages"][-2]["content"]
        assert len(shown) <= MAX_OBSERVATION_CHARS < len(HUGE) and MAX_ACTION_CHARS < len(HUGE)

        obs, reward, terminated, truncated, info = env.step(family.wrong)
        _check_step(env, (obs, reward, terminated, truncated, info), family)
        assert (terminated, truncated) == ((True, False) if family.ends_by == "terminated" else (False, True))
        assert info["turn"] == BUDGET and info["max_turns"] == BUDGET
        with pytest.raises(EpisodeEndedError):
            env.step(family.wrong)

        transcript = env.render()
        assert isinstance(transcript, str) and family.wrong.splitlines()[0] in transcript
        assert "x" * 1000 in transcript and len(transcript) < len(HUGE)  # the huge reply, clipped
    finally:
        env.close()


@pytest.mark.parametrize("name", list(FAMILIES))
def test_human_render_prints_the_newest_message_and_give_up_ends(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    family = FAMILIES[name]
    env = family.make("human")
    try:
        env.reset(seed=1)
        capsys.readouterr()
        obs, *_ = env.step("")
        printed = capsys.readouterr().out
        assert obs in printed and printed.startswith("[user]")
        if family.can_give_up:
            obs, reward, terminated, truncated, info = env.step("<give_up>")
            _check_step(env, (obs, reward, terminated, truncated, info), family)
            assert terminated and not truncated and reward == 0.0 and info["error_kind"] == "gave_up"
            assert "gave up" in capsys.readouterr().out
            with pytest.raises(EpisodeEndedError):
                env.step(family.wrong)
    finally:
        env.close()


#: What each loop family says about itself: (family, sandbox backend, critic).
DESCRIBED = {
    "code": ("code", "local", None), "c-cpp": ("code", "local", None), "maths": ("math", None, "reference"),
    "countdown": ("countdown", None, None), "tools": ("tools", "local", None), "retry": ("retry", None, None),
}


@pytest.mark.parametrize("name", list(DESCRIBED))
def test_every_loop_env_describes_itself(name: str) -> None:
    env = FAMILIES[name].make("ansi")
    try:
        core = env.unwrapped
        described = core.describe()
        assert (described["family"], described["sandbox"], described["critic"]) == DESCRIBED[name]
        assert described["max_turns"] == BUDGET and described["feedback_kind"] == core.feedback.kind
        assert type(core).uses_sandbox == (described["sandbox"] is not None)
        if name == "retry":
            assert described["wrapped"]["family"] == "countdown" and described["wrapped"]["max_turns"] == 1
    finally:
        env.close()


def test_every_family_of_the_registry_is_in_the_contract() -> None:
    """A new family must join the scripted episode: every registered entry point is covered."""
    covered_modules = {
        "feedback_gym.envs.code.env", "feedback_gym.envs.math.env", "feedback_gym.envs.countdown",
        "feedback_gym.envs.tools", "feedback_gym.envs.retry.math_try_again",
        "feedback_gym.envs.retry.code_try_again", "feedback_gym.envs.multiagent.code_critique_v0",
    }
    entry_points = {gym.spec(env_id).entry_point for env_id in feedback_gym.registration.feedback_gym_ids()}
    modules = {str(entry).partition(":")[0] for entry in entry_points}
    assert modules <= covered_modules, f"families with no contract case: {sorted(modules - covered_modules)}"

