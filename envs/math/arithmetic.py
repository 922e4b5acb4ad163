"""Exact evaluation of short arithmetic written by people or models, without executing anything.

Used to check an agent's own calculations (``197 - 63 = 135``) and to compute the values of the
bundled problems' steps from their expressions. Prose such as ``60% of 60`` is rewritten into an
expression, which the shared :mod:`feedback_gym.envs.arithmetic` walker evaluates over numbers,
+ - * /, signs and brackets; anything else gives ``None``.
"""

from __future__ import annotations

import re
from fractions import Fraction

from feedback_gym.envs.arithmetic import ExpressionError, Grammar, evaluate

#: Worked-solution steps are short; a longer "expression" is prose, not a calculation.
GRAMMAR = Grammar(max_chars=120)


def evaluate_arithmetic(expression: str) -> Fraction | None:
    """Exactly evaluate a short expression of numbers, + - * / and brackets; ``None`` otherwise.

    >>> evaluate_arithmetic("197 - 63"), evaluate_arithmetic("(3 + 9) / 4"), evaluate_arithmetic("2 ** 99")
    (Fraction(134, 1), Fraction(3, 1), None)
    >>> evaluate_arithmetic("1/4 of 24"), evaluate_arithmetic("60% of 60"), evaluate_arithmetic("1 / 0")
    (Fraction(6, 1), Fraction(36, 1), None)
    """
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", expression)
    text = re.sub(r"\s+of\s+", " * ", text)
    try:
        return Fraction(evaluate(text, GRAMMAR))
    except ExpressionError:
        return None
