"""Code-specific rendering: a program that does not compile is reported once, not once per test.

The generic ``tests`` and ``full`` modes list the first failing checks. When the program does not
compile (C/C++) or parse (Python) no test ran, so listing "test 1: not run", "test 2: not run" ...
only buries the compiler's message; these subclasses say it once (``full`` adds the diagnostics with
line numbers). Every other verdict renders exactly as in the generic modes.
"""

from __future__ import annotations

from feedback_gym.feedback import FeedbackContext, FullFeedback, TestsFeedback
from feedback_gym.verdict import COMPILE_ERROR, Verdict


def _not_compiled(feedback: TestsFeedback, verdict: Verdict, context: FeedbackContext) -> str:
    parts = [f"Incorrect: {verdict.message or 'the program does not compile'}; none of the "
             f"{len(verdict.checks)} tests ran."]
    parts.extend(feedback.extra(verdict))
    left = context.max_turns - context.turn
    if left > 0:
        parts.append(f"({left} attempt{'s' if left != 1 else ''} left)")
    return "\n".join(parts)


class CodeTestsFeedback(TestsFeedback):
    """``tests`` for code: the first failing tests, or one line when the program does not compile."""

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Render the verdict."""
        if verdict.error_kind == COMPILE_ERROR and not verdict.solved:
            return _not_compiled(self, verdict, context)
        return super().__call__(verdict, context)


class CodeFullFeedback(FullFeedback):
    """``full`` for code: as ``tests``, plus tracebacks, stderr and compiler diagnostics."""

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Render the verdict."""
        if verdict.error_kind == COMPILE_ERROR and not verdict.solved:
            return _not_compiled(self, verdict, context)
        return super().__call__(verdict, context)
