"""The calculator tool: a real expression parser over a whitelist, never ``eval``.

The expression is parsed with Python's ``ast`` and walked node by node; only numbers, the
arithmetic operators, parentheses, a handful of named functions and the constants ``pi`` and ``e``
are accepted. Arithmetic on literals is exact (``fractions.Fraction``: ``0.1 + 0.2`` is ``0.3``), and
every intermediate value is bounded, so ``9 ** 9 ** 9``, ``factorial(10 ** 6)`` or a thousand nested
parentheses are refused with a message instead of eating the CPU or the memory of the env process.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from fractions import Fraction

from feedback_gym.envs.tools.registry import ToolError

MAX_EXPRESSION_CHARS = 1000
MAX_DEPTH = 60
MAX_BITS = 4096  # numerators and denominators above 2**4096 (~1233 digits) are refused
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 1000

Number = Fraction | float


def _bounded(value: Number) -> Number:
    if isinstance(value, Fraction):
        if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
            raise ToolError(f"the result has more than {MAX_BITS} bits; the calculator refuses it")
        return value
    if not math.isfinite(value):
        raise ToolError("the result is not a finite number (overflow or an undefined operation)")
    return value


def _as_float(value: Number) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ToolError("a value is too large for a floating-point function") from None


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
        power = exponent.numerator
        if abs(power) > MAX_EXPONENT:
            raise ToolError(f"exponents above {MAX_EXPONENT} in absolute value are refused")
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if bits * abs(power) > MAX_BITS:
            raise ToolError(f"the result would have more than {MAX_BITS} bits; the calculator refuses it")
        if base == 0 and power < 0:
            raise ToolError("zero cannot be raised to a negative power")
        return base**power
    b, x = _as_float(base), _as_float(exponent)
    if b < 0 and not x.is_integer():
        raise ToolError("a negative number to a fractional power is not a real number")
    if b == 0 and x < 0:
        raise ToolError("zero cannot be raised to a negative power")
    try:
        return math.pow(b, x)
    except OverflowError:
        raise ToolError("the result is too large") from None


def _divide(left: Number, right: Number, kind: type[ast.operator]) -> Number:
    if right == 0:
        raise ToolError("division by zero")
    if kind is ast.Div:
        return left / right
    if kind is ast.FloorDiv:
        return Fraction(math.floor(left / right))
    return left - right * math.floor(left / right)


def _whole(value: Number, what: str) -> int:
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ToolError(f"{what} needs a whole number; got {format_number(value)}")


def _factorial(value: Number) -> Number:
    n = _whole(value, "factorial")
    if not 0 <= n <= MAX_FACTORIAL:
        raise ToolError(f"factorial takes a whole number from 0 to {MAX_FACTORIAL}")
    return Fraction(math.factorial(n))


def _round(value: Number, digits: Number = Fraction(0)) -> Number:
    places = _whole(digits, "round's digits")
    if not -30 <= places <= 30:
        raise ToolError("round's digits must be between -30 and 30")
    exact = value if isinstance(value, Fraction) else Fraction(value)
    scale = Fraction(10) ** places
    magnitude = math.floor(abs(exact) * scale + Fraction(1, 2))  # half away from zero, as people round
    return Fraction(-magnitude if exact < 0 else magnitude) / scale


def _log(value: Number, base: Number | None = None) -> Number:
    x = _as_float(value)
    if x <= 0:
        raise ToolError("log needs a positive number")
    if base is None:
        return math.log(x)
    b = _as_float(base)
    if b <= 0 or b == 1:
        raise ToolError("log's base must be positive and not 1")
    return math.log(x, b)


def _sqrt(value: Number) -> Number:
    if value < 0:
        raise ToolError("sqrt needs a number >= 0")
    if isinstance(value, Fraction):
        root_n, root_d = math.isqrt(value.numerator), math.isqrt(value.denominator)
        if root_n * root_n == value.numerator and root_d * root_d == value.denominator:
            return Fraction(root_n, root_d)
    return math.sqrt(_as_float(value))


def _float_fn(function: Callable[[float], float]) -> Callable[[Number], Number]:
    def apply(value: Number) -> Number:
        try:
            return function(_as_float(value))
        except (ValueError, OverflowError):
            raise ToolError(f"{function.__name__} is undefined or too large here") from None

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


def _walk(node: ast.AST, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise ToolError(f"the expression is nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise ToolError("the expression holds a number too large to read")
        return _bounded(Fraction(node.value) if isinstance(node.value, int) else Fraction(repr(node.value)))
    if isinstance(node, ast.Constant):
        raise ToolError(f"only numbers are allowed; found {node.value!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _walk(node.operand, depth + 1)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _walk(node.left, depth + 1), _walk(node.right, depth + 1)
        op = type(node.op)
        if op is ast.Add:
            return _bounded(left + right)
        if op is ast.Sub:
            return _bounded(left - right)
        if op is ast.Mult:
            return _bounded(left * right)
        if op in (ast.Div, ast.FloorDiv, ast.Mod):
            return _bounded(_divide(left, right, op))
        if op in (ast.Pow, ast.BitXor):  # "^" is read as a power, as on a pocket calculator
            return _bounded(_power(left, right))
        raise ToolError(f"the operator {type(node.op).__name__} is not supported; use + - * / // % **")
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ToolError(f"unknown name {node.id!r}; known constants: pi, e")
    if isinstance(node, ast.Call):
        return _call(node, depth)
    raise ToolError(
        "only numbers, + - * / // % ** ^, parentheses, the constants pi and e and the functions "
        f"{', '.join(FUNCTIONS)} are allowed"
    )


def _call(node: ast.Call, depth: int) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        if not isinstance(node.func, ast.Name):
            raise ToolError("only plain function calls are allowed (no attributes or methods)")
        raise ToolError(f"unknown function {node.func.id!r}; known: {', '.join(FUNCTIONS)}")
    if node.keywords:
        raise ToolError("functions take positional arguments only")
    function, fewest, most = FUNCTIONS[node.func.id]
    count = len(node.args)
    if count < fewest or (most != -1 and count > most):
        expected = str(fewest) if fewest == most else f"{fewest} to {'any' if most == -1 else most}"
        raise ToolError(f"{node.func.id} takes {expected} argument(s); got {count}")
    args = [_walk(arg, depth + 1) for arg in node.args]
    return _bounded(function(*args))


def format_number(value: Number) -> str:
    """Show a value the way a person would write it: exact integers whole, others to 15 digits.

    >>> format_number(Fraction(3, 1)), format_number(Fraction(1, 3)), format_number(0.1 + 0.2)
    ('3', '0.333333333333333', '0.3')
    """
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    number = float(f"{_as_float(value):.15g}")
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
    if not isinstance(expression, str):
        raise ToolError("the expression must be a string")
    text = expression.strip().replace("×", "*").replace("÷", "/").replace("−", "-")
    if not text:
        raise ToolError("the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ToolError(f"{text!r} is not an arithmetic expression") from None
    try:
        return _walk(tree.body, 0)
    except (ZeroDivisionError, OverflowError, ValueError) as err:
        raise ToolError(f"cannot compute this: {err}") from None


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly and return its value.

    Supports + - * / // % ** (or ^), parentheses, pi, e and the functions abs, round(x, digits),
    min, max, sqrt, log(x, base), ln, log10, log2, exp, sin, cos, tan, floor, ceil, factorial, gcd.

    Args:
        expression: The expression, e.g. "round(1234.5 * (1 - 0.15), 2)".
    """
    return format_number(evaluate(expression))
