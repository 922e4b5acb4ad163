"""Rewards of the tool-use family: final correctness plus optional per-call terms.

The base :class:`~feedback_gym.rewards.RewardConfig` scores answers (a tool call never solves the
task, so it earns no success). Two optional per-call terms come on top, each reported as its own
component in ``info["reward_components"]``:

- ``call_cost``: a cost for every tool call (TRICE's pressure to call tools only when needed);
- ``step_reward``: a bonus for a call that succeeded *and contributed*, i.e. whose output revealed
  one of the task's key facts for the first time in the episode (StepTool's step-grained reward for
  "tool invocation success and its contribution to the task").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedback_gym.errors import ConfigError
from feedback_gym.feedback import Attempt
from feedback_gym.rewards import RewardConfig
from feedback_gym.verdict import Verdict

#: Error kinds of tool calls (a call is a step that is neither an answer nor an invalid reply).
TOOL_CALL = "tool_call"  # the call ran and returned output
TOOL_ERROR = "tool_error"  # the call reached the tool but failed (bad arguments, SQL error, traceback)
TOOL_BUDGET = "tool_budget"  # the episode's tool-call budget was already spent; nothing ran
TOOL_KINDS = (TOOL_CALL, TOOL_ERROR, TOOL_BUDGET)

#: Two numbers closer than this count as the same fact (absorbs rounding to 2 decimals).
FACT_TOLERANCE = 0.0051


def is_tool_step(verdict: Verdict) -> bool:
    """Whether the step was a tool call (successful, failed or over budget).

    >>> is_tool_step(Verdict(False, 0.0, error_kind=TOOL_ERROR)), is_tool_step(Verdict(True, 1.0))
    (True, False)
    """
    return verdict.error_kind in TOOL_KINDS


def new_facts(output_numbers: Sequence[float], facts: Sequence[float], found: set[int]) -> set[int]:
    """Indices of ``facts`` that appear among ``output_numbers`` and are not in ``found`` yet.

    >>> sorted(new_facts([1664.0, 35.2], [1664, 1283], found=set()))
    [0]
    >>> new_facts([1664.0], [1664, 1283], found={0})
    set()
    """
    return {
        i for i, fact in enumerate(facts)
        if i not in found and any(abs(n - fact) <= FACT_TOLERANCE for n in output_numbers)
    }


def call_cost(verdict: Verdict, cost: float) -> float:
    """``-cost`` for a tool call that reached the tool (an over-budget call costs nothing more).

    >>> call_cost(Verdict(False, 0.0, error_kind=TOOL_CALL), 0.05), call_cost(Verdict(True, 1.0), 0.05)
    (-0.05, 0.0)
    """
    return -cost if verdict.error_kind in (TOOL_CALL, TOOL_ERROR) else 0.0


def step_shaping(verdict: Verdict, bonus: float) -> float:
    """``bonus`` for a successful call whose output revealed a new key fact, else 0.

    >>> step_shaping(Verdict(False, 0.0, error_kind=TOOL_CALL, evidence={"contributed": True}), 0.1)
    0.1
    >>> step_shaping(Verdict(False, 0.0, error_kind=TOOL_ERROR, evidence={"contributed": False}), 0.1)
    0.0
    """
    if verdict.error_kind == TOOL_CALL and verdict.evidence.get("contributed"):
        return bonus
    return 0.0


@dataclass(frozen=True)
class ToolRewardConfig:
    """The base answer reward plus the optional per-call terms (see the module docstring).

    Attributes:
        base: How answers are rewarded (``success``, ``turn_penalty``, ``error_penalties``).
        call_cost: Subtracted for every tool call that reached a tool (0 disables it).
        step_reward: Added for a call that succeeded and revealed a new key fact (0 disables it).
    """

    base: RewardConfig = RewardConfig()
    call_cost: float = 0.0
    step_reward: float = 0.0

    def __post_init__(self) -> None:
        for name in ("call_cost", "step_reward"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a finite number >= 0; got {value!r}")

    @property
    def success(self) -> str:
        """The base success kind (``"binary"`` or ``"fraction"``)."""
        return self.base.success

    @classmethod
    def build(cls, reward: RewardConfig | Mapping[str, Any] | str | None, call_cost: float,
              step_reward: float) -> ToolRewardConfig:
        """Combine a ``reward=`` argument of any accepted form with the per-call terms."""
        return cls(RewardConfig.coerce(reward), call_cost, step_reward)

    def components(
        self, verdict: Verdict, turn: int, history: Sequence[Attempt], **step: Any
    ) -> dict[str, float]:
        """The named parts of this step's reward (their sum is the reward).

        ``step`` holds whatever else the shared loop passes about the step (e.g. the raw ``action``);
        it goes to the base config unchanged.
        """
        parts = self.base.components(verdict, turn, history, **step)
        if self.call_cost:
            parts["call_cost"] = call_cost(verdict, self.call_cost)
        if self.step_reward:
            parts["step_reward"] = step_shaping(verdict, self.step_reward)
        return parts
