"""Write your own feedback mode with the public API (``feedback_gym.modes``) and play it.

The mode below names the first wrong step of a worked maths solution by *what it computes* (the
reference step's hint), never its value, using the maths critic's parts: ``diagnose`` finds where the
solution departs from the reference, ``steps_of`` reads the reference steps, ``LeakFilter`` removes
anything that would give the answer away. Any env takes it as ``feedback=``.

    python examples/custom_feedback_mode.py
"""

from __future__ import annotations

import json

import gymnasium as gym

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.modes import FeedbackContext, LeakFilter, Verdict, diagnose, steps_of, turns_left


class StepHintFeedback:
    """``step_hint``: "Check the step where you compute <hint>." for the first departing step."""

    kind = "step_hint"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Say which step to check, by its hint; leak-filtered like the built-in critic."""
        if verdict.solved:
            return "Correct."
        diagnosis = diagnose(context.task, context.action, verdict)
        steps = steps_of(context.task)
        if diagnosis.step_index is None or not steps:
            text = "Incorrect. Check your final answer."
        else:
            text = f"Incorrect. Check the step where you compute {steps[diagnosis.step_index].hint}."
        return LeakFilter(context.task, context.action).scrub(text).text + turns_left(context)


def main() -> None:
    """Play one wrong and one right answer on a bundled problem; print what the agent saw."""
    env = gym.make("MathCritiqueBundled-v0", feedback=StepHintFeedback(), max_turns=2)
    env.reset(options={"task_index": 0})
    wrong, _, _, _, info = env.step("Step 1: 2 + 2 = 5\nAnswer: 5")
    kind = info["feedback_kind"]
    right, reward, terminated, _, _ = env.step(env.unwrapped.oracle_action())
    env.close()
    print(wrong)
    print(json.dumps({"example": "custom_feedback_mode", "feedback_kind": kind, "wrong_feedback": wrong,
                      "right_feedback": right, "reward": reward, "terminated": terminated}))


if __name__ == "__main__":
    main()
