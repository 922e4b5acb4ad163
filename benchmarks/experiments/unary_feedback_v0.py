"""``unary-feedback-v0`` (UFO): multi-turn RL with a bare "try again" vs single-turn RL, at equal tokens.

"A Simple 'Try Again'" trains with unary feedback between attempts and reports higher multi-turn
accuracy with single-turn accuracy kept. Here both arms train SmolLM2-135M on the same Countdown
train split with the same budget of generated tokens: one plays single attempts, the other up to
three attempts with only "try again" in between. Both are evaluated on the held-out split with
unary feedback and three attempts: success@1 (first attempt) and success@3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from feedback_gym.benchmarks.experiments import verdicts
from feedback_gym.benchmarks.experiments.scales import standard
from feedback_gym.benchmarks.experiments.spec import Arm, Claim, Experiment

MULTI, SINGLE = "multi-turn-unary", "single-turn"


def judge(results: Mapping[str, Any]) -> dict[str, Any]:
    """Reproduced when multi-turn beats single-turn on success@k (CI above 0), not worse on success@1."""
    if not {MULTI, SINGLE} <= set(results["arms"]):
        return {"status": verdicts.INCOMPLETE, "summary": "both arms must run", "comparisons": []}
    multi_k = verdicts.between(results, MULTI, SINGLE, "success@k")
    multi_1 = verdicts.between(results, MULTI, SINGLE, "success@1")
    gains = [verdicts.gain(results, arm, "success@k") for arm in (MULTI, SINGLE)]
    if multi_k["sign"] == 1 and multi_1["sign"] >= 0:
        status = verdicts.REPRODUCED
    elif multi_k["sign"] == -1:
        status = verdicts.NOT_REPRODUCED
    else:
        status = verdicts.INCONCLUSIVE
    if not verdicts.complete(results, (MULTI, SINGLE)):
        status = verdicts.INCOMPLETE
    tokens = {arm: verdicts.mean_tokens(results, arm) for arm in (MULTI, SINGLE)}
    equal = abs(tokens[MULTI] - tokens[SINGLE]) <= 0.25 * max(tokens.values(), default=0)
    cost = (
        "at about equal generated tokens"
        if equal
        else "NOT at equal generated tokens (an arm hit its step cap before the token budget)"
    )
    summary = (
        f"Trained {cost}: {tokens[MULTI]:.0f} ({MULTI}) vs {tokens[SINGLE]:.0f} ({SINGLE}) tokens per seed. "
        f"{verdicts.describe(multi_k)}; {verdicts.describe(multi_1)}. "
        "Paper: up to +14% multi-turn accuracy, single-turn kept."
    )
    if not equal and status == verdicts.REPRODUCED:
        status = verdicts.INCONCLUSIVE
    return {"status": status, "summary": summary, "comparisons": [multi_k, multi_1, *gains]}


EXPERIMENT = Experiment(
    name="unary-feedback-v0",
    question='Does RL with unary "try again" feedback over several attempts beat single-turn RL on '
    "held-out multi-turn success, at the same number of generated tokens, without losing success@1?",
    claim=Claim(
        anchor="A1",
        paper='A Simple "Try Again" Can Elicit Multi-Turn LLM Reasoning (UFO)',
        text='RL with unary feedback "improves multi-turn reasoning accuracy by up to 14%" while it '
        '"keeps single-turn performance"',
        setting="multi-turn RL on math reasoning with unary feedback after wrong answers (datasets "
        "not named in the abstract)",
    ),
    env="Countdown-v0",
    env_kwargs={"difficulty": 1, "reward": "fraction", "feedback": "unary"},
    arms=(
        Arm(MULTI, 'GRPO over up to 3 attempts with only "try again" between them', {"max_turns": 3}),
        Arm(SINGLE, "GRPO on single attempts (no feedback at all)", {"max_turns": 1}),
    ),
    eval_env_kwargs={"feedback": "unary", "max_turns": 3},
    # Equal generation cost: each arm stops when its rollouts have sampled this many tokens; the step
    # cap is three times the standard one, so that single attempts (fewer tokens per step) reach it too.
    scales={
        name: replace(scale, steps=3 * scale.steps)
        for name, scale in standard({"tiny": 64, "quick": 600, "cpu": 2_000, "gpu": 250_000}).items()
    },
    judge=judge,
    can_show=(
        "Whether training on retries changes how a 135M model uses a second and third attempt "
        "(retrying with a different answer rather than repeating itself). It cannot show UFO's "
        "effect size: that needs a model that solves a fair share of tasks before training, and "
        "hundreds of held-out tasks (see the resolution line above)."
    ),
)
