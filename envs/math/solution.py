"""Worked solutions and the maths task record built around them.

A worked solution is a list of :class:`Step`: the text a teacher would write, the exact value the
step produces (machine-readable, so the critic can find the first step an agent gets wrong), a
``hint`` that says what the step computes *without* its result (what the critic may say), and the
equation, when there is one. Tasks keep the steps in ``hidden["steps"]`` (never shown) and the final
answer in ``reference`` and ``hidden["answer"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from feedback_gym.envs.math.numerals import format_number, parse_number
from feedback_gym.errors import InvalidTaskError
from feedback_gym.tasks import Task

#: What every maths prompt asks for, so answers can be found and steps compared.
ANSWER_INSTRUCTIONS = (
    "Solve it step by step, one step per line, and finish with a line 'Answer: <your answer>' "
    "(or put the answer in \\boxed{...})."
)


@dataclass(frozen=True)
class Step:
    """One step of a worked solution.

    Attributes:
        text: The step as written in the solution (holds the value).
        value: The exact value this step produces.
        hint: What the step computes, phrased without its value (safe to show the agent).
        equation: The equation the step writes down, if any.
    """

    text: str
    value: Fraction
    hint: str = ""
    equation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the value as an exact string)."""
        data: dict[str, Any] = {"text": self.text, "value": format_number(self.value), "hint": self.hint}
        if self.equation:
            data["equation"] = self.equation
        return data

    @classmethod
    def from_expression(cls, hint: str, expression: str) -> Step:
        """A step whose value is computed from an arithmetic ``expression`` (``"12 * 24"``)."""
        return _from_expression(hint, expression)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        """Read a step from ``{"text", "value", "hint"?}`` or ``{"hint", "expr"}`` (value computed)."""
        if not isinstance(data, Mapping) or ("text" not in data and "expr" not in data):
            raise InvalidTaskError(f"a worked-solution step needs 'text' (and 'value'); got {data!r}")
        if "expr" in data and data.get("value") is None:
            return cls.from_expression(str(data.get("hint", "")), str(data["expr"]))
        raw = data.get("value")
        value = Fraction(raw) if isinstance(raw, int) else parse_number(str(raw)) if raw is not None else None
        if value is None:
            value = _last_number(str(data["text"]))
        if value is None:
            raise InvalidTaskError(f"step {data['text']!r} has no numeric 'value'")
        return cls(str(data["text"]), value, str(data.get("hint", "")), data.get("equation"))


def _from_expression(hint: str, expression: str) -> Step:
    from feedback_gym.envs.math.arithmetic import evaluate_arithmetic

    value = evaluate_arithmetic(expression)
    if value is None:
        raise InvalidTaskError(f"step expression {expression!r} is not plain arithmetic")
    return step(hint or "result", expression, value)


def _last_number(text: str) -> Fraction | None:
    from feedback_gym.envs.math.numerals import find_numbers

    found = find_numbers(text)
    return found[-1].value if found else None


def step(hint: str, expression: str, value: Fraction | int, *, equation: str | None = None) -> Step:
    """Build a step whose text is ``"<Hint>: <expression> = <value>"``.

    >>> step("Pencils bought", "4 * 12", 48).text
    'Pencils bought: 4 * 12 = 48'
    """
    value = Fraction(value)
    text = f"{hint[0].upper()}{hint[1:]}: {expression} = {format_number(value)}"
    return Step(text, value, hint[0].lower() + hint[1:], equation)


def worked_text(steps: Sequence[Step], answer: str) -> str:
    """The full worked solution: one line per step, then the answer line."""
    lines = [s.text for s in steps]
    lines.append(f"Answer: \\boxed{{{answer}}}")
    return "\n".join(lines)


def steps_of(task: Task) -> list[Step]:
    """The worked-solution steps hidden in ``task`` (empty when it has none)."""
    raw = task.hidden.get("steps") or ()
    return [Step.from_dict(s) for s in raw]


def math_task(
    task_id: str,
    question: str,
    answer: str,
    steps: Iterable[Step | Mapping[str, Any]] = (),
    *,
    source: str,
    metadata: Mapping[str, Any] | None = None,
    extra_hidden: Mapping[str, Any] | None = None,
    instructions: str = ANSWER_INSTRUCTIONS,
) -> Task:
    """Build a maths :class:`Task`: the question plus answer instructions, hidden answer and steps."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidTaskError(f"task {task_id!r}: the question must be a non-empty string")
    if answer is None or not str(answer).strip():
        raise InvalidTaskError(f"task {task_id!r}: the answer must be a non-empty string")
    parsed = [s if isinstance(s, Step) else Step.from_dict(s) for s in steps]
    return Task(
        id=task_id,
        prompt=f"{question.strip()}\n\n{instructions}",
        reference=str(answer).strip(),
        hidden={
            "answer": str(answer).strip(),
            "steps": [s.to_dict() for s in parsed],
            **dict(extra_hidden or {}),
        },
        metadata={"source": source, "worked_solution": bool(parsed), **dict(metadata or {})},
    )
