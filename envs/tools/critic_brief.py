"""What a critic model reads on a tool-use task (MINT's simulated feedback), and its leak filter.

The critic sees the question, privately the reference answer and the oracle's tool plan (rendered as
calls, e.g. ``calculator(expression="12 * 24")``), the agent's reply and what came of it (the tool's
output, or that the submitted answer is wrong). Tasks of another family played with tools (maths
with a calculator, code with python) are briefed by that family's own brief for the inner task, so
the critic reads a worked solution or a reference program, never a raw record.
"""

from __future__ import annotations

import json
from typing import Any

from feedback_gym.envs.model_critic import CriticBrief, Scrub, answer_filter
from feedback_gym.feedback import BinaryFeedback, FeedbackContext
from feedback_gym.tasks import Task, thaw
from feedback_gym.verdict import INVALID_ACTION, Verdict

PROMPT_VERSION = "tools-critic-v1"

SYSTEM_PROMPT = (
    "You are a helpful user watching an assistant solve a question with tools (python, calculator, "
    "search, sql). Comment on its latest reply: is the tool call sensible, what did it miss, what "
    "should it look up or check next. Rules: never state the final answer or a value it has not "
    "found itself; never copy the reference. Write at most three sentences."
)


def show_call(step: Any) -> str:
    """One oracle step as a call: ``calculator(expression="12 * 24")``.

    >>> show_call({"tool": "calculator", "arguments": {"expression": "12 * 24"}})
    'calculator(expression="12 * 24")'
    """
    step = thaw(step)
    arguments = dict(step.get("arguments", {}))
    shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{step.get('tool', '?')}({shown})"


def _inner_brief(task: Task) -> CriticBrief | None:
    """The brief of the family whose task this tool task wraps (``None`` for tool-native tasks)."""
    if task.hidden.get("answer_type") != "delegate":
        return None
    if task.metadata.get("family") == "code":
        from feedback_gym.envs.code.critic_brief import CODE_BRIEF

        return CODE_BRIEF
    from feedback_gym.envs.math.model_critic import MATH_BRIEF

    return MATH_BRIEF


class ToolsBrief:
    """The tool-use family's critic brief."""

    family = "tools"
    prompt_version = PROMPT_VERSION
    system_prompt = SYSTEM_PROMPT

    def problem(self, task: Task) -> str:
        """The question (the first paragraph of the prompt; the tool list follows it)."""
        return task.prompt.split("\n\nTools:")[0]

    def reference(self, task: Task) -> tuple[str, str]:
        """The reference answer (or the inner family's reference) and the oracle's tool plan."""
        plan = [show_call(step) for step in thaw(task.reference["oracle"])[:-1]]
        inner = _inner_brief(task)
        if inner is not None:
            title, answer = inner.reference(task.hidden["inner"])
            answer = f"{title}:\n{answer}"
        else:
            answer = f"Answer: {task.reference['answer']}"
        calls = "\n".join(f"- {call}" for call in plan) or "- (no tool calls needed)"
        return "Reference", f"{answer}\nTool calls that find it:\n{calls}"

    def evidence(self, verdict: Verdict, context: FeedbackContext) -> str:
        """What the reply led to: the tool's output, or a wrong answer."""
        evidence = verdict.evidence
        if "tool_output" in evidence:
            status = "returned" if evidence.get("tool_ok") else "failed with"
            return f"The {evidence.get('tool', 'tool')} tool {status}:\n{str(evidence['tool_output'])[:2000]}"
        if "answer" in evidence:
            return "The submitted answer is wrong."
        return verdict.message or ""

    def settled(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]] | None:
        """A correct answer, or an unreadable reply, needs no critic."""
        if verdict.solved or verdict.error_kind == INVALID_ACTION:
            return BinaryFeedback()(verdict, context), {"status": "settled"}
        return None

    def fallback(self, verdict: Verdict, context: FeedbackContext) -> str:
        """``binary`` feedback."""
        return BinaryFeedback()(verdict, context)

    def leak_filter(self, task: Task, action: str) -> Scrub:
        """The inner family's filter for wrapped tasks; the maths filter on the answer otherwise."""
        inner = _inner_brief(task)
        if inner is not None:
            return inner.leak_filter(task.hidden["inner"], action)
        return answer_filter(task, action, str(task.reference["answer"]))


    def edit_filter(self, task: Task, action: str) -> Scrub:
        """An in-place edit of a reply may fix a call, never state the final answer."""
        inner = _inner_brief(task)
        if inner is not None:
            return edit_filter_of(inner, task.hidden["inner"], action)
        return answer_filter(task, action, str(task.reference["answer"]))


def edit_filter_of(brief: CriticBrief, task: Task, action: str) -> Scrub:
    """``brief``'s edit filter (its critique filter when it has none)."""
    custom = getattr(brief, "edit_filter", None)
    return custom(task, action) if callable(custom) else brief.leak_filter(task, action)


TOOLS_BRIEF = ToolsBrief()
