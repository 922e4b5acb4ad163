"""The shared step loop (FeedbackEnv): turns, termination, info, reset options, feedback choice."""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401
from feedback_gym.env import FeedbackEnv
from feedback_gym.envs.countdown import CountdownEnv, CountdownVerifier
from feedback_gym.errors import ConfigError, EpisodeEndedError, InvalidTaskError, UnknownTaskError
from feedback_gym.feedback import FeedbackContext, RenderedFeedback
from feedback_gym.tasks import ListTaskSource, Task
from feedback_gym.verdict import Verdict

USER_TASK = {"numbers": [2, 3, 4], "target": 20, "solution": "(2 + 3) * 4"}


def test_wrong_then_right_conversation_and_rewards() -> None:
    env = CountdownEnv(max_turns=3)
    obs, info = env.reset(options={"task": USER_TASK})
    assert "[2, 3, 4]" in obs and "20" in obs
    assert info["turn"] == 0 and info["messages"] == [{"role": "user", "content": obs}]
    obs, reward, terminated, truncated, info = env.step("<answer>2 + 3 + 4</answer>")
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert "expected: 20" in obs and "got:      9" in obs
    assert info["turn"] == 1 and not info["solved"] and info["score"] == pytest.approx(2 / 3)
    obs, reward, terminated, truncated, info = env.step("<answer>(2 + 3) * 4</answer>")
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["solved"] and info["reward_components"] == {"success": 1.0}
    assert [m["role"] for m in info["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert info["messages"][-2]["content"] == "<answer>(2 + 3) * 4</answer>"


def test_truncates_exactly_at_max_turns() -> None:
    env = CountdownEnv(max_turns=2)
    env.reset(options={"task": USER_TASK})
    assert env.step("<answer>2</answer>")[2:4] == (False, False)
    assert env.step("<answer>3</answer>")[2:4] == (False, True)
    with pytest.raises(EpisodeEndedError, match="reset"):
        env.step("<answer>(2 + 3) * 4</answer>")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("again")


def test_give_up_terminates() -> None:
    env = CountdownEnv(max_turns=5)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("  <GIVE_UP> ")
    assert terminated and not truncated and reward == 0.0 and info["error_kind"] == "gave_up"
    assert "gave up" in obs


def test_step_before_reset_is_a_clear_error() -> None:
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        CountdownEnv().step("x")


def test_fraction_reward_pays_improvements_only() -> None:
    env = CountdownEnv(max_turns=4, reward="fraction")
    env.reset(options={"task": USER_TASK})
    rewards = [env.step(a)[1] for a in ("<answer>7</answer>", "<answer>2+3</answer>", "<answer>2*3</answer>")]
    assert rewards == pytest.approx([1 / 3, 1 / 3, 0.0])
    assert env.step("<answer>(2+3)*4</answer>")[1] == pytest.approx(1 / 3)


def test_penalties_are_components() -> None:
    env = CountdownEnv(max_turns=3, reward={"turn_penalty": 0.1, "error_penalties": {"invalid_action": 0.2}})
    env.reset(options={"task": USER_TASK})
    _, reward, _, _, info = env.step("no expression here (")
    assert info["reward_components"] == {"success": 0.0, "turn_penalty": -0.1, "error_penalty": -0.2}
    assert reward == pytest.approx(-0.3)


@pytest.mark.parametrize("mode", ["none", "binary", "unary", "score", "tests", "full"])
def test_every_generic_mode_renders_the_same_verdict(mode: str) -> None:
    env = CountdownEnv(max_turns=2, feedback=mode)
    env.reset(options={"task": USER_TASK})
    obs, reward, _, _, info = env.step("<answer>2 + 3 + 4</answer>")
    assert info["feedback_kind"] == mode and obs
    assert info["score"] == pytest.approx(2 / 3) and reward == 0.0  # the verdict does not depend on the mode
    revealing = "expected: 20" in obs
    assert revealing == (mode in ("tests", "full"))


def test_unary_phrasing_is_reproducible_under_a_seed() -> None:
    def phrases(seed: int) -> list[str]:
        env = CountdownEnv(max_turns=6, feedback="unary")
        env.reset(seed=seed, options=None)
        return [env.step("<answer>1</answer>")[0] for _ in range(5)]

    assert phrases(3) == phrases(3)
    assert len(set(phrases(3) + phrases(4))) > 1


def test_bad_arguments_say_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="accepted: none, binary, unary, score, tests, full"):
        CountdownEnv(feedback="loud")
    with pytest.raises(ConfigError, match="max_turns"):
        CountdownEnv(max_turns=0)
    with pytest.raises(ConfigError, match="accepted: success, turn_penalty, error_penalties"):
        CountdownEnv(reward={"bonus": 1})
    with pytest.raises(ConfigError, match="difficulty"):
        CountdownEnv(difficulty=9)
    with pytest.raises(ConfigError, match="render_mode"):
        CountdownEnv(render_mode="rgb_array")


def test_reset_options() -> None:
    env = CountdownEnv()
    _, info = env.reset(options={"task_index": 4})
    assert info["task_id"] == "countdown-d1/0/4"
    with pytest.raises(ConfigError, match="at most one"):
        env.reset(options={"task_index": 1, "task_id": "countdown-d1/0/1"})
    with pytest.raises(UnknownTaskError, match="ids look like"):
        env.reset(options={"task_id": "HumanEval/0"})
    with pytest.raises(InvalidTaskError, match="numbers"):
        env.reset(options={"task": {"target": 3}})
    with pytest.raises(InvalidTaskError, match="must be a dict"):
        env.reset(options={"task": "2+2"})
    _, info = env.reset(options={"task_id": "countdown-d1/5/9"})  # another generator seed
    assert info["task_id"] == "countdown-d1/5/9"


def test_generic_env_with_a_list_source_and_user_task() -> None:
    source = ListTaskSource("mini", [Task("mini/1", "Reach 6 from [1, 2, 3].", reference="1+2+3",
                                           hidden={"numbers": [1, 2, 3], "target": 6})])
    env = FeedbackEnv(source, CountdownVerifier(), max_turns=1)
    _, info = env.reset(seed=1)
    assert info["task_id"] == "mini/1"
    assert env.step(env.oracle_action())[1] == 1.0
    with pytest.raises(InvalidTaskError, match="prompt"):
        env.reset(options={"task": {"reference": "x"}})


def test_render_ansi_shows_the_transcript() -> None:
    env = CountdownEnv(render_mode="ansi", max_turns=2)
    env.reset(options={"task": USER_TASK})
    env.step("<answer>9</answer>")
    text = env.render()
    assert text.count("[user]") == 2 and "[assistant]\n<answer>9</answer>" in text


def test_make_vec_runs_the_env() -> None:
    envs = gym.make_vec("Countdown-v0", num_envs=2, vectorization_mode="sync")
    obs, info = envs.reset(seed=0)
    assert len(obs) == 2 and all(isinstance(o, str) for o in obs)
    envs.step(["<answer>1</answer>", "<answer>2</answer>"])
    envs.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_env_merges_infos_when_one_copy_resets_and_another_steps(mode: str) -> None:
    kwargs = {"shared_memory": False} if mode == "async" else {}
    envs = gym.make_vec("Countdown-v0", num_envs=2, vectorization_mode=mode, vector_kwargs=kwargs)
    envs.reset(seed=0)
    oracle = envs.call("oracle_action")
    _, _, terminated, _, _ = envs.step([oracle[0], "<answer>1</answer>"])
    assert terminated.tolist() == [True, False]
    # Copy 0 now autoresets (reset info) while copy 1 steps (step info): both must merge.
    _, _, _, _, info = envs.step(["<answer>1</answer>", "<answer>2</answer>"])
    assert info["turn"].tolist() == [0, 2]
    assert "score" in info["verdict"] and info["verdict"]["_score"].tolist() == [False, True]
    envs.close()


# ---------------------------------------------------------------------------- the loop's seams


class _DetailedBinary:
    """A feedback mode that reports details with its text (as the maths critics do)."""

    kind = "detailed"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
        return RenderedFeedback("Right." if verdict.solved else "Wrong.", {"turn_seen": context.turn})


def test_feedback_details_are_always_in_info_and_never_stale() -> None:
    env = CountdownEnv(max_turns=3, feedback=_DetailedBinary())
    _, info = env.reset(options={"task": USER_TASK})
    assert info["feedback_details"] == {}
    obs, _, _, _, info = env.step("<answer>2</answer>")
    assert obs == "Wrong." and info["feedback_details"] == {"turn_seen": 1}
    _, _, terminated, _, info = env.step("<give_up>")
    assert terminated and info["feedback_details"] == {}  # the give-up message has no details
    _, info = env.reset(options={"task": USER_TASK})
    assert info["feedback_details"] == {}
    plain = CountdownEnv(max_turns=2)
    plain.reset(seed=0)
    assert plain.step("<answer>2</answer>")[4]["feedback_details"] == {}


def test_a_mode_returning_neither_text_nor_rendered_feedback_is_a_clear_error() -> None:
    class Broken:
        kind = "broken"

        def __call__(self, verdict: Verdict, context: FeedbackContext) -> int:
            return 42

    env = CountdownEnv(feedback=Broken())
    env.reset(seed=0)
    with pytest.raises(TypeError, match="str or RenderedFeedback"):
        env.step("<answer>2</answer>")


class _TwoStrikes(CountdownEnv):
    """Ends the episode (terminated) after two wrong answers, whatever the turn budget."""

    def episode_status(self, verdict: Verdict) -> tuple[bool, bool]:
        terminated, truncated = super().episode_status(verdict)
        strikes = sum(1 for a in self.history if not a.verdict.solved)
        return (True, False) if not terminated and strikes >= 2 else (terminated, truncated)


def test_episode_status_decides_the_end_and_sees_the_current_attempt() -> None:
    env = _TwoStrikes(max_turns=5)
    env.reset(options={"task": USER_TASK})
    assert env.step("<answer>2</answer>")[2:4] == (False, False)
    _, _, terminated, truncated, info = env.step("<answer>3</answer>")
    assert (terminated, truncated) == (True, False) and "episode_metrics" in info
    with pytest.raises(EpisodeEndedError):
        env.step("<answer>(2 + 3) * 4</answer>")


def test_reset_refuses_unknown_options_with_the_accepted_list() -> None:
    env = CountdownEnv()
    with pytest.raises(ConfigError, match="accepted: task_id, task, task_index"):
        env.reset(options={"task_idx": 3})
