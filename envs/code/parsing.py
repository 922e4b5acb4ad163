r"""Reading the program out of an agent's reply.

Chat models wrap code in Markdown fences and surround it with prose. The rule here is the one most
code benchmarks use: take the *last complete* fenced block (a block whose closing fence is present);
with no complete block, take the raw text, unless the text is evidently prose or an unclosed fence,
in which case the reply is reported as holding no code (the agent is told so instead of being
graded on prose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A fence line: three or more backticks or tildes, an optional info string (language tag).
_FENCE = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*?)[ \t]*$")

#: Language tags that name each supported language (compared case-insensitively).
LANGUAGE_TAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3", "py3"}),
    "c": frozenset({"c", "h"}),
    "cpp": frozenset({"cpp", "c++", "cxx", "cc", "hpp"}),
}

_CODE_HINTS = {
    "python": re.compile(
        r"^\s*(def |class |import |from \S+ import |return\b|print\(|for .+:|while .+:|if .+:|@\w)",
        re.MULTILINE,
    ),
    "c": re.compile(r"(#include\s*[<\"]|\bint\s+main\s*\(|;\s*$|\{\s*$)", re.MULTILINE),
}
_CODE_HINTS["cpp"] = _CODE_HINTS["c"]


@dataclass(frozen=True)
class ParsedCode:
    """The outcome of reading a reply.

    Attributes:
        code: The program, or ``None`` when the reply holds no code.
        origin: ``"fenced"`` (from a complete fenced block), ``"raw"`` (the reply itself) or
            ``"none"``.
        language_tag: The fence's info string (lower-cased first word), if any.
        problem: Why no code was found (shown to the agent), or ``None``.
    """

    code: str | None
    origin: str
    language_tag: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class _Block:
    info: str
    body: str


def fenced_blocks(text: str) -> tuple[list[_Block], bool]:
    r"""Return the complete fenced blocks of ``text`` and whether a fence was left unclosed.

    A block closes at the first later line holding a fence of the same character at least as long,
    with no info string (CommonMark's rule).

    >>> blocks, unclosed = fenced_blocks("a\n```py\nx = 1\n```\n```\ny\n")
    >>> [(b.info, b.body) for b in blocks], unclosed
    ([('py', 'x = 1')], True)
    """
    blocks: list[_Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening.group("fence")
        info = opening.group("info").strip()
        for j in range(i + 1, len(lines)):
            closing = _FENCE.match(lines[j])
            if (
                closing is not None
                and closing.group("fence")[0] == fence[0]
                and len(closing.group("fence")) >= len(fence)
                and not closing.group("info").strip()
            ):
                blocks.append(_Block(info, "\n".join(lines[i + 1 : j])))
                i = j + 1
                break
        else:
            return blocks, True
    return blocks, False


def _tag(info: str) -> str | None:
    word = info.split()[0].lower() if info.split() else ""
    word = word.lstrip("{.").rstrip("}")
    return word or None


def looks_like_code(text: str, language: str) -> bool:
    r"""Guess whether unfenced text is a program in ``language`` rather than prose.

    >>> looks_like_code("def f(x):\n    return x", "python")
    True
    >>> looks_like_code("I am not sure how to solve this.", "python")
    False
    >>> looks_like_code("#include <stdio.h>\nint main(void) { return 0; }", "c")
    True
    """
    hint = _CODE_HINTS.get(language, _CODE_HINTS["python"])
    return hint.search(text) is not None


def extract_code(reply: str, language: str = "python") -> ParsedCode:
    r"""Read the program out of ``reply``.

    The last complete fenced block wins; a block tagged with another language (say ``text`` or
    ``bash``) is only used when no block has a matching or empty tag. Without any complete block,
    the raw reply is used if it looks like code.

    >>> extract_code("Fixed:\n```python\ndef f():\n    return 1\n```\nDone.").code
    'def f():\n    return 1'
    >>> extract_code("def f():\n    return 2").origin
    'raw'
    >>> extract_code("I think the answer is to use a loop.").problem
    'no code found in the reply; put the program in a fenced code block (```python ... ```)'
    >>> extract_code("```python\ndef f():\n    return 1").problem  # doctest: +ELLIPSIS
    'the code block is not closed...'
    """
    blocks, unclosed = fenced_blocks(reply)
    fence_hint = f"put the program in a fenced code block (```{language} ... ```)"
    if blocks:
        wanted = LANGUAGE_TAGS.get(language, frozenset({language}))
        matching = [b for b in blocks if _tag(b.info) is None or _tag(b.info) in wanted]
        block = (matching or blocks)[-1]
        if not block.body.strip():
            return ParsedCode(None, "none", _tag(block.info), f"the code block is empty; {fence_hint}")
        return ParsedCode(block.body, "fenced", _tag(block.info))
    if unclosed:
        return ParsedCode(
            None,
            "none",
            None,
            "the code block is not closed (a ``` fence opens but never closes); "
            "end the program with a closing ``` line",
        )
    if looks_like_code(reply, language):
        return ParsedCode(reply, "raw")
    return ParsedCode(None, "none", None, f"no code found in the reply; {fence_hint}")
