"""How a tool-use step is shown: tool output verbatim, answers through the chosen feedback mode.

A tool's output is the environment's answer to a request, not a judgement of the agent, so it is
shown in every feedback mode (even ``none``), as is the explanation of a malformed call. The chosen
mode (``binary``, ``unary``, ``tests``, ...) only governs what the agent learns about a *submitted
answer*, exactly as in the other families; MINT separates tool observations from feedback the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from feedback_gym.envs.tools.rewards import TOOL_BUDGET, is_tool_step
from feedback_gym.errors import ConfigError
from feedback_gym.feedback import (
    FeedbackContext,
    FeedbackMode,
    RenderedFeedback,
    critic_name,
    render_feedback,
)
from feedback_gym.verdict import INVALID_ACTION, Verdict


def is_answer(verdict: Verdict) -> bool:
    """Whether the step submitted an answer (not a tool call, not an unreadable reply)."""
    return "answer" in verdict.evidence


def submissions_left(max_submissions: int | None, verdicts: Sequence[Verdict]) -> int | None:
    """Answer attempts left after ``verdicts`` (``None``: unlimited).

    >>> answer = Verdict(False, 0.0, evidence={"answer": "3"})
    >>> submissions_left(2, [answer]), submissions_left(None, [answer])
    (1, None)
    """
    if max_submissions is None:
        return None
    return max(0, max_submissions - sum(1 for v in verdicts if is_answer(v)))


def last_answer_spent(max_submissions: int | None, verdicts: Sequence[Verdict]) -> bool:
    """Whether the newest step submitted the last allowed answer: the rule that ends the episode.

    >>> wrong = Verdict(False, 0.0, evidence={"answer": "3"})
    >>> last_answer_spent(2, [wrong]), last_answer_spent(2, [wrong, wrong]), last_answer_spent(None, [wrong])
    (False, True, False)
    """
    return bool(verdicts) and is_answer(verdicts[-1]) and submissions_left(max_submissions, verdicts) == 0


def count_steps(context: FeedbackContext, verdict: Verdict) -> tuple[int, int]:
    """(tool calls that reached a tool, answers submitted), this step included."""
    verdicts = [a.verdict for a in context.history] + [verdict]
    calls = sum(1 for v in verdicts if is_tool_step(v) and v.error_kind != TOOL_BUDGET)
    answers = sum(1 for v in verdicts if is_answer(v))
    return calls, answers


class ToolFeedback:
    """Wraps a feedback mode: renders tool results and call errors itself, answers via the mode."""

    def __init__(
        self, inner: FeedbackMode, max_tool_calls: int, max_submissions: int | None, *,
        critique_every_reply: bool = False,
    ) -> None:
        if critique_every_reply and not callable(getattr(inner, "critique", None)):
            raise ConfigError(
                "critique_every_reply needs a critic that can comment on any reply: feedback='model' "
                f"(with feedback_options={{'critic': SPEC}}); got feedback={inner.kind!r}"
            )
        self.inner = inner
        self.critique_every_reply = critique_every_reply
        self.kind = inner.kind
        self.max_tool_calls = max_tool_calls
        self.max_submissions = max_submissions

    @property
    def critic(self) -> str | None:
        """The critic of the mode that judges answers, if it has one."""
        return critic_name(self.inner)

    def budget(self, context: FeedbackContext, verdict: Verdict) -> str:
        """A one-line account of what is left: tool calls, answer attempts, replies."""
        calls, answers = count_steps(context, verdict)
        parts = [_count(self.max_tool_calls - calls, "tool call")]
        if self.max_submissions is not None:
            parts.append(_count(self.max_submissions - answers, "answer attempt"))
        parts.append(_count(context.max_turns - context.turn, "reply", "replies"))
        return f"(left: {', '.join(parts)})"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str | RenderedFeedback:
        """Render the step (an answer's feedback keeps the details its mode reported)."""
        evidence = verdict.evidence
        left = self.budget(context, verdict)
        if "tool_output" in evidence:
            status = "result" if evidence.get("tool_ok") else "error"
            shown = f"[{evidence.get('tool', 'tool')} {status}]\n{evidence['tool_output']}"
            if self.critique_every_reply:  # MINT: the simulated user comments on every turn
                critique, details = self.inner.critique(verdict, context)  # type: ignore[attr-defined]
                return RenderedFeedback(f"{shown}\n[feedback]\n{critique}\n{left}", details)
            return f"{shown}\n{left}"
        if verdict.error_kind == TOOL_BUDGET:
            return f"{verdict.message}\n{left}"
        if verdict.error_kind == INVALID_ACTION and "answer" not in evidence:
            return f"Your reply is not a valid tool call or answer: {verdict.message}\n{left}"
        # The mode judges answers, so it sees only the earlier answers (not the tool calls), and the
        # budget line below says what is left (its own "(N attempts left)" would repeat it).
        answers_only = tuple(a for a in context.history if is_answer(a.verdict))
        judged = render_feedback(
            self.inner, verdict, dataclasses.replace(context, max_turns=context.turn, history=answers_only)
        )
        if verdict.solved:
            return judged
        verdicts = [a.verdict for a in context.history] + [verdict]
        if last_answer_spent(self.max_submissions, verdicts):
            return RenderedFeedback(f"{judged.text}\nNo answer attempts are left; the episode is over.",
                                    judged.details)
        return RenderedFeedback(f"{judged.text}\n{left}", judged.details)


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """``"1 tool call"``, ``"3 tool calls"`` (never negative).

    >>> _count(1, "reply", "replies"), _count(0, "tool call")
    ('1 reply', '0 tool calls')
    """
    number = max(0, number)
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
