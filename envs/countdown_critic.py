"""What a critic model reads on a Countdown task, and the filter its critique passes through.

The critic sees the numbers and target, one known solution (privately), the agent's expression and
which rule it broke. Its reply may not hand over a solution: the known solution, and any arithmetic
expression in the reply that reaches the target, are redacted (``[...]``).
"""

from __future__ import annotations

import re

from feedback_gym.envs.countdown import ExpressionError, evaluate
from feedback_gym.envs.model_critic import REDACTED, EvidenceBrief, Scrub, SecretTextFilter, chain
from feedback_gym.feedback import FullFeedback
from feedback_gym.tasks import Task

PROMPT_VERSION = "countdown-critic-v1"

SYSTEM_PROMPT = (
    "You are a puzzle coach. The student must combine the given numbers with + - * / (each at most "
    "once) to reach the target. Say what is wrong with the student's expression and suggest a "
    "direction to explore. Rules: never write a complete expression that reaches the target; never "
    "copy the reference solution. Write at most three sentences."
)

#: A run of characters that may form an arithmetic expression (at least one operator inside).
_EXPRESSION = re.compile(r"[\d(][\d\s+\-*/()x×÷]*[\d)]")


def solution_filter(target: int) -> Scrub:
    """Redact every arithmetic expression that evaluates to ``target``.

    >>> solution_filter(24)("Try 4 * 6, or 3 + 5 first.")
    ('Try [...], or 3 + 5 first.', 1)
    """

    def scrub(text: str) -> tuple[str, int]:
        out, last, count = [], 0, 0
        for match in _EXPRESSION.finditer(text):
            candidate = match.group(0)
            if not re.search(r"\d\s*[-+*/x×÷]\s*[\d(]", candidate):
                continue
            try:
                value, _ = evaluate(candidate)
            except ExpressionError:
                continue
            if value == target:
                out += [text[last : match.start()], REDACTED]
                last, count = match.end(), count + 1
        out.append(text[last:])
        return "".join(out), count

    return scrub


class CountdownBrief(EvidenceBrief):
    """The Countdown family's critic brief: the evidence is the ``full`` rule-by-rule feedback."""

    family = "countdown"
    prompt_version = PROMPT_VERSION
    system_prompt = SYSTEM_PROMPT
    evidence_title = "Check results"

    def __init__(self) -> None:
        super().__init__(FullFeedback())

    def reference(self, task: Task) -> tuple[str, str]:
        """One known solution expression."""
        return "A known solution", str(task.reference or "")

    def leak_filter(self, task: Task, action: str) -> Scrub:
        """Redact the known solution and any expression that reaches the target."""
        target = int(task.hidden.get("target", 0))
        return chain(SecretTextFilter([str(task.reference or "")], min_chars=3), solution_filter(target))


COUNTDOWN_BRIEF = CountdownBrief()
