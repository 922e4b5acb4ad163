"""Reward functions: small, pure, and reported part by part in ``info["reward_components"]``.

The per-step reward is the sum of the components. With the default ``success="binary"`` the agent
earns 1.0 on the step that solves the task and 0.0 otherwise. With ``success="fraction"`` each step
earns the *improvement* of its score over the best earlier score, so an episode's return is the best
score it reached and repeating a partly right answer earns nothing twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from feedback_gym.errors import ConfigError
from feedback_gym.feedback import Attempt
from feedback_gym.verdict import Verdict

SuccessKind = Literal["binary", "fraction"]


def binary_success(verdict: Verdict) -> float:
    """1.0 when the action solved the task, else 0.0.

    >>> binary_success(Verdict(True, 1.0)), binary_success(Verdict(False, 0.5))
    (1.0, 0.0)
    """
    return 1.0 if verdict.solved else 0.0


def fraction_improvement(verdict: Verdict, history: Sequence[Attempt]) -> float:
    """The score's improvement over the best earlier score (never negative).

    >>> earlier = [Attempt("a", Verdict(False, 0.5))]
    >>> fraction_improvement(Verdict(False, 0.75), earlier)
    0.25
    >>> fraction_improvement(Verdict(False, 0.25), earlier)
    0.0
    """
    best_before = max((a.verdict.score for a in history), default=0.0)
    return max(0.0, verdict.score - best_before)


def turn_penalty(turn: int, per_turn: float) -> float:
    """A constant cost for every turn taken (returned as a non-positive number).

    >>> turn_penalty(3, 0.1)
    -0.1
    """
    return -per_turn if per_turn else 0.0


def error_penalty(verdict: Verdict, penalties: Mapping[str, float]) -> float:
    """A cost for a kind of error (``{"compile_error": 0.1}``, ``{"invalid_action": 0.05}``).

    >>> error_penalty(Verdict(False, 0.0, error_kind="compile_error"), {"compile_error": 0.2})
    -0.2
    """
    if verdict.error_kind is None:
        return 0.0
    return -float(penalties.get(verdict.error_kind, 0.0))


@dataclass(frozen=True)
class RewardConfig:
    """How an environment turns a verdict into a reward.

    Attributes:
        success: ``"binary"`` (1 on solving) or ``"fraction"`` (score improvements).
        turn_penalty: Subtracted on every step (0 disables it).
        error_penalties: Subtracted when the verdict's ``error_kind`` matches a key, e.g.
            ``{"compile_error": 0.1}`` or ``{"invalid_action": 0.1}`` for a format penalty.
    """

    success: SuccessKind = "binary"
    turn_penalty: float = 0.0
    error_penalties: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.success not in ("binary", "fraction"):
            raise ConfigError(f"success must be 'binary' or 'fraction'; got {self.success!r}")
        values = [self.turn_penalty, *self.error_penalties.values()]
        if not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values):
            raise ConfigError("penalties must be finite numbers >= 0 (they are subtracted)")

    @classmethod
    def coerce(cls, value: RewardConfig | Mapping[str, Any] | str | None) -> RewardConfig:
        """Accept a config, a dict of its fields, a success kind name, or ``None`` (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, RewardConfig):
            return value
        if isinstance(value, str):
            return cls(success=value)  # type: ignore[arg-type]
        if isinstance(value, Mapping):
            unknown = set(value) - {"success", "turn_penalty", "error_penalties"}
            if unknown:
                raise ConfigError(
                    f"unknown reward options {sorted(unknown)}; "
                    "accepted: success, turn_penalty, error_penalties"
                )
            return cls(**value)
        raise ConfigError(f"reward must be a RewardConfig, dict or str; got {type(value).__name__}")

    def components(
        self, verdict: Verdict, turn: int, history: Sequence[Attempt]
    ) -> dict[str, float]:
        """Return the named parts of this step's reward (their sum is the reward)."""
        if self.success == "binary":
            success = binary_success(verdict)
        else:
            success = fraction_improvement(verdict, history)
        parts = {"success": success}
        if self.turn_penalty:
            parts["turn_penalty"] = turn_penalty(turn, self.turn_penalty)
        if self.error_penalties:
            parts["error_penalty"] = error_penalty(verdict, self.error_penalties)
        return parts
