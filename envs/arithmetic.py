"""One restricted arithmetic evaluator for every family: a parser over a whitelist, never ``eval``.

Countdown checks an agent's expression, the maths critic checks an agent's own calculations
(``197 - 63 = 135``) and the tool-use calculator answers an agent's queries. All three read short
arithmetic written by a model, so all three share this walker and its limits: the text is parsed with
:mod:`ast` and the tree is walked node by node over what a :class:`Grammar` allows; arithmetic on
literals is exact (``fractions.Fraction``); every intermediate value, exponent and nesting depth is
bounded, so ``9 ** 9 ** 9`` or a thousand nested signs are refused at once instead of eating the CPU
or the memory of the env process. A family picks a grammar (which operators, signs, decimals,
functions and constants) but never loosens the limits.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

#: The longest expression any grammar reads (a grammar may ask for fewer).
MAX_EXPRESSION_CHARS = 1000
#: The deepest expression tree walked (each operator, sign or call is one level).
MAX_DEPTH = 60
#: Numerators and denominators above 2**4096 (~1233 digits) are refused.
MAX_BITS = 4096
#: Integer exponents above this in absolute value are refused.
MAX_EXPONENT = 10_000

Number = Fraction | float
#: A function a grammar offers: (implementation, fewest arguments, most arguments; -1 = any number).
Function = tuple[Callable[..., Number], int, int]

_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitXor: "^",  # read as a power, as on a pocket calculator
}


class ExpressionError(ValueError):
    """The text is not an expression the grammar accepts, or its value is out of bounds."""


@dataclass(frozen=True)
class Grammar:
    """What an evaluator accepts; the safety limits of this module hold for every grammar.

    ``operators`` are symbols from ``+ - * / // % ** ^``; ``signs`` allows unary ``+``/``-``;
    ``decimals`` allows literals such as ``1.5``; ``functions`` and ``constants`` are looked up by
    name (nothing else is a name).
    """

    operators: frozenset[str] = frozenset("+-*/")
    signs: bool = True
    decimals: bool = True
    functions: Mapping[str, Function] = field(default_factory=dict)
    constants: Mapping[str, Number] = field(default_factory=dict)
    max_chars: int = MAX_EXPRESSION_CHARS

    def __post_init__(self) -> None:
        unknown = set(self.operators) - set(_SYMBOLS.values())
        if unknown:
            raise ValueError(f"unknown operators {sorted(unknown)}; accepted: {' '.join(_SYMBOLS.values())}")
        if not 1 <= self.max_chars <= MAX_EXPRESSION_CHARS:
            raise ValueError(f"max_chars must be from 1 to {MAX_EXPRESSION_CHARS}; got {self.max_chars}")

    def describe_operators(self) -> str:
        """The allowed operators, in a fixed order, for messages.

        >>> Grammar().describe_operators()
        '+ - * /'
        """
        return " ".join(symbol for symbol in _SYMBOLS.values() if symbol in self.operators)


#: Numbers, + - * /, signs and brackets: the grammar of written-out calculations.
PLAIN = Grammar()


def bounded(value: Number) -> Number:
    """Return ``value`` if it is finite and its numerator and denominator fit :data:`MAX_BITS`.

    >>> bounded(Fraction(2) ** 4097)
    Traceback (most recent call last):
    ...
    feedback_gym.envs.arithmetic.ExpressionError: the result has more than 4096 bits; it is refused
    """
    if isinstance(value, Fraction):
        if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
            raise ExpressionError(f"the result has more than {MAX_BITS} bits; it is refused")
        return value
    if not math.isfinite(value):
        raise ExpressionError("the result is not a finite number (overflow or an undefined operation)")
    return value


def as_float(value: Number) -> float:
    """``value`` as a float, or an :class:`ExpressionError` when it is too large for one."""
    try:
        return float(value)
    except OverflowError:
        raise ExpressionError("a value is too large for a floating-point function") from None


def power(base: Number, exponent: Number) -> Number:
    """``base ** exponent``, exact for whole exponents, refused when the result would be too large.

    >>> power(Fraction(2), Fraction(10)), power(Fraction(4), Fraction(1, 2))
    (Fraction(1024, 1), 2.0)
    """
    if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
        whole = exponent.numerator
        if abs(whole) > MAX_EXPONENT:
            raise ExpressionError(f"exponents above {MAX_EXPONENT} in absolute value are refused")
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if bits * abs(whole) > MAX_BITS:
            raise ExpressionError(f"the result would have more than {MAX_BITS} bits; it is refused")
        if base == 0 and whole < 0:
            raise ExpressionError("zero cannot be raised to a negative power")
        return base**whole
    b, x = as_float(base), as_float(exponent)
    if b < 0 and not x.is_integer():
        raise ExpressionError("a negative number to a fractional power is not a real number")
    if b == 0 and x < 0:
        raise ExpressionError("zero cannot be raised to a negative power")
    try:
        return math.pow(b, x)
    except OverflowError:
        raise ExpressionError("the result is too large") from None


def _divide(left: Number, right: Number, symbol: str) -> Number:
    if right == 0:
        raise ExpressionError("division by zero")
    if symbol == "/":
        return left / right
    if symbol == "//":
        return Fraction(math.floor(left / right))
    return left - right * math.floor(left / right)


def normalize(expression: str) -> str:
    """Read the symbols people type for arithmetic as Python's: ``×``/``x`` ``÷`` and ``−``.

    >>> normalize("3 x (2 − 1) ÷ 4")
    '3 * (2 - 1) / 4'
    """
    text = expression.strip().replace("×", "*").replace("÷", "/").replace("−", "-")
    return re.sub(r"(?<=[\d)\s])x(?=[\d(\s])", "*", text)


class _Walker:
    """Walks one parsed expression, recording the number literals it reads, left to right."""

    def __init__(self, grammar: Grammar) -> None:
        self.grammar = grammar
        self.literals: list[Number] = []

    def value(self, node: ast.AST, depth: int = 0) -> Number:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self._literal(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            if not self.grammar.signs:
                raise ExpressionError("unary signs are not allowed; use the given numbers as they are")
            operand = self.value(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.Name):
            if node.id in self.grammar.constants:
                return self.grammar.constants[node.id]
            known = ", ".join(self.grammar.constants) or "none"
            raise ExpressionError(f"unknown name {node.id!r}; known constants: {known}")
        if isinstance(node, ast.Call) and self.grammar.functions:
            return self._call(node, depth)
        raise ExpressionError(f"only {self._accepted()} are allowed; found {_kind(node)}")

    def _literal(self, value: object) -> Number:
        if type(value) is int or (type(value) is float and self.grammar.decimals):
            if isinstance(value, float) and not math.isfinite(value):
                raise ExpressionError("the expression holds a number too large to read")
            number = bounded(Fraction(value) if isinstance(value, int) else Fraction(repr(value)))
            self.literals.append(number)
            return number
        if type(value) is float:
            raise ExpressionError(f"only whole numbers are allowed; found {value!r}")
        raise ExpressionError(f"only numbers are allowed; found {value!r}")

    def _binary(self, node: ast.BinOp, depth: int) -> Number:
        symbol = _SYMBOLS.get(type(node.op), "?")
        if symbol not in self.grammar.operators:
            raise ExpressionError(f"only {self.grammar.describe_operators()} are allowed; found {symbol!r}")
        left, right = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
        if symbol == "+":
            return bounded(left + right)
        if symbol == "-":
            return bounded(left - right)
        if symbol == "*":
            return bounded(left * right)
        if symbol in ("/", "//", "%"):
            return bounded(_divide(left, right, symbol))
        return bounded(power(left, right))

    def _call(self, node: ast.Call, depth: int) -> Number:
        functions = self.grammar.functions
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only plain function calls are allowed (no attributes or methods)")
        if node.func.id not in functions:
            raise ExpressionError(f"unknown function {node.func.id!r}; known: {', '.join(functions)}")
        if node.keywords:
            raise ExpressionError("functions take positional arguments only")
        function, fewest, most = functions[node.func.id]
        count = len(node.args)
        if count < fewest or (most != -1 and count > most):
            expected = str(fewest) if fewest == most else f"{fewest} to {'any' if most == -1 else most}"
            raise ExpressionError(f"{node.func.id} takes {expected} argument(s); got {count}")
        args = [self.value(arg, depth + 1) for arg in node.args]
        return bounded(function(*args))

    def _accepted(self) -> str:
        parts = ["numbers", self.grammar.describe_operators()]
        if self.grammar.constants:
            parts.append("the constants " + ", ".join(self.grammar.constants))
        if self.grammar.functions:
            parts.append("the functions " + ", ".join(self.grammar.functions))
        return ", ".join(parts) + " and parentheses"


def _kind(node: ast.AST) -> str:
    names = {ast.Name: "a name", ast.Call: "a function call", ast.Compare: "a comparison"}
    return names.get(type(node), type(node).__name__)


def evaluate_with_literals(expression: str, grammar: Grammar = PLAIN) -> tuple[Number, list[Number]]:
    """Evaluate ``expression`` under ``grammar``; return its value and the number literals it used.

    >>> evaluate_with_literals("(6 - 2) * 6")
    (Fraction(24, 1), [Fraction(6, 1), Fraction(2, 1), Fraction(6, 1)])
    """
    if not isinstance(expression, str):
        raise ExpressionError("the expression must be a string")
    text = normalize(expression)
    if not text:
        raise ExpressionError("the expression is empty")
    if len(text) > grammar.max_chars:
        raise ExpressionError(f"the expression is longer than {grammar.max_chars} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"{text!r} is not an arithmetic expression") from None
    walker = _Walker(grammar)
    try:
        value = walker.value(tree.body)
    except ExpressionError:
        raise
    except (ArithmeticError, ValueError) as err:  # from a grammar's function, e.g. math.sin(1e308)
        raise ExpressionError(f"cannot compute this: {err}") from None
    return value, walker.literals


def evaluate(expression: str, grammar: Grammar = PLAIN) -> Number:
    """Evaluate ``expression`` under ``grammar``; raise :class:`ExpressionError` otherwise.

    >>> evaluate("197 - 63"), evaluate("(3 + 9) / 4"), evaluate("-1.5 * 2")
    (Fraction(134, 1), Fraction(3, 1), Fraction(-3, 1))
    >>> evaluate("2 ** 10")
    Traceback (most recent call last):
    ...
    feedback_gym.envs.arithmetic.ExpressionError: only + - * / are allowed; found '**'
    >>> evaluate("__import__('os')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    feedback_gym.envs.arithmetic.ExpressionError: only numbers, + - * / and parentheses ... a function call
    """
    return evaluate_with_literals(expression, grammar)[0]
