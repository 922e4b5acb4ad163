"""``in_place`` feedback: the agent's previous solution, returned with the first wrong line marked.

As in In-Place Feedback, the agent sees its own text rather than a separate critique: every line is
left exactly as it was except the first wrong one, which gets a marker and a short annotation from
the reference-guided critic (leak-filtered like every critique). The agent edits instead of restarting.
"""

from __future__ import annotations

from feedback_gym.envs.math.critic import CritiqueFeedback, describe, diagnose, explain, render, turns_left
from feedback_gym.envs.math.leaks import LeakFilter
from feedback_gym.feedback import FeedbackContext, RenderedFeedback
from feedback_gym.verdict import Verdict

MARKER = "<<< WRONG:"


def mark_line(action: str, line_index: int, note: str) -> str:
    r"""Return ``action`` with ``  <<< WRONG: note`` appended to line ``line_index``; all else unchanged.

    >>> mark_line("a = 1\nb = 3\nAnswer: 3", 1, "recheck b.")
    'a = 1\nb = 3   <<< WRONG: recheck b.\nAnswer: 3'
    """
    lines = action.split("\n")
    line_index = min(max(line_index, 0), len(lines) - 1)
    lines[line_index] = f"{lines[line_index].rstrip()}   {MARKER} {note}"
    return "\n".join(lines)


class InPlaceFeedback(CritiqueFeedback):
    """``in_place``: the previous solution with its first wrong line marked and annotated.

    When no line can be marked (a correct or unreadable answer), the critic's sentence is shown instead.
    """

    kind = "in_place"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
        """Return the annotated solution (or the critic's sentence when nothing can be marked)."""
        diagnosis = diagnose(context.task, context.action, verdict)
        if diagnosis.status in ("correct", "unreadable") or diagnosis.line_index is None:
            return self.critique(verdict, context, diagnosis)
        note = render(
            explain(diagnosis), LeakFilter(context.task, context.action) if self.leak_filter else None
        )
        marked = mark_line(context.action, diagnosis.line_index, note.text)
        return RenderedFeedback(
            f"Your previous solution, with the first wrong line marked:\n\n{marked}{turns_left(context)}",
            describe(diagnosis, note.redactions),
        )
