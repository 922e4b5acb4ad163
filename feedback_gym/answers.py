r"""Finding the final answer an agent marked: an ``<answer>`` tag, an ``Answer:`` line, a ``\boxed{}``.

Every family that reads a final answer out of free text (Countdown's expression, the maths verifier,
the tool-use env's final answer) reads the marks the same way, with these helpers, so a reply that one
env accepts is read the same by the others:

- ``<answer>...</answer>``, case-insensitive, spanning lines; the contents are stripped;
- a line ``Answer: ...`` or ``Final answer: ...`` (``=`` works for ``:``), the rest of the line;
- ``\boxed{...}`` or ``\fbox{...}`` with balanced braces (the MATH convention).

Where several marks appear, the last one wins (models revise); a family that must refuse two answers
(the tool-use env) counts :func:`tagged_answers` itself.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_LINE = re.compile(r"^[ \t]*(?:final[ \t]+)?answer[ \t]*[:=][ \t]*(.+?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")


def tagged_answers(text: str) -> list[str]:
    r"""The stripped contents of every ``<answer>...</answer>`` in ``text``, in order (empty ones too).

    >>> tagged_answers("<answer> 3 </answer> then <ANSWER>\n4</ANSWER> and <answer></answer>")
    ['3', '4', '']
    """
    return [found.strip() for found in _TAG.findall(text)]


def without_tags(text: str) -> str:
    """``text`` with every ``<answer>...</answer>`` replaced by a space (to look for anything else).

    >>> without_tags("a <answer>1</answer> b")
    'a   b'
    """
    return _TAG.sub(" ", text)


def answer_lines(text: str) -> list[str]:
    r"""What follows ``Answer:`` (or ``Final answer:``, ``answer =``) on every such line, in order.

    >>> answer_lines("Step 1: 2 + 2 = 4\nFinal Answer: 4 \nanswer = 5")
    ['4', '5']
    >>> answer_lines("the answer: is not at the start of a line")
    []
    """
    return _LINE.findall(text)


def boxed_contents(text: str) -> list[str]:
    r"""Return the contents of every ``\boxed{...}`` (and ``\fbox{...}``), braces balanced.

    >>> boxed_contents(r"so \boxed{\frac{1}{2}} and \boxed{3}")
    ['\\frac{1}{2}', '3']
    >>> boxed_contents(r"\boxed{unclosed")
    []
    """
    openings = [match.end() for match in _BOX.finditer(text)]
    if not openings:
        return []
    closing: dict[int, int] = {}  # the index of each "{" -> the index of its "}", in one pass
    stack: list[int] = []
    for index, char in enumerate(text):
        if char == "{":
            stack.append(index)
        elif char == "}" and stack:
            closing[stack.pop()] = index
    return [text[start : closing[start - 1]].strip() for start in openings if start - 1 in closing]


def marked_answer(text: str) -> str | None:
    r"""The last non-empty ``<answer>`` tag, else the last ``Answer:`` line; ``None`` when neither.

    >>> marked_answer("I think <answer>12</answer>, no: <answer>13</answer>")
    '13'
    >>> marked_answer("12 * 2 = 24\nAnswer: 24")
    '24'
    >>> marked_answer("24") is None
    True
    """
    tags = [tag for tag in tagged_answers(text) if tag]
    if tags:
        return tags[-1]
    lines = answer_lines(text)
    return lines[-1] if lines else None
