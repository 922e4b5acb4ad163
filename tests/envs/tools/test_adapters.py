"""The maths and code families' tasks played with tools, judged by those families' own verifiers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import gymnasium as gym
import pytest

from feedback_gym.envs.tools import ToolUseEnv
from feedback_gym.envs.tools.adapters import calculator_steps
from feedback_gym.sandboxes import Sandbox, make_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = make_sandbox("local")
    yield box
    box.close()


def _play(env: ToolUseEnv, actions: list[str] | None = None) -> tuple[list[str], dict]:
    observations, info = [], {}
    for step in range(env.max_turns):
        action = env.oracle_action() if actions is None else actions[step]
        observation, _, terminated, truncated, info = env.step(action)
        observations.append(observation)
        if terminated or truncated:
            break
    return observations, info


@pytest.mark.parametrize("family_options", [None, {"source": "generated"}])
def test_math_oracle_redoes_the_arithmetic_with_the_calculator(family_options: dict | None) -> None:
    env = ToolUseEnv("math", family_options=family_options)
    try:
        used = 0
        for index in range(30):
            env.reset(options={"task_index": index})
            observations, info = _play(env)
            assert info["solved"], (info["task_id"], observations[-1])
            used += info["tool_calls_used"]
            assert all(o.startswith("[calculator result]") for o in observations[:-1])
        assert used >= 30  # most worked solutions have arithmetic steps to redo
    finally:
        env.close()


def test_math_answers_are_judged_by_the_maths_verifier() -> None:
    env = ToolUseEnv("math")
    try:
        env.reset(options={"task_id": "bundled/027"})  # solve 7 - 2x = 19
        observation, reward, terminated, _, info = env.step("<answer>6</answer>")
        assert (reward, terminated) == (0.0, False) and observation.startswith("Incorrect.")
        observation, reward, terminated, _, info = env.step("x = -6\nAnswer: -6")
        assert (reward, terminated, info["solved"]) == (1.0, True, True)
    finally:
        env.close()


def test_code_oracle_tries_the_examples_then_submits(sandbox: Sandbox) -> None:
    env = ToolUseEnv("code", sandbox=sandbox)
    try:
        for index in range(0, 110, 7):
            env.reset(options={"task_index": index})
            observations, info = _play(env)
            assert info["solved"], (info["task_id"], observations[-1])
            if info["tool_calls_used"]:
                assert observations[0].startswith("[python result]\nexamples pass")
    finally:
        env.close()


def test_wrong_programs_get_the_code_familys_test_feedback(sandbox: Sandbox) -> None:
    env = ToolUseEnv("code", sandbox=sandbox)
    try:
        observation, info = env.reset(options={"task_id": "bundled/py/add_numbers"})
        assert (
            "Submit the final program inside <answer>" in observation
            and "- python(code: string)" in observation
        )
        wrong = "<answer>\n```python\ndef add_numbers(a, b):\n    return a - b\n```\n</answer>"
        observation, reward, terminated, _, info = env.step(wrong)
        assert (reward, terminated) == (0.0, False) and info["feedback_kind"] == "tests"
        assert "checks passed" in observation and "add_numbers" in observation
        try_it = {
            "tool": "python",
            "arguments": {"code": "def add_numbers(a, b):\n    return a + b\nadd_numbers(2, 3)"},
        }
        assert env.step(json.dumps(try_it))[0].startswith("[python result]\n5")
        # A bare fenced program (the code family's own form) is a submission too.
        plain = "Here it is.\n```python\ndef add_numbers(a, b):\n    return a * b\n```"
        observation, reward, terminated, _, info = env.step(plain)
        assert "checks passed" in observation and "No answer attempts are left" in observation
        assert (reward, terminated, info["solved"], info["submissions_left"]) == (0.0, True, False, 0)
        env.reset(options={"task_id": "bundled/py/add_numbers"})
        right = "<answer>\n```python\ndef add_numbers(a, b):\n    return a + b\n```\n</answer>"
        assert env.step(right)[4]["solved"]
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ["ToolUseMath-v0", "ToolUseCode-v0"])
def test_registered_family_ids_solve_with_the_oracle(env_id: str) -> None:
    env = gym.make(env_id)
    try:
        env.reset(seed=3)
        total, done, info = 0.0, False, {}
        while not done:
            _, reward, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
            total += reward
            done = terminated or truncated
        assert info["solved"] and total == 1.0
    finally:
        env.close()


def test_calculator_steps_keep_only_checked_arithmetic() -> None:
    solution = "Cost: 3 * 4.5 = 13.5\nWrong: 2 + 2 = 5\nWords: half of it = 6\nAnswer: 13.5"
    assert calculator_steps(solution) == ["3 * 4.5"]


def test_tool_use_math_offers_only_the_tools_its_description_names() -> None:
    env = gym.make("ToolUseMath-v0")
    try:
        prompt, info = env.reset(seed=0)
        names = sorted(schema["function"]["name"] for schema in info["tools"])
        assert names == ["calculator", "python", "submit"]
        assert "- search(" not in prompt and "- sql(" not in prompt
        obs, _, _, _, info = env.step('{"tool": "sql", "arguments": {"query": "SELECT 1"}}')
        assert info["error_kind"] == "tool_error"
        assert "unknown tool 'sql'; available tools: calculator, python, submit" in obs
    finally:
        env.close()
