"""The calculator tool: the shared restricted evaluator with functions and constants, never ``eval``.

Expressions are read by :mod:`feedback_gym.envs.arithmetic` (an :mod:`ast` walker over a whitelist,
exact ``Fraction`` arithmetic, every value, exponent and depth bounded), with the operators
``+ - * / // % ** ^``, the constants ``pi`` and ``e`` and the functions below. So ``9 ** 9 ** 9``,
``factorial(10 ** 6)`` or a thousand nested signs are refused with a message instead of eating the
CPU or the memory of the env process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

from feedback_gym.envs.arithmetic import ExpressionError, Grammar, Number, as_float
from feedback_gym.envs.arithmetic import evaluate as evaluate_expression
from feedback_gym.envs.tools.registry import ToolError

MAX_FACTORIAL = 1000


def _whole(value: Number, what: str) -> int:
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ExpressionError(f"{what} needs a whole number; got {format_number(value)}")


def _factorial(value: Number) -> Number:
    n = _whole(value, "factorial")
    if not 0 <= n <= MAX_FACTORIAL:
        raise ExpressionError(f"factorial takes a whole number from 0 to {MAX_FACTORIAL}")
    return Fraction(math.factorial(n))


def _round(value: Number, digits: Number = Fraction(0)) -> Number:
    places = _whole(digits, "round's digits")
    if not -30 <= places <= 30:
        raise ExpressionError("round's digits must be between -30 and 30")
    exact = value if isinstance(value, Fraction) else Fraction(value)
    scale = Fraction(10) ** places
    magnitude = math.floor(abs(exact) * scale + Fraction(1, 2))  # half away from zero, as people round
    return Fraction(-magnitude if exact < 0 else magnitude) / scale


def _log(value: Number, base: Number | None = None) -> Number:
    x = as_float(value)
    if x <= 0:
        raise ExpressionError("log needs a positive number")
    if base is None:
        return math.log(x)
    b = as_float(base)
    if b <= 0 or b == 1:
        raise ExpressionError("log's base must be positive and not 1")
    return math.log(x, b)


def _sqrt(value: Number) -> Number:
    if value < 0:
        raise ExpressionError("sqrt needs a number >= 0")
    if isinstance(value, Fraction):
        root_n, root_d = math.isqrt(value.numerator), math.isqrt(value.denominator)
        if root_n * root_n == value.numerator and root_d * root_d == value.denominator:
            return Fraction(root_n, root_d)
    return math.sqrt(as_float(value))


def _float_fn(function: Callable[[float], float]) -> Callable[[Number], Number]:
    def apply(value: Number) -> Number:
        try:
            return function(as_float(value))
        except (ValueError, OverflowError):
            raise ExpressionError(f"{function.__name__} is undefined or too large here") from None

    return apply


def _ceil(value: Number) -> Number:
    return Fraction(math.ceil(value))


def _floor(value: Number) -> Number:
    return Fraction(math.floor(value))


def _gcd(a: Number, b: Number) -> Number:
    return Fraction(math.gcd(_whole(a, "gcd"), _whole(b, "gcd")))


FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    # name: (function, fewest arguments, most arguments; -1 = any number)
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),
    "min": (min, 1, -1),
    "max": (max, 1, -1),
    "sqrt": (_sqrt, 1, 1),
    "log": (_log, 1, 2),
    "ln": (_log, 1, 1),
    "log10": (lambda x: _log(x, Fraction(10)), 1, 1),
    "log2": (lambda x: _log(x, Fraction(2)), 1, 1),
    "exp": (_float_fn(math.exp), 1, 1),
    "sin": (_float_fn(math.sin), 1, 1),
    "cos": (_float_fn(math.cos), 1, 1),
    "tan": (_float_fn(math.tan), 1, 1),
    "floor": (_floor, 1, 1),
    "ceil": (_ceil, 1, 1),
    "factorial": (_factorial, 1, 1),
    "gcd": (_gcd, 2, 2),
}
CONSTANTS: dict[str, Number] = {"pi": math.pi, "e": math.e}
GRAMMAR = Grammar(operators=frozenset({"+", "-", "*", "/", "//", "%", "**", "^"}), functions=FUNCTIONS,
                  constants=CONSTANTS)


def format_number(value: Number) -> str:
    """Show a value the way a person would write it: exact integers whole, others to 15 digits.

    >>> format_number(Fraction(3, 1)), format_number(Fraction(1, 3)), format_number(0.1 + 0.2)
    ('3', '0.333333333333333', '0.3')
    """
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    number = float(f"{as_float(value):.15g}")
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def evaluate(expression: str) -> Number:
    """Evaluate ``expression`` with the whitelist above; raise :class:`ToolError` otherwise.

    >>> format_number(evaluate("(1234.5 * 12) * (1 - 15 / 100)"))
    '12591.9'
    >>> format_number(evaluate("round(sqrt(2) * 100, 2)"))
    '141.42'
    >>> evaluate("9 ** 9 ** 9")
    Traceback (most recent call last):
    ...
    feedback_gym.envs.tools.registry.ToolError: exponents above 10000 in absolute value are refused
    >>> evaluate("__import__('os')")
    Traceback (most recent call last):
    ...
    feedback_gym.envs.tools.registry.ToolError: unknown function '__import__'; known: abs, round, ...
    """
    try:
        return evaluate_expression(expression, GRAMMAR)
    except ExpressionError as err:
        raise ToolError(str(err)) from None


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly and return its value.

    Supports + - * / // % ** (or ^), parentheses, pi, e and the functions abs, round(x, digits),
    min, max, sqrt, log(x, base), ln, log10, log2, exp, sin, cos, tan, floor, ceil, factorial, gcd.

    Args:
        expression: The expression, e.g. "round(1234.5 * (1 - 0.15), 2)".
    """
    return format_number(evaluate(expression))
