"""A small deterministic environment a tiny random model can learn within a few dozen GRPO steps.

"Reply with digits only": the score of a reply is the share of its non-blank characters that are
digits, and the reward (``success="fraction"``) is the best share reached in the episode. A random
byte-level model starts near 0.1; a policy that learns to emit digit tokens approaches 1.0. Two
turns with ``score`` feedback put environment tokens inside every transcript, so the masking of
feedback is exercised by every update.
"""

from __future__ import annotations

from typing import Any

from feedback_gym.env import FeedbackEnv
from feedback_gym.tasks import GeneratedTaskSource, Task
from feedback_gym.verdict import CheckResult, Verdict


def digit_share(text: str) -> float:
    """The share of non-blank characters that are ASCII digits.

    >>> digit_share("12 a4"), digit_share("   ")
    (0.75, 0.0)
    """
    chars = [c for c in text if not c.isspace()]
    return sum(c in "0123456789" for c in chars) / len(chars) if chars else 0.0


class DigitsVerifier:
    """Scores the digit share; solved when every character is a digit."""

    def verify(self, task: Task, action: str) -> Verdict:
        share = digit_share(action)
        solved = share == 1.0
        return Verdict(
            solved,
            1.0 if solved else share,
            checks=(CheckResult("digits only", solved, detail=f"{share:.0%}"),),
        )

    def reference_action(self, task: Task) -> str:
        return str(task.reference)


def _task(rng: Any, index: int) -> Task:
    number = rng.randint(0, 999)
    return Task(f"digits/0/{index}", f"Reply with digits only, e.g. {number}.", reference=str(number))


class DigitsEnv(FeedbackEnv):
    """Reply with digits only (partial credit for the share of digits)."""

    def __init__(self, max_turns: int = 2, **kwargs: Any) -> None:
        kwargs.setdefault("feedback", "score")
        kwargs.setdefault("reward", "fraction")
        super().__init__(
            GeneratedTaskSource("digits", _task), DigitsVerifier(), max_turns=max_turns, **kwargs
        )
