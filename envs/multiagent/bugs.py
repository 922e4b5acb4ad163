r"""A small, deterministic bug injector over Python's AST (the "erroneous code" of Coffee-Gym).

Every single-site mutation of four kinds is enumerated in a fixed order, and one is drawn with a
seeded :class:`random.Random`, so the same (program, seed) always gives the same bug:

- ``off_by_one``: an integer literal ``n`` becomes ``n + 1`` (loop bounds, indices, initial values);
- ``flip_comparison``: ``<`` and ``>``, ``<=`` and ``>=``, ``==`` and ``!=``, ``in`` and ``not in``
  swap;
- ``wrong_operator``: ``+``/``-``, ``*``/``//``, ``/``/``*``, ``%``/``//`` and ``and``/``or`` swap
  (also in augmented assignments);
- ``drop_return``: ``return expr`` becomes the bare statement ``expr`` (the function returns None).

The injector only parses and rewrites text; it never runs the program. Whether a mutant really is
wrong is decided by the code family's verifier, in its sandbox (see ``code_critique_v0``).

>>> bug = inject_bug("def inc(x):\n    return x + 1\n", random.Random(0), kinds=("wrong_operator",))
>>> bug.kind, bug.buggy_line, bug.fixed_line
('wrong_operator', 'return x - 1', 'return x + 1')
"""

from __future__ import annotations

import ast
import copy
import random
import re
from dataclasses import dataclass

from feedback_gym.errors import ConfigError

BUG_KINDS: tuple[str, ...] = ("off_by_one", "flip_comparison", "wrong_operator", "drop_return")

_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult, ast.Mod: ast.FloorDiv,
}
_BOOLOP_SWAP: dict[type[ast.boolop], type[ast.boolop]] = {ast.And: ast.Or, ast.Or: ast.And}
_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Bug:
    """One injected bug: the buggy program and where it differs from the fixed one.

    ``line`` is 1-based in ``program``; ``fixed_line`` is what that line must read to undo the bug.
    Both programs are in the normalised layout of :func:`ast.unparse`.
    """

    kind: str
    line: int
    buggy_line: str
    fixed_line: str
    program: str
    fixed_program: str


def extract_program(text: str) -> str:
    r"""The Python program in ``text``: the last fenced block if there is one, else the whole text.

    >>> extract_program("Here:\n```python\nprint(1)\n```\n")
    'print(1)\n'
    >>> extract_program("print(2)")
    'print(2)'
    """
    blocks = _FENCE.findall(text)
    return blocks[-1] if blocks else text


def _sites(tree: ast.AST, kinds: tuple[str, ...]) -> list[tuple[str, int]]:
    """Every mutable site as ``(kind, position in ast.walk order)``, deterministic for one tree."""
    sites = []
    for position, node in enumerate(ast.walk(tree)):
        if "off_by_one" in kinds and isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append(("off_by_one", position))
        if "flip_comparison" in kinds and isinstance(node, ast.Compare):
            if type(node.ops[0]) in _COMPARE_SWAP:
                sites.append(("flip_comparison", position))
        if "wrong_operator" in kinds:
            op = getattr(node, "op", None)
            if isinstance(node, ast.BinOp | ast.AugAssign) and type(op) in _BINOP_SWAP:
                sites.append(("wrong_operator", position))
            elif isinstance(node, ast.BoolOp) and type(op) in _BOOLOP_SWAP:
                sites.append(("wrong_operator", position))
        if "drop_return" in kinds and isinstance(node, ast.Return) and node.value is not None:
            sites.append(("drop_return", position))
    return sites


def _mutate(tree: ast.Module, kind: str, position: int) -> ast.Module:
    """A copy of ``tree`` with the site at ``position`` mutated as ``kind``."""
    tree = copy.deepcopy(tree)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == position)
    if kind == "off_by_one":
        node.value = node.value + 1  # type: ignore[attr-defined]
    elif kind == "flip_comparison":
        node.ops[0] = _COMPARE_SWAP[type(node.ops[0])]()  # type: ignore[attr-defined]
    elif kind == "wrong_operator":
        table = _BOOLOP_SWAP if isinstance(node, ast.BoolOp) else _BINOP_SWAP
        node.op = table[type(node.op)]()  # type: ignore[attr-defined,index]
    elif kind == "drop_return":
        _replace_return(tree, node)
    return ast.fix_missing_locations(tree)


def _replace_return(tree: ast.AST, target: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(item is target for item in value):
                index = next(i for i, item in enumerate(value) if item is target)
                expression = ast.Expr(value=target.value)  # type: ignore[attr-defined]
                value[index] = ast.copy_location(expression, target)
                setattr(parent, field, value)
                return


def fence(program: str) -> str:
    r"""Put a program in a fenced Python block (the answer format of the code family).

    >>> fence("print(1)\n")
    '```python\nprint(1)\n```'
    """
    return f"```python\n{program.rstrip()}\n```"


def candidate_bugs(source: str, kinds: tuple[str, ...] = BUG_KINDS) -> list[Bug]:
    r"""Every single-site bug of the given kinds, in a fixed order (empty if ``source`` does not parse).

    >>> [b.kind for b in candidate_bugs("def f(xs):\n    return xs[0] < 3\n")]
    ['drop_return', 'flip_comparison', 'off_by_one', 'off_by_one']
    """
    unknown = set(kinds) - set(BUG_KINDS)
    if unknown:
        raise ConfigError(f"unknown bug kinds {sorted(unknown)}; accepted: {', '.join(BUG_KINDS)}")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    fixed = ast.unparse(tree)
    fixed_lines = fixed.splitlines()
    bugs = []
    for kind, position in _sites(tree, kinds):
        program = ast.unparse(_mutate(tree, kind, position))
        lines = program.splitlines()
        if program == fixed or len(lines) != len(fixed_lines):
            continue
        line = next(i for i, (a, b) in enumerate(zip(lines, fixed_lines, strict=True)) if a != b)
        bugs.append(
            Bug(kind, line + 1, lines[line].strip(), fixed_lines[line].strip(), program + "\n", fixed + "\n")
        )
    return bugs


def inject_bug(source: str, rng: random.Random, kinds: tuple[str, ...] = BUG_KINDS) -> Bug:
    """Draw one bug of ``source`` with ``rng`` (the same draw for the same seed).

    Raises :class:`ConfigError` when ``source`` has no site for any of ``kinds``.
    """
    bugs = candidate_bugs(source, kinds)
    if not bugs:
        raise ConfigError(f"no place to inject a bug of kinds {', '.join(kinds)} in this program")
    return bugs[rng.randrange(len(bugs))]


def shuffled_bugs(source: str, rng: random.Random, kinds: tuple[str, ...] = BUG_KINDS) -> list[Bug]:
    r"""Every candidate bug in an order drawn with ``rng``: try them in turn until one fails the tests.

    >>> a = shuffled_bugs("x = 1 + 2\n", random.Random(3))
    >>> a == shuffled_bugs("x = 1 + 2\n", random.Random(3)) and len(a) == 3
    True
    """
    bugs = candidate_bugs(source, kinds)
    rng.shuffle(bugs)
    return bugs
