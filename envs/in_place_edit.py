"""``in_place`` edit feedback for every family: the critic corrects the answer, the agent continues it.

In-Place Feedback (the paper) has the user edit the model's previous response where it goes wrong;
the model then continues from the edited text instead of reading a separate critique, which fixes the
wrong part precisely and leaves the right parts alone, at a fraction of the tokens. Here a critic model
(any policy spec, as for ``model`` feedback, with the family's brief and the reference given privately)
is asked to copy the agent's answer up to its first mistake and correct that mistake. What it wrote is
then cut to a strict edit: the agent's own lines up to the first changed line, and the one corrected
line, nothing after it, so the critic can never hand over a finished answer; that line also passes the
family's edit filter (the final answer, a Countdown solution).

The edited text is the *assistant prefix* of the next turn: the observation shows it, and
``details["assistant_prefix"]`` (``info["assistant_prefix"]``) carries it, so a policy continues that
text as its own reply (the runner and the GRPO rollout do: token-in/token-out, the prefix's tokens
are context, not the policy's samples) and the env judges prefix + continuation.
"""

from __future__ import annotations

from typing import Any

from feedback_gym.envs.model_critic import CriticBrief, ModelCritiqueFeedback, Scrub, turns_left_suffix
from feedback_gym.feedback import FeedbackContext, RenderedFeedback
from feedback_gym.verdict import Verdict

PROMPT_VERSION = "in-place-edit-v1"

EDIT_SYSTEM_PROMPT = (
    "You correct a student's answer in place. Copy the student's answer exactly, line by line, up to "
    "the first line that is wrong; write that line corrected; then stop. Do not write anything after "
    "the corrected line, do not finish the answer, do not explain."
)

EDIT_NOTE = "Your previous answer was corrected in place at its first mistake. Continue it from here:"


def strict_edit(original: str, edited: str) -> tuple[str, int | None]:
    r"""Cut a critic's edit to the agent's lines before the first change plus the one changed line.

    Returns the prefix and the index of the changed line (``None`` when the critic changed nothing).
    The prefix ends with a newline, so the agent continues on the next line.

    >>> strict_edit("a = 1\nb = 3\nc = b + 1\nAnswer: 4", "a = 1\nb = 2\nc = 3\nAnswer: 3")
    ('a = 1\nb = 2\n', 1)
    >>> strict_edit("x\ny", "x\ny")
    ('', None)
    """
    before = original.split("\n")
    kept = [i for i, line in enumerate(before) if line.strip()]  # blank lines do not count as edits
    after = [line for line in edited.split("\n") if line.strip()]
    for position, line in enumerate(after):
        if position >= len(kept) or line.rstrip() != before[kept[position]].rstrip():
            cut = kept[position] if position < len(kept) else len(before)
            return "\n".join([*before[:cut], line]) + "\n", cut
    return "", None


class InPlaceEditFeedback(ModelCritiqueFeedback):
    """``in_place``: a critic model's in-place correction, continued by the agent (see the module).

    Takes the arguments of :class:`~feedback_gym.envs.model_critic.ModelCritiqueFeedback`.
    """

    kind = "in_place"

    def identity(self) -> dict[str, Any]:
        """The model critic's identity, with the edit prompt's version."""
        return {**super().identity(), "edit_prompt_version": PROMPT_VERSION}

    def conversation(self, context: FeedbackContext, verdict: Verdict) -> list[dict[str, str]]:
        """The critic's chat: the family's brief, with the edit instructions as the system prompt."""
        messages = super().conversation(context, verdict)
        messages[0] = {"role": "system", "content": EDIT_SYSTEM_PROMPT}
        messages[1]["content"] = messages[1]["content"].replace(
            "Write your feedback now.", "Write the student's answer, corrected in place, now."
        )
        return messages

    def edit(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]]:
        """The observation (without the turns-left line) and details with ``assistant_prefix``."""
        brief = self._bound()
        details: dict[str, Any] = {"critic": "model", **self.identity(), "fallback": None, "redactions": 0,
                                   "assistant_prefix": None, "edited_line": None}
        settled = brief.settled(verdict, context)
        if settled is not None:
            text, extra = settled
            return text, {**details, **extra}
        text, failure, error = self.ask(self.conversation(context, verdict))
        prefix, line = strict_edit(context.action, text) if failure is None else ("", None)
        if failure is None and line is None:
            failure = "the critic's edit changed no line of the answer"
        if failure is not None:
            details["fallback"] = self.failed("edit", failure, error)
            return f"{brief.fallback(verdict, context)}\n(The critic gave no usable edit.)", details
        prefix, redactions = edit_filter(brief, context)(prefix)
        details.update(assistant_prefix=prefix, edited_line=line, redactions=redactions)
        return f"{EDIT_NOTE}\n\n{prefix}", details

    def critique(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]]:
        """The edit, as the text every model-critic caller asks for (e.g. per-reply tool critiques)."""
        return self.edit(verdict, context)

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
        """Edit the previous answer in place (the details, with the prefix, go to ``info``)."""
        text, details = self.edit(verdict, context)
        return RenderedFeedback(text + turns_left_suffix(verdict, context), details)


def edit_filter(brief: CriticBrief, context: FeedbackContext) -> Scrub:
    """The family's filter for an edit (its ``edit_filter``; the critique filter when it has none)."""
    custom = getattr(brief, "edit_filter", None)
    if callable(custom):
        return custom(context.task, context.action)
    return brief.leak_filter(context.task, context.action)


def in_place_feedback(brief: CriticBrief) -> Any:
    """The ``in_place`` entry of a family's ``feedback_modes``: an editing critic reading ``brief``."""

    def make(critic: Any = "smollm2", **kwargs: Any) -> InPlaceEditFeedback:
        return InPlaceEditFeedback(critic, brief=brief, **kwargs)

    return make
