"""``model`` feedback on maths: the maths family's brief for the shared model critic.

The critic mode itself is :class:`feedback_gym.envs.model_critic.ModelCritiqueFeedback`, the same for
every family; this module says what the maths critic reads: the problem, the reference worked
solution (Feedback Friction's targeted critique with reference access; switch off with
``with_reference=False``), the agent's attempt and, optionally, the line the reference-guided critic
found first wrong. Its replies pass through the maths :class:`LeakFilter` (the answer, its number
words, and every reference value the agent has not written itself). The critic's identity, the prompt
version and the sampling settings go into ``info["critique"]`` so a run can be reproduced.
"""

from __future__ import annotations

from typing import Any

from feedback_gym.envs.math.critic import critique, describe, diagnose, ordinal
from feedback_gym.envs.math.leaks import LeakFilter
from feedback_gym.envs.math.solution import steps_of, worked_text
from feedback_gym.envs.model_critic import FALLBACK_NOTE, Scrub, answer_filter
from feedback_gym.envs.model_critic import ModelCritiqueFeedback as _SharedModelCritique
from feedback_gym.feedback import FeedbackContext
from feedback_gym.tasks import Task
from feedback_gym.verdict import Verdict

__all__ = ["FALLBACK_NOTE", "PROMPT_VERSION", "SYSTEM_PROMPT", "MathBrief", "ModelCritiqueFeedback"]

#: Bump whenever the texts below change: it is recorded with every critique.
PROMPT_VERSION = "math-critic-v2"

SYSTEM_PROMPT = (
    "You are a careful maths teacher giving feedback on a student's worked solution. "
    "Point to the first step that is wrong, say briefly what is wrong there and what the student "
    "should reconsider. Rules: never state the final answer; never state the correct value of any "
    "step; never write a corrected solution; do not copy numbers from the reference solution. "
    "Write at most four sentences."
)


class MathBrief:
    """What the maths critic reads: problem, worked solution, the located first wrong line."""

    family = "math"
    prompt_version = PROMPT_VERSION
    system_prompt = SYSTEM_PROMPT

    def problem(self, task: Task) -> str:
        """The problem statement (the prompt's first paragraph, without the answer-format notes)."""
        return task.prompt.split("\n\n")[0] if task.prompt else ""

    def reference(self, task: Task) -> tuple[str, str]:
        """The reference worked solution, ending with the boxed answer."""
        answer = task.reference if task.reference is not None else task.hidden.get("answer", "")
        return "Reference solution", worked_text(steps_of(task), str(answer))

    def evidence(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Where the reference-guided critic found the first departure (a line, or no working)."""
        diagnosis = diagnose(context.task, context.action, verdict)
        if diagnosis.status == "step" and diagnosis.line_index is not None:
            return (f"The first step that departs from the reference is the student's "
                    f"{ordinal(diagnosis.line_index)} line.")
        if diagnosis.status == "no_work":
            return "The student shows no working."
        return ""

    def details(self, verdict: Verdict, context: FeedbackContext) -> dict[str, Any]:
        """What the reference-guided critic found (status, step and line index)."""
        return describe(diagnose(context.task, context.action, verdict), 0)

    def settled(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]] | None:
        """A correct or unreadable answer gets the reference-guided critic's sentence, no model call."""
        diagnosis = diagnose(context.task, context.action, verdict)
        if diagnosis.status not in ("correct", "unreadable"):
            return None
        result = critique(context.task, context.action, verdict, diagnosis)
        return result.text, describe(diagnosis, result.redactions)

    def fallback(self, verdict: Verdict, context: FeedbackContext) -> str:
        """The reference-guided critique."""
        return critique(context.task, context.action, verdict).text

    def leak_filter(self, task: Task, action: str) -> Scrub:
        """The maths leak filter for this attempt."""
        leak = LeakFilter(task, action)

        def scrub(text: str) -> tuple[str, int]:
            result = leak.scrub(text)
            return result.text, result.redactions

        return scrub


    def edit_filter(self, task: Task, action: str) -> Scrub:
        """An in-place edit may correct a step's value, never state the final answer."""
        answer = task.reference if task.reference is not None else task.hidden.get("answer", "")
        return answer_filter(task, action, str(answer))


MATH_BRIEF = MathBrief()


class ModelCritiqueFeedback(_SharedModelCritique):
    """The shared model critic, reading maths by default (an environment of another family rebinds it)."""

    def __init__(self, critic: Any = "smollm2", **kwargs: Any) -> None:
        super().__init__(critic, **kwargs)
        if self.brief is None:
            self.brief = MATH_BRIEF
