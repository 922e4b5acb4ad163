"""Write your own feedback mode with the public API (``feedback_gym.modes``) and play it.

The mode below names the first wrong step of a worked maths solution by *what it computes* (the
reference step's hint), never its value, using the maths critic's parts: ``diagnose`` finds where the
solution departs from the reference, ``steps_of`` reads the reference steps, ``modes.LeakFilter`` removes
anything that would give the answer away. Any env takes it as ``feedback=``.

    python examples/custom_feedback_mode.py
"""

from __future__ import annotations

import json

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym import modes


class StepHintFeedback:
    """``step_hint``: "Check the step where you compute <hint>." for the first departing step."""

    kind = "step_hint"

    def __call__(self, verdict: modes.Verdict, context: modes.FeedbackContext) -> modes.RenderedFeedback:
        """Say which step to check, by its hint (leak-filtered); report the step in ``info``."""
        if verdict.solved:
            return modes.RenderedFeedback("Correct.")
        diagnosis = modes.diagnose(context.task, context.action, verdict)
        steps = modes.steps_of(context.task)
        if diagnosis.step_index is None or not steps:
            text = "Incorrect. Check your final answer."
        else:
            text = f"Incorrect. Check the step where you compute {steps[diagnosis.step_index].hint}."
        scrubbed = modes.LeakFilter(context.task, context.action).scrub(text)
        found = {"status": diagnosis.status, "step": diagnosis.step_index, "redactions": scrubbed.redactions}
        return modes.RenderedFeedback(scrubbed.text + modes.turns_left(context), found)


def main() -> None:
    """Play one wrong and one right answer on a bundled problem; print what the agent saw."""
    env = gym.make("MathCritiqueBundled-v0", feedback=StepHintFeedback(), max_turns=2)
    env.reset(options={"task_index": 0})
    wrong, _, _, _, info = env.step("Step 1: 2 + 2 = 5\nAnswer: 5")
    kind, details = info["feedback_kind"], info["feedback_details"]
    right, reward, terminated, _, _ = env.step(env.unwrapped.oracle_action())
    env.close()
    print(wrong)
    print(json.dumps({"example": "custom_feedback_mode", "feedback_kind": kind, "details": details,
                      "wrong_feedback": wrong,
                      "right_feedback": right, "reward": reward, "terminated": terminated}))


if __name__ == "__main__":
    main()
