"""The reference-guided critic: the first step that departs from the worked solution, in words.

It finds the first step of the agent's work that departs from the worked solution, and says what
is wrong there without giving the answer away.

Step-level critique (AutoMathCritique, DeepCritic) with reference access (Feedback Friction), kept
deterministic and offline: the agent's reply is read line by line, the numbers in it are matched in
order against the values of the reference steps, and the first reference step whose value never
appears marks the departure. The line where the agent's numbers stop agreeing is quoted; the step's
``hint`` says what it should compute; an arithmetic slip inside the line (``197 - 63 = 135``) is named
as such. The words come from fixed templates and pass through the :class:`LeakFilter`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from feedback_gym.envs.math.arithmetic import evaluate_arithmetic
from feedback_gym.envs.math.equivalence import numbers_close
from feedback_gym.envs.math.leaks import LeakFilter, Scrubbed
from feedback_gym.envs.math.numerals import find_numbers, parse_number
from feedback_gym.envs.math.solution import Step, steps_of
from feedback_gym.feedback import FeedbackContext, RenderedFeedback
from feedback_gym.tasks import Task
from feedback_gym.verdict import Verdict

#: Lines and characters per line of a reply the critic reads (a longer reply is not a worked solution).
MAX_LINES = 400
MAX_LINE_CHARS = 2000
#: Longest quoted line in a critique.
MAX_QUOTE_CHARS = 200
_ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
)


def ordinal(index: int) -> str:
    """``0 -> "first"``; words, so that the leak filter never mistakes a position for a value.

    >>> ordinal(0), ordinal(2), ordinal(25)
    ('first', 'third', 'line no. 26')
    """
    return _ORDINALS[index] if index < len(_ORDINALS) else f"line no. {index + 1}"


@dataclass(frozen=True)
class Diagnosis:
    """Where the agent's solution departs from the reference.

    Attributes:
        status: ``correct``, ``unreadable`` (no answer found), ``no_work`` (no steps shown),
            ``step`` (a step departs), ``final`` (the steps agree but the stated answer does not),
            or ``no_reference`` (the task has no worked solution; only the answer was checked).
        step_index: The index of the first departing reference step (``step``/``no_work``).
        line_index: The index (into ``action.splitlines()``) of the line to point at.
        slip: A sentence naming an arithmetic slip in that line, if there is one.
    """

    status: str
    step_index: int | None = None
    line_index: int | None = None
    slip: str | None = None
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- arithmetic slips

_EXPRESSION_TAIL = re.compile(r"([-\d(](?:\bof\b|[\d\s.+\-*/×÷()x%])*?)\s*=\s*(-?\d[\d,]*(?:\.\d+)?)\s*$")


def arithmetic_slip(line: str) -> str | None:
    """Find a wrong calculation ``a op b = c`` at the end of ``line`` and return it as written.

    >>> arithmetic_slip("Left: 197 - 63 = 135")
    '197 - 63 = 135'
    >>> arithmetic_slip("Left: 197 - 63 = 134") is None
    True
    """
    match = _EXPRESSION_TAIL.search(line.rstrip(" .").replace("$", ""))
    if not match:
        return None
    expression, stated = match.group(1).strip(), match.group(2).replace(",", "")
    if not re.search(r"\d\s*(?:[-+*/×÷x]|%?\s*of)\s*[-(\d]", expression):
        return None
    value = evaluate_arithmetic(expression)
    if value is None or numbers_close(value, Fraction(stated)):
        return None
    return f"{expression} = {stated}"


# ---------------------------------------------------------------------------- diagnosis


def diagnose(task: Task, action: str, verdict: Verdict) -> Diagnosis:
    """Locate the first departure of ``action`` from the task's worked solution."""
    if verdict.solved:
        return Diagnosis("correct")
    if verdict.parsed is None and not verdict.checks:
        return Diagnosis("unreadable")
    lines = action.splitlines()
    numbers = [
        (i, value)
        for i, line in enumerate(lines[:MAX_LINES])
        for value in result_numbers(line[:MAX_LINE_CHARS])
    ]
    answer_line = _answer_line(lines)
    steps = steps_of(task)
    if not steps:
        slip_line = next((i for i, line in enumerate(lines) if arithmetic_slip(line)), None)
        return Diagnosis(
            "no_reference",
            line_index=slip_line if slip_line is not None else answer_line,
            slip=arithmetic_slip(lines[slip_line]) if slip_line is not None else None,
        )
    given = {m.value for m in find_numbers(task.prompt)}
    stated = parse_number(verdict.parsed or "")
    work = [(i, v) for i, v in numbers if i != answer_line or len(lines) == 1]
    own = [(i, v) for i, v in work if v not in given]
    restated = all(v == stated for _, v in own) and len({i for i, _ in own}) == 1
    if not own or (restated and "=" not in lines[own[0][0]]):
        return Diagnosis("no_work", step_index=0, line_index=answer_line, hint=steps[0].hint)
    position = 0
    matched: list[int] = []
    skipped: list[tuple[int, int]] = []  # (step, position) of steps merged into later ones
    for k, reference in enumerate(steps):
        found = _find_value(work, position, reference.value)
        if found is None:
            later = [_find_value(work, position, s.value) for s in steps[k + 1 :]]
            if any(f is not None for f in later):
                skipped.append((k, position))  # perhaps merged into a later step the agent got right
                continue
            line_index = work[position][0] if position < len(work) else answer_line
            return _departure(k, reference, lines, line_index, matched)
        matched.append(k)
        position = found + 1
    if skipped:  # every later value agrees, yet the answer is wrong: the first skipped step is suspect
        k, at = skipped[0]
        line_index = work[at][0] if at < len(work) else answer_line
        return _departure(k, steps[k], lines, line_index, matched)
    return Diagnosis("final", line_index=answer_line, details={"matched_steps": matched})


def result_numbers(line: str) -> list[Fraction]:
    """The numbers a line *concludes*: those right after an ``=`` sign, and the line's last number.

    Operands are left out, so ``40 - 20 = 20`` yields one 20, and a step's value is matched only
    where the agent states it as a result.

    >>> [str(v) for v in result_numbers("Spent: 50% of 40 = 20, left: 40 - 20 = 20")]
    ['20', '20']
    >>> [str(v) for v in result_numbers("She has 3 bags of 5, so 15 in all")]
    ['15']
    """
    found = find_numbers(line)
    if not found:
        return []
    results = [m for m in found if line[max(0, m.start - 16) : m.start].rstrip(" \t$").endswith("=")]
    if found[-1] not in results:
        results.append(found[-1])
    return [m.value for m in results]


def _find_value(work: list[tuple[int, Fraction]], start: int, value: Fraction) -> int | None:
    for index in range(start, len(work)):
        if numbers_close(work[index][1], value):
            return index
    return None


def _answer_line(lines: list[str]) -> int:
    for index in range(len(lines) - 1, -1, -1):
        if re.search(r"answer|\\boxed|####", lines[index], re.IGNORECASE):
            return index
    return max(0, max((i for i, line in enumerate(lines) if line.strip()), default=0))


def _departure(k: int, reference: Step, lines: list[str], line_index: int, matched: list[int]) -> Diagnosis:
    slip = arithmetic_slip(lines[line_index]) if 0 <= line_index < len(lines) else None
    return Diagnosis(
        "step",
        step_index=k,
        line_index=line_index,
        slip=slip,
        hint=reference.hint,
        details={"matched_steps": matched},
    )


# ---------------------------------------------------------------------------- wording


def _quote(line: str) -> str:
    line = line.strip()
    return line if len(line) <= MAX_QUOTE_CHARS else line[: MAX_QUOTE_CHARS - 3] + "..."


AGENT_OPEN, AGENT_CLOSE = "\x02", "\x03"


def agent_text(text: str) -> str:
    """Mark ``text`` as the agent's own words, which the leak filter leaves as they are."""
    return f"{AGENT_OPEN}{text.replace(AGENT_OPEN, '').replace(AGENT_CLOSE, '')}{AGENT_CLOSE}"


def render(text: str, leak_filter: LeakFilter | None) -> Scrubbed:
    """Drop the agent-text marks, scrubbing only what the critic itself wrote.

    Quoting the agent's own line cannot reveal anything it does not already have; everything the
    critic adds (hints, explanations) is filtered.
    """
    pieces = re.split(f"({AGENT_OPEN}.*?{AGENT_CLOSE})", text, flags=re.DOTALL)
    out, redactions = [], 0
    for piece in pieces:
        if piece.startswith(AGENT_OPEN) and piece.endswith(AGENT_CLOSE):
            out.append(piece[1:-1])
        elif leak_filter is not None and piece:
            scrubbed = leak_filter.scrub(piece)
            out.append(scrubbed.text)
            redactions += scrubbed.redactions
        else:
            out.append(piece)
    return Scrubbed("".join(out), redactions)


def explain(diagnosis: Diagnosis) -> str:
    """What is wrong at the diagnosed place and what to reconsider (marked text; see :func:`render`)."""
    if diagnosis.status == "step":
        parts = []
        if diagnosis.hint:
            parts.append(f"This step should find {diagnosis.hint}.")
        if diagnosis.slip:
            parts.append(
                f"Here the calculation {agent_text(diagnosis.slip)} is not right: redo that arithmetic."
            )
        else:
            parts.append(
                "The value you reach here does not follow from the problem and your earlier "
                "correct steps: reconsider which quantities this step combines and how."
            )
        return " ".join(parts)
    if diagnosis.status == "no_work":
        start = f" Start by finding {diagnosis.hint}." if diagnosis.hint else ""
        return "The answer is not correct and no working is shown to check." + start
    if diagnosis.status == "final":
        return (
            "Your intermediate results agree with a correct solution, but the final answer you state "
            "does not follow from them. Re-read what the question asks for and check your last step."
        )
    if diagnosis.slip:
        slip = agent_text(diagnosis.slip)
        return f"The final answer is not correct. In your working, the calculation {slip} is wrong."
    return (
        "The final answer is not correct. Re-check each step: the quantities you combine, the "
        "operations, and that the answer is the quantity the question asks for."
    )


def critique(
    task: Task, action: str, verdict: Verdict, diagnosis: Diagnosis | None = None, *, leak_filter: bool = True
) -> Scrubbed:
    """The critique of ``action``: its text (leak-filtered unless ``leak_filter=False``) and redactions."""
    diagnosis = diagnosis or diagnose(task, action, verdict)
    if diagnosis.status == "correct":
        return Scrubbed("Correct.", 0)
    if diagnosis.status == "unreadable":
        message = (verdict.message or "no final answer was found").rstrip(".")
        hint = "" if "Answer:" in message else "; end with a line 'Answer: <your answer>'"
        return Scrubbed(f"{message[0].upper()}{message[1:]}{hint}.", 0)
    lines = action.splitlines()
    text = explain(diagnosis)
    if diagnosis.status == "step" and diagnosis.line_index is not None and lines:
        agreed = (
            " Up to that point your work agrees with the reference solution." if diagnosis.step_index else ""
        )
        quoted = agent_text(_quote(lines[diagnosis.line_index]))
        text = (
            f"Your solution goes wrong in its {ordinal(diagnosis.line_index)} line:\n> {quoted}\n"
            f"{text}{agreed} Then redo the steps that depend on it."
        )
    return render(text, LeakFilter(task, action) if leak_filter else None)


def turns_left(context: FeedbackContext) -> str:
    """The "(n attempts left)" line appended to feedback on a wrong attempt."""
    left = context.max_turns - context.turn
    return "" if left <= 0 else f"\n({left} attempt{'s' if left != 1 else ''} left)"


class CritiqueFeedback:
    """``critique``: step-localised verbal critique from the reference-guided critic, leak-filtered.

    The details (status, step, line, redactions: what the critic found) go to
    ``info["feedback_details"]``.
    """

    kind = "critique"
    critic = "reference"
    families = ("math",)

    def __init__(self, leak_filter: bool = True) -> None:
        self.leak_filter = leak_filter

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
        """Return the critique of ``context.action`` and what the critic found."""
        return self.critique(verdict, context, diagnose(context.task, context.action, verdict))

    def critique(self, verdict: Verdict, context: FeedbackContext, diagnosis: Diagnosis) -> RenderedFeedback:
        """The critic's sentence for an already made ``diagnosis`` (shared with ``in_place``)."""
        result = critique(context.task, context.action, verdict, diagnosis, leak_filter=self.leak_filter)
        text = result.text if verdict.solved else result.text + turns_left(context)
        return RenderedFeedback(text, describe(diagnosis, result.redactions))


def describe(diagnosis: Diagnosis, redactions: int) -> dict[str, Any]:
    """A JSON-friendly summary of a diagnosis (for ``info``; holds no reference values)."""
    return {
        "critic": "reference",
        "status": diagnosis.status,
        "step_index": diagnosis.step_index,
        "line_index": diagnosis.line_index,
        "arithmetic_slip": diagnosis.slip is not None,
        "redactions": redactions,
    }
