r"""Finding the final answer in a free-form solution.

Models state answers in many ways; the extractor tries them from the most explicit to the least:
``\boxed{...}`` (the MATH convention), an ``<answer>`` tag, a GSM8K ``#### 42`` line, "Answer: ..."
or "the (final) answer is ...", and finally the last number in the text. The method that matched is
reported, so a format penalty or an audit can tell a boxed answer from a guessed last number. The
marks every family reads (tags, boxes) come from :mod:`feedback_gym.answers`; the prose forms ("the
answer is ...") and the last number are the maths family's own fallbacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedback_gym.answers import boxed_contents, tagged_answers
from feedback_gym.envs.math.numerals import find_numbers

#: The longest answer string kept; anything longer is cut before any parsing happens.
MAX_ANSWER_CHARS = 500

_HASHES = re.compile(r"^\s*####\s*(.+?)\s*$", re.MULTILINE)
_STATED = re.compile(
    r"(?:final\s+answer\s*(?:is|:|=)|the\s+answer\s+is|\banswer\s*[:=])\s*[:\-]?\s*(.+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ExtractedAnswer:
    """The answer text found in a solution and how it was found.

    ``method`` is one of ``boxed``, ``tag``, ``hashes``, ``stated`` or ``last_number``.
    """

    text: str
    method: str


def _clean(answer: str) -> str:
    answer = answer[: 4 * MAX_ANSWER_CHARS]
    previous = None
    while previous != answer:
        previous = answer
        answer = answer.strip().strip("*").strip().rstrip(".").rstrip()
        answer = re.sub(r"^\$+|\$+$", "", answer)
        answer = re.sub(r"^\\\(|\\\)$|^\\\[|\\\]$", "", answer)
    return answer[:MAX_ANSWER_CHARS]


def extract_answer(text: str) -> ExtractedAnswer | None:
    r"""Find the final answer in ``text``; ``None`` when there is none at all.

    >>> extract_answer(r"... so the total is $\boxed{42}$.")
    ExtractedAnswer(text='42', method='boxed')
    >>> extract_answer("Natalia sold 72 clips.\n#### 72")
    ExtractedAnswer(text='72', method='hashes')
    >>> extract_answer("Therefore, the answer is 3/4.")
    ExtractedAnswer(text='3/4', method='stated')
    >>> extract_answer("I got 12 then 15 apples")
    ExtractedAnswer(text='15', method='last_number')
    >>> extract_answer("no idea") is None
    True
    """
    boxed = [b for b in boxed_contents(text) if b]
    if boxed:
        return ExtractedAnswer(_clean(boxed[-1]), "boxed")
    tags = [t for t in tagged_answers(text) if t]
    if tags:
        return ExtractedAnswer(_clean(tags[-1]), "tag")
    hashes = _HASHES.findall(text)
    if hashes:
        return ExtractedAnswer(_clean(hashes[-1]), "hashes")
    stated = [s for s in _STATED.findall(text) if _clean(s)]
    if stated:
        return ExtractedAnswer(_clean(stated[-1]), "stated")
    numbers = find_numbers(text[-20_000:])
    if numbers:
        return ExtractedAnswer(numbers[-1].text.strip(), "last_number")
    return None
