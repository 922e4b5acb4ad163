"""The shared primitives read the same way in every family that uses them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from feedback_gym.answers import answer_lines, boxed_contents, marked_answer, tagged_answers
from feedback_gym.envs import arithmetic
from feedback_gym.envs.countdown import evaluate as countdown_evaluate
from feedback_gym.envs.countdown import extract_expression
from feedback_gym.envs.math.arithmetic import evaluate_arithmetic
from feedback_gym.envs.math.extraction import extract_answer
from feedback_gym.envs.tools.calculator import calculator
from feedback_gym.envs.tools.calls import FinalAnswer, parse_action
from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.errors import ConfigError, require_int, require_positive_number


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("Let me see.\n<answer>3 * 8</answer>", "3 * 8"),
        ("<ANSWER>\n 3 * 8 \n</ANSWER>", "3 * 8"),
        ("First <answer>1 + 2</answer>, then <answer>3 * 8</answer>", "3 * 8"),
        ("<answer> </answer> and finally <answer>3 * 8</answer>", "3 * 8"),
        ("Working: 3 * 8 = 24.\nAnswer: 3 * 8", "3 * 8"),
        ("Working.\nFinal answer = 3 * 8  ", "3 * 8"),
    ],
)
def test_countdown_math_and_tools_read_the_same_marked_answer(reply: str, answer: str) -> None:
    assert marked_answer(reply) == answer
    assert extract_expression(reply) == answer
    found = extract_answer(reply)
    assert found is not None and found.text == answer
    if reply.count("<answer>") + reply.count("<ANSWER>") <= 1:  # tools refuses two answers in one reply
        assert parse_action(reply) == FinalAnswer(answer, "tag" if "<" in reply else "line")


def test_the_tool_env_refuses_two_tagged_answers_and_an_empty_one() -> None:
    with pytest.raises(ValueError, match="2 <answer> tags"):
        parse_action("<answer>1</answer><answer>2</answer>")
    with pytest.raises(ValueError, match="empty"):
        parse_action("<answer>  </answer>")


def test_answer_marks_are_found_only_where_they_are_marks() -> None:
    assert tagged_answers("no tags <answer>unclosed") == []
    assert answer_lines("so the answer: 5 is wrong") == []  # not at the start of a line
    assert marked_answer("just 24") is None


def test_boxed_contents_is_linear_on_hostile_input() -> None:
    text = "\\boxed{" * 20_000 + "x"
    assert boxed_contents(text) == []
    assert boxed_contents("\\boxed{a{b}c} \\fbox{ 3 }") == ["a{b}c", "3"]


HOSTILE = ["9 ** 9 ** 9", "(1 + " * 70 + "1" + ")" * 70, "-" * 200 + "1", "1" + "+1" * 100, "10 ** 5000"]


@pytest.mark.parametrize("expression", HOSTILE)
def test_every_family_refuses_the_same_hostile_arithmetic(expression: str) -> None:
    with pytest.raises(arithmetic.ExpressionError):
        arithmetic.evaluate(expression, arithmetic.Grammar(operators=frozenset({"+", "-", "*", "/", "**"})))
    with pytest.raises(arithmetic.ExpressionError):
        countdown_evaluate(expression)
    assert evaluate_arithmetic(expression) is None
    with pytest.raises(ToolError):
        calculator(expression)


def test_each_grammar_keeps_its_own_rules() -> None:
    assert countdown_evaluate("(6 - 2) * 6") == (Fraction(24), [6, 2, 6])
    with pytest.raises(arithmetic.ExpressionError, match="whole numbers"):
        countdown_evaluate("1.5 * 16")
    with pytest.raises(arithmetic.ExpressionError, match="unary signs"):
        countdown_evaluate("-1 + 25")
    assert evaluate_arithmetic("-1.5 + 25") == Fraction(47, 2)
    assert evaluate_arithmetic("2 ** 3") is None
    assert calculator("2 ** 3") == "8" and calculator("2 ^ 3") == "8"


def test_grammars_cannot_be_loosened() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        arithmetic.Grammar(max_chars=10**6)
    with pytest.raises(ValueError, match="unknown operators"):
        arithmetic.Grammar(operators=frozenset({"<<"}))


def test_no_evaluator_calls_eval() -> None:
    import inspect

    from feedback_gym.envs import countdown
    from feedback_gym.envs.math import arithmetic as math_arithmetic
    from feedback_gym.envs.tools import calculator as calculator_module

    for module in (arithmetic, countdown, math_arithmetic, calculator_module):
        source = inspect.getsource(module)
        assert "eval(" not in source.replace("_eval(", "").replace("literal_eval(", "")


@pytest.mark.parametrize("value", [True, 0, -1, 1.0, "3", None])
def test_require_int_refuses_bools_floats_and_small_ints_saying_what_is_accepted(value: object) -> None:
    with pytest.raises(ConfigError, match=r"rounds must be an int >= 1; got"):
        require_int("rounds", value, minimum=1)


def test_require_int_and_positive_number_accept_what_they_promise() -> None:
    assert require_int("seed", 0, minimum=0) == 0
    assert require_int("port", 65535, 0, 65535) == 65535
    assert require_int("bug_seed", -3) == -3
    with pytest.raises(ConfigError, match=r"an int <= 9"):
        require_int("digits", 10, maximum=9)
    assert require_positive_number("timeout", 2) == 2
    for bad in (0, -1.0, True, float("nan"), "1"):
        with pytest.raises(ConfigError, match="a positive number"):
            require_positive_number("timeout", bad)
