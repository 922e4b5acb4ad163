"""TaskTeacher-v0: proposals are validated by the family's env, taught, and paid by the student's gain."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401 - registers the ids
from feedback_gym.envs.teacher import InContextStudent, RetrievalStudent
from feedback_gym.errors import ConfigError

GOOD_ADD = {"prompt": "Write a Python function `plus(a, b)` that returns the sum of a and b.",
            "entry_point": "plus", "tests": ["assert candidate(1, 2) == 3", "assert candidate(-1, 1) == 0"],
            "solution": "def plus(a, b):\n    return a + b\n"}


def _proposal(*records: dict) -> str:
    return "```json\n" + json.dumps(list(records)) + "\n```"


def test_the_oracle_teaches_the_student_everything_and_junk_teaches_nothing() -> None:
    env = gym.make("TaskTeacher-v0")
    prompt, info = env.reset(seed=0)
    assert "The student solves 0 of 4 held-out tasks now." in prompt and "It fails on:" in prompt
    obs, reward, terminated, _, info = env.step("I don't know.")
    assert (reward, terminated, info["error_kind"]) == (0.0, False, "invalid_action")
    assert "no JSON task found" in obs
    obs, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert (reward, terminated, info["score"]) == (1.0, True, 1.0)
    assert obs == "Correct: all 8 checks passed."  # 4 valid proposals + 4 held-out tasks solved
    assert info["verdict"]["evidence"] == {"before": 0.0, "after": 1.0, "valid_proposals": 4}
    env.close()


def test_leaking_copied_and_malformed_maths_proposals_are_refused_with_why() -> None:
    env = gym.make("TaskTeacher-v0")
    env.reset(seed=1)
    held_out = env.unwrapped.verifier.held_out(env.unwrapped.task)[0]
    copied = {"question": held_out.prompt, "answer": str(held_out.reference)}
    leaking = {"question": "What is 6 * 7? The answer is 42.", "answer": "42"}
    malformed = {"text": "no question here"}
    fine = {"question": "What is 6 * 7?", "answer": "42"}
    obs, _, _, _, info = env.step(_proposal(copied, leaking, malformed, fine))
    assert f"copies held-out task {held_out.id}" in obs
    assert "the answer '42' is in the prompt" in obs
    assert "not a task of this family" in obs
    assert "1 of 4 proposals were valid and taught" in obs
    assert info["verdict"]["evidence"]["valid_proposals"] == 1
    env.close()


def test_code_proposals_run_their_reference_in_the_sandbox() -> None:
    env = gym.make("TaskTeacher-v0", student_env="CodeFeedback-v0", held_out=2)
    env.reset(seed=0)
    broken = {**GOOD_ADD, "solution": "def plus(a, b):\n    return a - b\n"}
    leaking = {**GOOD_ADD, "prompt": GOOD_ADD["prompt"] + " Hint: `return a + b` is all it takes."}
    obs, _, _, _, info = env.step(_proposal(GOOD_ADD, broken, leaking))
    assert "its own reference does not pass its checks (wrong_answer)" in obs
    assert "a line of the reference solution is in the prompt" in obs
    assert "1 of 3 proposals were valid and taught" in obs
    obs, reward, terminated, _, info = env.step(env.unwrapped.oracle_action())
    assert (terminated, info["score"]) == (True, 1.0) and reward > 0
    env.close()


def test_students_learn_and_forget() -> None:
    student = RetrievalStudent(threshold=0.5)
    assert student.attempt(["what is two plus two"]) == ["I don't know."]
    student.learn([("what is two plus two", "4")])
    assert student.attempt(["so, what is two plus two?", "name a colour"]) == ["4", "I don't know."]
    student.forget()
    assert student.attempt(["what is two plus two"]) == ["I don't know."]


def test_a_model_student_learns_in_context_and_its_gain_is_measured() -> None:
    pytest.importorskip("torch")
    env = gym.make("TaskTeacher-v0", student="tiny-random", student_kwargs={"max_new_tokens": 8}, held_out=2)
    env.reset(seed=0)
    assert isinstance(env.unwrapped.verifier.student, InContextStudent)
    _, reward, _, _, info = env.step(env.unwrapped.oracle_action())
    assert 0.0 <= info["score"] <= 1.0 and reward == info["score"]
    assert info["verdict"]["evidence"]["valid_proposals"] == 2
    env.close()


def test_bad_arguments_are_refused_with_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="held_out must be an int in 1..32"):
        gym.make("TaskTeacher-v0", held_out=0)
    with pytest.raises(ConfigError, match="student_env must be a registered id"):
        gym.make("TaskTeacher-v0", student_env="Nope-v0")
    with pytest.raises(ConfigError, match="student must be 'retrieval', a policy spec"):
        gym.make("TaskTeacher-v0", student=42)
