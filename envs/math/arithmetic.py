"""Exact evaluation of short arithmetic written by people or models, without executing anything.

Used to check an agent's own calculations (``197 - 63 = 135``) and to compute the values of the
bundled problems' steps from their expressions. The text is parsed with :mod:`ast` and the tree is
walked by hand over numbers, + - * / and brackets only; anything else gives ``None``.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction


def evaluate_arithmetic(expression: str) -> Fraction | None:
    """Exactly evaluate a short expression of numbers, + - * / and brackets; ``None`` otherwise.

    Parsed with :mod:`ast` and walked by hand: nothing is executed.

    >>> evaluate_arithmetic("197 - 63"), evaluate_arithmetic("(3 + 9) / 4"), evaluate_arithmetic("2 ** 99")
    (Fraction(134, 1), Fraction(3, 1), None)
    >>> evaluate_arithmetic("1/4 of 24"), evaluate_arithmetic("60% of 60")
    (Fraction(6, 1), Fraction(36, 1))
    """
    text = expression.replace("×", "*").replace("÷", "/").replace("−", "-")
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", text)
    text = re.sub(r"\s+of\s+", " * ", text)
    text = re.sub(r"(?<=[\d)\s])x(?=[\d(\s])", "*", text).strip()
    if not text or len(text) > 120:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _walk(tree.body)


def _walk(node: ast.AST) -> Fraction | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _walk(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        left, right = _walk(node.left), _walk(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return None if right == 0 else left / right
    return None
