"""``learns-v0``: does multi-turn GRPO raise held-out success on a registered environment?

The premise of the suite, tested end to end: SmolLM2-135M-Instruct trains with the reference
trainer (multi-turn GRPO) on the train split of an easy Countdown (three numbers up to 12, + - *;
two attempts with rule-by-rule ``tests`` feedback; reward: the share of the three rules met), and
every kept checkpoint plays the held-out
split, tasks whose prompts never appear in training. The gain is the final checkpoint minus the
untrained model, paired by task and seed, with a bootstrap interval over tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedback_gym.benchmarks.experiments import verdicts
from feedback_gym.benchmarks.experiments.scales import standard
from feedback_gym.benchmarks.experiments.spec import Arm, Claim, Experiment

FEEDBACK = {"feedback": "tests", "max_turns": 2}


def judge(results: Mapping[str, Any]) -> dict[str, Any]:
    """Reproduced when the held-out success@k gain of the trained model has a CI above zero."""
    if "grpo" not in results["arms"]:
        return {"status": verdicts.INCOMPLETE, "summary": "the grpo arm has not run", "comparisons": []}
    comparisons = [verdicts.gain(results, "grpo", m) for m in ("success@k", "success@1")]
    main = comparisons[0]
    status = {1: verdicts.REPRODUCED, -1: verdicts.NOT_REPRODUCED, 0: verdicts.INCONCLUSIVE}[main["sign"]]
    if not verdicts.complete(results, ("grpo",)):
        status = verdicts.INCOMPLETE
    summary = (
        f"Held-out {main['metric']} went from {main['b']:.3f} (untrained) to {main['a']:.3f} after "
        f"training: {verdicts.describe(main)}."
    )
    return {"status": status, "summary": summary, "comparisons": comparisons}


EXPERIMENT = Experiment(
    name="learns-v0",
    question="Does multi-turn GRPO with the reference trainer raise success on held-out tasks of a "
    "registered environment?",
    claim=Claim(
        anchor="A5 (and the premise of every §3 row)",
        paper="RISE: Recursive Introspection (multi-turn fine-tuning)",
        text='RISE "enables Llama2, Llama3, and Mistral models to improve themselves with more turns '
        'on math reasoning tasks"; training on multi-turn feedback episodes raises success.',
        setting="7B open models, math reasoning (GSM8K, MATH), multi-turn MDP fine-tuning",
    ),
    env="Countdown-v0",
    env_kwargs={"difficulty": 1, "reward": "fraction"},
    arms=(Arm("grpo", "multi-turn GRPO, 2 attempts, rule-by-rule `tests` feedback", FEEDBACK),),
    eval_env_kwargs=FEEDBACK,
    scales=standard(),
    judge=judge,
    can_show=(
        "At the CPU scales a handful of updates can move a 135M model's answer format and habits "
        "(short replies, answer tags); that is most of what a gain here can be, and the shaped reward "
        "can be met by habits that solve nothing (a bare number is a valid expression). It cannot show "
        "gains in arithmetic search, which need the GPU scale (docs/experiments/index.md)."
    ),
)
