"""Feedback variants used by retry episodes: unary phrasings, binary, reject-previous."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.errors import ConfigError
from feedback_gym.feedback import (
    Attempt,
    FeedbackContext,
    RejectPreviousFeedback,
    UnaryFeedback,
    answer_key,
)
from feedback_gym.tasks import Task
from feedback_gym.verdict import Verdict

TASK = Task(id="t", prompt="p", reference="r")


def _context(action: str, history: list[Attempt], turn: int = 2, max_turns: int = 4) -> FeedbackContext:
    return FeedbackContext(TASK, action, turn, max_turns, tuple(history), np.random.default_rng(0))


def test_answer_key_ignores_spacing_but_keeps_program_indentation() -> None:
    assert answer_key("(1 + 2) * 8") == answer_key("(1+2)*8")
    assert answer_key("if x:\n    y\nz") != answer_key("if x:\n    y\n    z")


def test_reject_previous_names_every_distinct_wrong_answer() -> None:
    history = [Attempt("<answer>1 + 2</answer>", Verdict(False, 0.0, parsed="1 + 2")),
               Attempt("<answer>1+2</answer>", Verdict(False, 0.0, parsed="1+2")),
               Attempt("<answer>4*6</answer>", Verdict(False, 0.0, parsed="4*6"))]
    text = RejectPreviousFeedback()(Verdict(False, 0.0, parsed="9-1"), _context("9-1", history, turn=4))
    assert text.startswith("Incorrect.")
    assert "`1 + 2`" in text and "`4*6`" in text and "`9-1`" in text
    assert "`1+2`" not in text  # the same answer, listed once, as first written
    assert "different answer" in text


def test_reject_previous_says_correct_and_nothing_else_on_success() -> None:
    history = [Attempt("1", Verdict(False, 0.0, parsed="1"))]
    assert RejectPreviousFeedback()(Verdict(True, 1.0, parsed="2"), _context("2", history)) == "Correct."


def test_reject_previous_abridges_programs_and_caps_the_list() -> None:
    program = "def f(x):\n" + "    x += 1\n" * 50 + "    return x"
    history = [Attempt(f"{program}\n# v{i}", Verdict(False, 0.0, parsed=f"{program}\n# v{i}"))
               for i in range(12)]
    feedback = RejectPreviousFeedback(max_listed=3, max_answer_chars=40)
    text = feedback(Verdict(False, 0.0, parsed="x"), _context("x", history, turn=13, max_turns=20))
    assert "(10 earlier answers not shown)" in text
    assert "`def f(x): x += 1 x += 1 x += 1 x += ...` (53 lines)" in text  # folded, cut at 40 chars
    assert "return x" not in text
    assert len(text) < 600


def test_reject_previous_composes_with_any_generic_base() -> None:
    unary = RejectPreviousFeedback(base=UnaryFeedback(["Again!"]))
    text = unary(Verdict(False, 0.0, parsed="5"), _context("5", []))
    assert text.splitlines()[0] == "Again!" and "`5`" in text
    with pytest.raises(ConfigError):
        RejectPreviousFeedback(base="reject_previous")
    with pytest.raises(ConfigError):
        RejectPreviousFeedback(max_listed=0)


def test_unary_phrasings_are_configurable_and_reproducible_under_a_seed() -> None:
    phrasings = ["Again.", "Once more.", "Retry, please."]

    def play(seed: int) -> list[str]:
        env = gym.make("Countdown-v0", feedback="unary", max_turns=6,
                       feedback_options={"phrasings": phrasings})
        env.reset(seed=seed)
        return [env.step("<answer>1+1</answer>")[0] for _ in range(5)]

    first = play(3)
    assert first == play(3)
    assert set(first) <= set(phrasings) and len(set(first)) > 1


def test_reject_previous_takes_its_base_and_limits_from_feedback_options() -> None:
    env = gym.make("Countdown-v0", feedback="reject_previous", max_turns=4,
                   feedback_options={"base": "unary", "max_listed": 1})
    env.reset(seed=0)
    env.step("<answer>1 + 1</answer>")
    obs, *_ = env.step("<answer>2 + 2</answer>")
    lines = obs.splitlines()
    assert "attempts left" not in lines[0]  # the unary base, not binary's "Incorrect. (n left)"
    assert "- (1 earlier answer not shown)" in lines and "- `2 + 2`" in lines and "- `1 + 1`" not in lines


def test_reject_previous_accepts_any_mode_the_env_offers_as_its_base() -> None:
    env = gym.make("MathCritique-v0", feedback="reject_previous", feedback_options={"base": "critique"},
                   max_turns=3)
    env.reset(seed=1)
    first = env.step("Step 1: a guess.\nAnswer: 12345")[0]
    second = env.step("Step 1: another guess.\nAnswer: 777")[0]
    assert "These answers were already tried and are wrong" in second
    assert "- `12345`" in second and "- `777`" in second
    critique_line = first.splitlines()[0]
    assert critique_line not in ("Incorrect.", "") and "Try again" not in critique_line  # the critic spoke
    with pytest.raises(ConfigError, match="unknown feedback mode 'critiq'; accepted: .*critique, in_place"):
        gym.make("MathCritique-v0", feedback="reject_previous", feedback_options={"base": "critiq"})
    countdown_modes = "none, binary, unary, score, tests, full, model, in_place"
    with pytest.raises(ConfigError, match=f"accepted: {countdown_modes}$"):
        gym.make("Countdown-v0", feedback="reject_previous", feedback_options={"base": "critique"})
