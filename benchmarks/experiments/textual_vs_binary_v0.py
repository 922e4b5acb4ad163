"""``textual-vs-binary-v0`` (LeTI): does textual feedback make training reach a level in fewer steps?

LeTI reports that training with textual feedback (error messages) reaches the performance of
binary feedback "with fewer than half of the gradient steps". Here the same multi-turn GRPO trains
SmolLM2-135M on Countdown with two attempts; the arms differ only in what the agent reads after a
wrong first attempt: the rule-by-rule ``tests`` feedback (which rule failed, the value reached)
or ``binary`` ("Incorrect."). Both play the same held-out split; the measure is held-out
success@1 against training steps (LeTI's pass@1), plus success@2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from feedback_gym.benchmarks.experiments import verdicts
from feedback_gym.benchmarks.experiments.scales import standard
from feedback_gym.benchmarks.experiments.spec import Arm, Claim, Experiment

TEXTUAL, BINARY = "textual", "binary"
METRIC = "success@1"


def mean_curve(results: Mapping[str, Any], arm: str, metric: str) -> list[tuple[int, float]]:
    """(step, held-out rate averaged over seeds) at the steps every seed evaluated."""
    runs = results["arms"][arm]["runs"].values()
    steps = sorted(set.intersection(*({e["step"] for e in run["evals"]} for run in runs)))
    curve = []
    for step in steps:
        rates = [next(e for e in run["evals"] if e["step"] == step)[metric]["rate"] for run in runs]
        curve.append((step, float(np.mean(rates))))
    return curve


def steps_to(curve: list[tuple[int, float]], level: float) -> int | None:
    """The first evaluated step at which the curve reaches ``level`` (None: never).

    >>> steps_to([(0, 0.1), (4, 0.2), (8, 0.3)], 0.2)
    4
    """
    return next((step for step, rate in curve if step > 0 and rate >= level), None)


def judge(results: Mapping[str, Any]) -> dict[str, Any]:
    """Reproduced when textual reaches binary's final level in at most half of binary's steps."""
    if not {TEXTUAL, BINARY} <= set(results["arms"]):
        return {"status": verdicts.INCOMPLETE, "summary": "both arms must run", "comparisons": []}
    gains = {arm: verdicts.gain(results, arm, METRIC) for arm in (TEXTUAL, BINARY)}
    final = verdicts.between(results, TEXTUAL, BINARY, METRIC)
    binary_curve, textual_curve = mean_curve(results, BINARY, METRIC), mean_curve(results, TEXTUAL, METRIC)
    level = binary_curve[-1][1]
    binary_steps, textual_steps = steps_to(binary_curve, level), steps_to(textual_curve, level)
    if gains[BINARY]["sign"] != 1:
        status = verdicts.REPRODUCED if final["sign"] == 1 else verdicts.INCONCLUSIVE
        reason = (
            "binary feedback gave no held-out gain whose CI excludes zero, so there is no level for "
            "steps-to-threshold; "
            + ("textual beat binary at the end (CI above zero)." if final["sign"] == 1 else
               "the arms cannot be told apart.")
        )
    elif textual_steps is not None and binary_steps is not None and textual_steps <= binary_steps / 2:
        status = verdicts.REPRODUCED
        reason = "textual reached binary's final level in at most half the steps."
    elif textual_steps is None or final["sign"] == -1:
        status, reason = verdicts.NOT_REPRODUCED, "textual did not reach binary's final level."
    else:
        status, reason = verdicts.INCONCLUSIVE, "textual reached binary's level, but not in half the steps."
    if not verdicts.complete(results, (TEXTUAL, BINARY)):
        status = verdicts.INCOMPLETE
    summary = (
        f"Binary's final held-out {METRIC} is {level:.3f} (reached at step {binary_steps}); textual reaches "
        f"it at step {textual_steps}. {reason} {verdicts.describe(final)}."
    )
    return {
        "status": status,
        "summary": summary,
        "steps_to_binary_level": {"level": level, TEXTUAL: textual_steps, BINARY: binary_steps},
        "comparisons": [final, gains[TEXTUAL], gains[BINARY]],
    }


EXPERIMENT = Experiment(
    name="textual-vs-binary-v0",
    question="Does training with textual feedback reach the held-out success of training with binary "
    "feedback in fewer gradient steps?",
    claim=Claim(
        anchor="C1",
        paper="LeTI: Learning to Generate from Textual Interactions",
        text='textual (error-message) feedback reaches the same performance "with fewer than half of '
        'the gradient steps" vs binary feedback',
        setting="base code LMs fine-tuned on MBPP with execution feedback, HumanEval transfer",
    ),
    env="Countdown-v0",
    env_kwargs={"difficulty": 1, "reward": "fraction", "max_turns": 2},
    arms=(
        Arm(TEXTUAL, "multi-turn GRPO; after a wrong attempt: which rule failed and the value reached",
            {"feedback": "tests"}),
        Arm(BINARY, 'multi-turn GRPO; after a wrong attempt: "Incorrect."', {"feedback": "binary"}),
    ),
    eval_env_kwargs={"feedback": "tests", "max_turns": 2},
    scales=standard(),
    judge=judge,
    can_show=(
        "Whether the richer feedback changes the learning curve at all within a few dozen steps. "
        "LeTI's effect is about steps-to-threshold over thousands of updates; a CPU run sees the "
        "first few evaluation points only."
    ),
)
