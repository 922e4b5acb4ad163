"""The calculator: exact arithmetic over a whitelist, and bounded against hostile expressions."""

from __future__ import annotations

import time

import pytest

from feedback_gym.envs.tools.calculator import calculator
from feedback_gym.envs.tools.registry import ToolError


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("0.1 + 0.2", "0.3"),
        ("7 / 2", "3.5"),
        ("7 // 2", "3"),
        ("-7 // 2", "-4"),
        ("7 % 3", "1"),
        ("2 ** 10", "1024"),
        ("2 ^ 10", "1024"),
        ("-(-3)", "3"),
        ("round(2.675, 2)", "2.68"),
        ("round(-2.5)", "-3"),
        ("round(1234.5 * (1 - 15 / 100), 2)", "1049.33"),
        ("sqrt(144)", "12"),
        ("sqrt(2)", "1.4142135623731"),
        ("abs(1618 - 1254)", "364"),
        ("min(3, 1, 2) + max(4, 5)", "6"),
        ("log(1000, 10)", "3"),
        ("floor(2.7) + ceil(2.1)", "5"),
        ("factorial(10)", "3628800"),
        ("gcd(12, 18)", "6"),
        ("2 * pi", "6.28318530717959"),
        ("3 × 4 ÷ 2", "6"),
        ("1e3 + 1", "1001"),
    ],
)
def test_values(expression: str, value: str) -> None:
    assert calculator(expression) == value


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("9 ** 9 ** 9", "exponents above"),
        ("10 ** 5000", "more than 4096 bits"),
        ("2 ** 4000 * 2 ** 4000", "more than 4096 bits"),
        ("factorial(100000)", "factorial takes"),
        ("1e308 * 1e308 + exp(1000)", "too large"),
        ("1 / 0", "division by zero"),
        ("0 ** -1", "negative power"),
        ("(-8) ** (1 / 3)", "not a real number"),
        ("sqrt(-1)", "sqrt needs"),
        ("log(0)", "positive"),
        ("__import__('os').system('id')", "plain function calls"),
        ("__import__('os')", "unknown function '__import__'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("x + 1", "unknown name 'x'"),
        ("(lambda: 1)()", "plain function calls"),
        ("[1, 2]", "only numbers"),
        ("'a' * 3", "only numbers are allowed"),
        ("1 if 1 else 2", "only numbers"),
        ("1 < 2", "only numbers"),
        ("round(1, digits=2)", "positional arguments only"),
        ("round(1, 2, 3)", "takes 1 to 2 argument"),
        ("1 +", "not an arithmetic expression"),
        ("", "empty"),
        ("1" * 2000, "longer than"),
        ("(" * 300 + "1" + ")" * 300, "arithmetic expression|nested"),
        ("-" * 500 + "1", "nested more than"),
    ],
)
def test_refusals(expression: str, problem: str) -> None:
    with pytest.raises(ToolError, match=problem):
        calculator(expression)


def test_hostile_expressions_are_refused_fast() -> None:
    started = time.perf_counter()
    for expression in ("9 ** 9 ** 9", "2 ** 4096 ** 2", "factorial(1000) ** 1000", "(10 ** 1000) ** 5"):
        with pytest.raises(ToolError):
            calculator(expression)
    assert time.perf_counter() - started < 2.0
