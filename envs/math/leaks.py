"""The leak filter: no critique may state the final answer or a reference value that gives it away.

LANPO warns that language feedback with reference access leaks answers; Feedback Friction's targeted
critique is useful exactly because it stops short of them. Every critique feedback-gym shows (the
reference-guided critic's, the in-place annotation, and a model critic's) passes through
:class:`LeakFilter`, which redacts:

- the final answer, as a number (also its negation and its number-word form) or as a string;
- every value of the worked solution that the agent has not already written itself and that is not
  in the question (what it already has cannot leak; what it lacks is what the critique must not give).

Redaction replaces the token with ``[...]`` and counts it, so tests and ``info`` can see that it fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from feedback_gym.envs.math.equivalence import normalize_answer, split_structure
from feedback_gym.envs.math.numerals import find_number_words, find_numbers, parse_number
from feedback_gym.envs.math.solution import steps_of
from feedback_gym.tasks import Task

REDACTED = "[...]"
#: Characters of the agent's reply scanned for values it already has (beyond: treated as absent).
MAX_ACTION_SCAN = 20_000


@dataclass(frozen=True)
class Scrubbed:
    """A filtered text and how many tokens were redacted from it."""

    text: str
    redactions: int


class LeakFilter:
    """Redacts answer-revealing values from a critique of ``action`` on ``task``.

    >>> from feedback_gym.envs.math.solution import math_task, step
    >>> task = math_task("t", "What is 6 * 7 + 1?", "43", [step("the product", "6 * 7", 42),
    ...                  step("the sum", "42 + 1", 43)], source="demo")
    >>> LeakFilter(task, "6 * 7 = 41").scrub("You need 42 there, giving forty-three.")
    Scrubbed(text='You need [...] there, giving [...].', redactions=2)
    >>> LeakFilter(task, "6 * 7 = 42").scrub("Your 42 is right.")
    Scrubbed(text='Your 42 is right.', redactions=0)
    """

    def __init__(self, task: Task, action: str = "") -> None:
        self.answer_numbers: set[Fraction] = set()
        self.answer_strings: list[str] = []
        answer = str(task.reference if task.reference is not None else task.hidden.get("answer", ""))
        normalized = normalize_answer(answer)
        _, items = split_structure(normalized) if normalized else ("scalar", [])
        for item in [normalized, *items]:
            value = parse_number(item)
            if value is not None:
                self.answer_numbers.update({value, -value})
            elif len(item.replace(" ", "")) >= 2:
                self.answer_strings.append(item.replace(" ", ""))
        given = {found.value for found in find_numbers(task.prompt)} | {
            found.value for found in find_numbers((action or "")[:MAX_ACTION_SCAN])
        }
        self.step_numbers: set[Fraction] = set()
        try:
            steps = steps_of(task)
        except Exception:  # noqa: BLE001 - a malformed worked solution must not break the filter
            steps = []
        for reference_step in steps:
            if reference_step.value not in given:
                self.step_numbers.add(reference_step.value)

    def forbidden(self, value: Fraction) -> bool:
        """Whether stating ``value`` would leak the answer or a missing reference value."""
        return value in self.answer_numbers or value in self.step_numbers

    def find(self, text: str) -> list[tuple[int, int]]:
        """The character spans of ``text`` that leak, in order."""
        spans = [(m.start, m.end) for m in find_numbers(text) if self.forbidden(m.value)]
        spans += [(m.start, m.end) for m in find_number_words(text) if self.forbidden(m.value)]
        if self.answer_strings:
            squeezed, index_map = _squeeze(text)
            for needle in self.answer_strings:
                for match in re.finditer(re.escape(needle), squeezed):
                    spans.append((index_map[match.start()], index_map[match.end() - 1] + 1))
        return _merge(spans)

    def scrub(self, text: str) -> Scrubbed:
        """Replace every leaking span with ``[...]``."""
        spans = self.find(text)
        if not spans:
            return Scrubbed(text, 0)
        out, last = [], 0
        for start, end in spans:
            out.append(text[last:start])
            out.append(REDACTED)
            last = end
        out.append(text[last:])
        return Scrubbed("".join(out), len(spans))


def _squeeze(text: str) -> tuple[str, list[int]]:
    kept = [(i, c) for i, c in enumerate(text) if not c.isspace()]
    return "".join(c for _, c in kept), [i for i, _ in kept]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
