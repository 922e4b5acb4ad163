r"""Turning a LaTeX-ish or plain maths answer into a short, whitelisted expression string.

The symbolic checker hands expressions to sympy's parser, which evaluates Python code. So model text
never reaches it as such: this module rewrites LaTeX (``\frac``, ``\dfrac``, ``\sqrt``, ``\pi``,
``\cdot``, ``^``) into plain operators, then tokenizes the result and accepts it only if every token
is a number, an operator, a bracket, a single-letter variable or one of a few known function names,
inserting the implicit multiplications (``2x``, ``3(x+1)``, ``2\sqrt{3}``) explicitly. Anything else
is refused (``None``), so the parser can only ever see arithmetic on symbols.
"""

from __future__ import annotations

import re

#: The longest expression handed to the symbolic checker.
MAX_EXPRESSION_CHARS = 400

#: Function names allowed in an expression, and the sympy name each maps to.
FUNCTIONS = {
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "log": "log",
    "ln": "log",
    "exp": "exp",
    "abs": "Abs",
}
#: Constant names allowed, and their sympy names.
CONSTANTS = {"pi": "pi", "π": "pi", "oo": "oo", "infty": "oo", "∞": "oo"}

_SIMPLE_COMMANDS = {
    r"\cdot": "*",
    r"\times": "*",
    r"\div": "/",
    r"\left": "",
    r"\right": "",
    r"\pi": " pi ",
    r"\infty": " oo ",
    r"\ln": " ln ",
    r"\log": " log ",
    r"\sin": " sin ",
    r"\cos": " cos ",
    r"\tan": " tan ",
    r"\exp": " exp ",
    r"\,": "",
    r"\;": "",
    r"\!": "",
    r"\ ": "",
    "−": "-",
    "×": "*",
    "÷": "/",
    "·": "*",
    "√": " sqrt ",
    r"\lbrace": "{",
    r"\rbrace": "}",
}
_TOKEN = re.compile(r"\s*(?:(\d+\.\d*|\.\d+|\d+)|([A-Za-zπ∞]+)|(\*\*|[-+*/^()]))")


def _group(text: str, start: int) -> tuple[str, int] | None:
    """Read one LaTeX argument at ``start``: ``{...}`` (balanced) or a single character."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return None
    if text[start] != "{":
        return text[start], start + 1
    depth, index = 1, start + 1
    while index < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        index += 1
    if depth:
        return None
    return text[start + 1 : index - 1], index


def _rewrite_commands(text: str) -> str | None:
    r"""Rewrite ``\frac{a}{b}`` and ``\sqrt[n]{x}`` (recursively) into plain operators."""
    out: list[str] = []
    index = 0
    while index < len(text):
        match = re.compile(r"\\[dt]?frac|\\sqrt").match(text, index)
        if not match:
            out.append(text[index])
            index += 1
            continue
        index = match.end()
        if match.group(0).endswith("sqrt"):
            root = None
            if index < len(text) and text[index] == "[":
                close = text.find("]", index)
                if close < 0:
                    return None
                root, index = text[index + 1 : close], close + 1
            arg = _group(text, index)
            if arg is None:
                return None
            inner = _rewrite_commands(arg[0])
            if inner is None:
                return None
            index = arg[1]
            out.append(f"sqrt({inner})" if root is None else f"(({inner})**(1/({root})))")
            continue
        num = _group(text, index)
        den = _group(text, num[1]) if num else None
        if num is None or den is None:
            return None
        top, bottom = _rewrite_commands(num[0]), _rewrite_commands(den[0])
        if top is None or bottom is None:
            return None
        out.append(f"(({top})/({bottom}))")
        index = den[1]
    return "".join(out)


def to_expression(text: str) -> str | None:
    r"""Return a whitelisted sympy-parsable string for ``text``, or ``None`` if it is not one.

    >>> to_expression(r"\dfrac{\sqrt{3}}{2}")
    '((sqrt(3))/(2))'
    >>> to_expression("2x^2 + 3(x-1)")
    '2*x**2+3*(x-1)'
    >>> to_expression("__import__('os')") is None, to_expression("x.y") is None
    (True, True)
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        return None
    for command, plain in _SIMPLE_COMMANDS.items():
        text = text.replace(command, plain)
    rewritten = _rewrite_commands(text)
    if rewritten is None:
        return None
    rewritten = rewritten.replace("{", "(").replace("}", ")").replace("[", "(").replace("]", ")")
    return _tokens_to_expression(rewritten)


def _tokens_to_expression(text: str) -> str | None:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            return None
        position = match.end()
        number, word, operator = match.groups()
        if number is not None:
            tokens.append(("num", number))
        elif word is not None:
            expanded = _word_tokens(word)
            if expanded is None:
                return None
            tokens.extend(expanded)
        else:
            tokens.append(("op", "**" if operator == "^" else operator))
        if position < len(text) and text[position:].strip() == "":
            break
    if not tokens or _depth_error(tokens):
        return None
    out: list[str] = []
    previous: tuple[str, str] | None = None
    for kind, value in tokens:
        if previous is not None and previous[0] == "num" and kind == "num":
            return None  # "2 3" is not a number we can read
        if previous is not None and previous[0] == "fn" and (kind, value) != ("op", "("):
            return None  # a function name must be followed by its parenthesised argument
        if previous is not None and _implicit_product(previous, (kind, value)):
            out.append("*")
        out.append(value)
        previous = (kind, value)
    return "".join(out)


def _word_tokens(word: str) -> list[tuple[str, str]] | None:
    """Split a run of letters into known functions, constants and single-letter variables."""
    tokens: list[tuple[str, str]] = []
    index = 0
    names = sorted([*FUNCTIONS, *CONSTANTS], key=len, reverse=True)
    while index < len(word):
        for name in names:
            if word.startswith(name, index):
                kind = "fn" if name in FUNCTIONS else "const"
                tokens.append((kind, FUNCTIONS.get(name) or CONSTANTS[name]))
                index += len(name)
                break
        else:
            char = word[index]
            if not ("a" <= char.lower() <= "z"):
                return None
            tokens.append(("var", char))
            index += 1
    return tokens


def _depth_error(tokens: list[tuple[str, str]]) -> bool:
    depth = 0
    for kind, value in tokens:
        if kind == "op" and value == "(":
            depth += 1
        elif kind == "op" and value == ")":
            depth -= 1
        if depth < 0 or depth > 20:
            return True
    return depth != 0


def _implicit_product(left: tuple[str, str], right: tuple[str, str]) -> bool:
    left_ends_operand = left[0] in ("num", "var", "const") or left == ("op", ")")
    right_starts_operand = right[0] in ("num", "var", "const", "fn") or right == ("op", "(")
    return left_ends_operand and right_starts_operand
