"""``model`` and ``in_place`` feedback on every family: what the critic reads, what the agent sees.

A scripted critic (a real :class:`Policy` that records its conversations and replies with a fixed,
deliberately leaky text) shows that each family renders its own reference for the critic (a
reference program, a Countdown solution, a worked solution and tool plan, never a raw record) and
that its leak filter redacts what would hand over the answer. A tiny local transformers model runs
the same path through ``gym.make``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.agents.policy import Reply
from feedback_gym.envs.code.env import CodeFeedbackEnv, CppCompilerFeedbackEnv
from feedback_gym.envs.countdown import CountdownEnv
from feedback_gym.envs.in_place_edit import EDIT_NOTE, InPlaceEditFeedback, strict_edit
from feedback_gym.envs.math.critic import CritiqueFeedback
from feedback_gym.envs.math.env import MathCritiqueEnv
from feedback_gym.envs.math.model_critic import ModelCritiqueFeedback
from feedback_gym.envs.tools.env import ToolUseEnv
from feedback_gym.errors import ConfigError, CriticFailedError


class ScriptedCritic:
    """Replies with ``reply(conversation)``; keeps every conversation it was shown."""

    name = "scripted"

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.seen: list[Sequence[dict[str, str]]] = []

    def act(self, conversations: Sequence[Any], envs: Sequence[Any] | None = None) -> list[Reply]:
        self.seen.extend(conversations)
        return [Reply(self.reply(c) if callable(self.reply) else self.reply) for c in conversations]

    def identity(self) -> dict[str, Any]:
        return {"policy": "scripted"}


WRONG_ADD = "```python\ndef add_numbers(a, b):\n    return a - b\n```"


def test_code_critic_reads_the_reference_program_and_cannot_hand_it_over():
    env = CodeFeedbackEnv(max_turns=2, feedback="model",
                          feedback_options={"critic": ScriptedCritic("")})
    try:
        env.reset(options={"task_id": "bundled/py/add_numbers"})
        reference = str(env.task.reference).strip()
        last = reference.splitlines()[-1].strip()
        leak = f"Use this instead:\n```python\n{reference}\n```\nThe line `{last}` fixes it."
        env.unwrapped.feedback.policy.reply = leak
        obs, reward, terminated, truncated, info = env.step(WRONG_ADD)
        system, user = env.unwrapped.feedback.policy.seen[-1]
        assert "never write code" in system["content"]
        assert reference in user["content"] and "Test results:" in user["content"]  # reference, evidence
        assert reference.splitlines()[-1].strip() not in obs and "```" not in obs and "[...]" in obs
        assert info["feedback_details"]["redactions"] == 2
        assert obs.endswith("(1 attempt left)") and not terminated
        obs, reward, terminated, *_ = env.step(env.unwrapped.oracle_action())
        assert reward == 1.0 and terminated
    finally:
        env.close()


def test_cpp_critic_sees_the_compiler_diagnostics():
    critic = ScriptedCritic("Look at the declaration of main again.")
    env = CppCompilerFeedbackEnv(max_turns=2, feedback="model", feedback_options={"critic": critic})
    try:
        env.reset(seed=0)
        obs, *_ = env.step("```cpp\nint main( { return 0 }\n```")
        user = critic.seen[-1][1]["content"]
        assert "error" in user and "Reference C" in user  # diagnostics and the reference program
        assert obs.startswith("Look at the declaration of main again.")
    finally:
        env.close()


def test_countdown_critic_may_not_write_an_expression_that_reaches_the_target():
    env = CountdownEnv(max_turns=2, feedback="model", feedback_options={"critic": ScriptedCritic("")})
    env.reset(seed=0)
    reference = str(env.unwrapped.task.reference)
    env.unwrapped.feedback.policy.reply = f"Try {reference}. Or think about 1 + 1."
    obs, *_ = env.step("<answer>1 + 1</answer>")
    assert reference not in obs and "[...]" in obs and "1 + 1" in obs


def test_tool_use_math_critic_gets_the_worked_solution_and_tool_plan_not_a_raw_record():
    critic = ScriptedCritic("Check your second calculation.")
    env = gym.make("ToolUseMath-v0", feedback=ModelCritiqueFeedback(critic), max_turns=4)
    try:
        env.reset(seed=0)
        env.step("<answer>-12345</answer>")
        user = critic.seen[-1][1]["content"]
        assert "mappingproxy" not in user and "'oracle'" not in user
        assert "Reference solution:" in user and "\\boxed{" in user and "calculator(expression=" in user
    finally:
        env.close()


def test_mint_critique_after_every_tool_reply():
    critic = ScriptedCritic("Good lookup; now combine the numbers.")
    env = ToolUseEnv(feedback="model", feedback_options={"critic": critic}, critique_every_reply=True)
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step(env.unwrapped.oracle_action())  # a tool call, not an answer
        assert "[feedback]\nGood lookup; now combine the numbers." in obs and len(critic.seen) == 1
        assert info["feedback_details"]["family"] == "tools"
        assert "tool returned:" in critic.seen[-1][1]["content"]  # the critic reads the tool's output
    finally:
        env.close()
    with pytest.raises(ConfigError, match="critique_every_reply needs a critic"):
        ToolUseEnv(feedback="binary", critique_every_reply=True)


def test_a_critic_that_does_not_fit_the_family_is_refused_with_what_fits():
    with pytest.raises(ConfigError, match="works for the math family, not code; accepted here: .*model"):
        CodeFeedbackEnv(feedback=CritiqueFeedback())
    with pytest.raises(ConfigError, match="accepted: .*model"):
        gym.make("Countdown-v0", feedback="critique")
    with pytest.raises(ConfigError, match="works for the math family, not tools"):
        gym.make("ToolUseMath-v0", feedback=CritiqueFeedback())
    from feedback_gym.envs.code.critic_brief import CODE_BRIEF
    from feedback_gym.envs.model_critic import ModelCritiqueFeedback as Shared

    with pytest.raises(ConfigError, match="built for the code family; the environment is countdown"):
        CountdownEnv(feedback=Shared(ScriptedCritic("x"), brief=CODE_BRIEF))


def test_tiny_random_critic_through_gym_make_on_countdown():
    pytest.importorskip("transformers")
    env = gym.make("Countdown-v0", feedback="model", max_turns=2,
                   feedback_options={"critic": "tiny-random",
                                     "critic_options": {"max_new_tokens": 12, "temperature": 1.0, "seed": 0}})
    env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step("<answer>1 + 1</answer>")
    details = info["feedback_details"]
    assert details["spec"] == "tiny-random" and details["family"] == "countdown"
    assert details["fallback"] is None
    assert obs.strip() and env.observation_space.contains(obs) and reward == 0.0


def test_strict_edit_keeps_one_corrected_line():
    assert strict_edit("a\nb\nc", "a\nB\nC\nD") == ("a\nB\n", 1)
    assert strict_edit("a\nb", "a\n\nb") == ("", None)


def test_in_place_edit_on_maths_gives_the_prefix_and_never_the_answer():
    env = MathCritiqueEnv(families=["arithmetic"], max_turns=2)
    env.reset(seed=3)
    answer = str(env.task.reference)
    wrong = "Step one: 2 + 2 = 5\nStep two: 5 * 2 = 10\nAnswer: 10"
    editor = ScriptedCritic(f"Step one: 2 + 2 = 4\nStep two: 4 * 2 = 8\nAnswer: {answer}")
    env.feedback = InPlaceEditFeedback(editor)
    from feedback_gym.envs.math.model_critic import MATH_BRIEF

    env.feedback.bind(MATH_BRIEF)
    obs, _, _, _, info = env.step(wrong)
    details = info["feedback_details"]
    assert info["assistant_prefix"] == details["assistant_prefix"] == "Step one: 2 + 2 = 4\n"
    assert details["edited_line"] == 0 and info["critique"]["edited_line"] == 0
    assert obs.startswith(EDIT_NOTE) and "Step one: 2 + 2 = 4" in obs and f"Answer: {answer}" not in obs


def test_in_place_edit_through_make_and_a_critic_that_changes_nothing():
    env = CountdownEnv(max_turns=2, feedback="in_place", feedback_options={"critic": ScriptedCritic("")})
    env.reset(seed=0)
    editor = env.unwrapped.feedback.policy
    editor.reply = "<answer>1 + 1</answer>"  # the same answer: no edit
    with pytest.raises(CriticFailedError, match="changed no line"):
        env.step("<answer>1 + 1</answer>")


def test_in_place_edit_through_gym_make_on_code_sets_the_prefix():
    env = gym.make("CodeFeedback-v0", feedback="in_place", max_turns=2,
                   feedback_options={"critic": ScriptedCritic(WRONG_ADD.replace("a - b", "a + b"))})
    try:
        env.reset(options={"task_id": "bundled/py/add_numbers"})
        obs, _, _, _, info = env.step(WRONG_ADD)
        assert info["assistant_prefix"] == "```python\ndef add_numbers(a, b):\n    return a + b\n"
        assert obs.startswith(EDIT_NOTE) and info["feedback_details"]["fallback"] is None
    finally:
        env.close()
