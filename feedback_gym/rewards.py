"""Reward functions: small, pure, and reported part by part in ``info["reward_components"]``.

The per-step reward is the sum of the components. With the default ``success="binary"`` the agent
earns 1.0 on the step that solves the task and 0.0 otherwise. With ``success="fraction"`` each step
earns the *improvement* of its score over the best earlier score, so an episode's return is the best
score it reached and repeating a partly right answer earns nothing twice.

Multi-turn retry adds three optional structures (all off by default, so an env keeps its semantics
unless asked): ``turn_discount`` makes success on turn 3 worth less than on turn 1 (UFO's
turn-minimising reward), ``repetition_penalty`` charges an answer the agent already gave, and
``regression_penalty`` charges a revision that breaks what was right before (checks that passed
on the previous turn and now fail, e.g. unit tests). Each appears as its own component.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from feedback_gym.errors import ConfigError
from feedback_gym.feedback import Attempt, answer_key
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


def turn_discount(success: float, turn: int, discount: float) -> float:
    """The part of ``success`` taken away for solving late: success on turn t is worth discount**(t-1).

    Returned as a non-positive number, so ``success + turn_discount(...)`` is the discounted success.

    >>> turn_discount(1.0, 1, 0.5), turn_discount(1.0, 3, 0.5), turn_discount(0.0, 3, 0.5)
    (0.0, -0.75, 0.0)
    """
    lost = success * (1.0 - discount ** (turn - 1))
    return -lost if lost else 0.0


def repeats_earlier_answer(action: str, verdict: Verdict, history: Sequence[Attempt]) -> bool:
    """Whether this attempt's answer (see :func:`answer_key`) was already given in the episode.

    >>> earlier = [Attempt("<answer>1 + 2</answer>", Verdict(False, 0.0, parsed="1 + 2"))]
    >>> repeats_earlier_answer("so: 1 + 2", Verdict(False, 0.0, parsed="1  + 2"), earlier)
    True
    >>> repeats_earlier_answer("2 + 1", Verdict(False, 0.0, parsed="2 + 1"), earlier)
    False
    """
    key = answer_key(action, verdict)
    return key is not None and any(answer_key(a.action, a.verdict) == key for a in history)


def repetition_penalty(action: str, verdict: Verdict, history: Sequence[Attempt], penalty: float) -> float:
    """``-penalty`` when the answer repeats an earlier one of the episode, else 0.0.

    >>> earlier = [Attempt("12", Verdict(False, 0.0, parsed="12"))]
    >>> repetition_penalty("12", Verdict(False, 0.0, parsed="12"), earlier, 0.2)
    -0.2
    """
    return -penalty if penalty and repeats_earlier_answer(action, verdict, history) else 0.0


def lost_fraction(
    passed_before: Collection[str], passed_now: Collection[str], score_before: float, score_now: float
) -> float:
    """How much of what was right before is no longer right, in [0, 1].

    With named checks (unit tests, rules, steps) it is the share of the checks that passed before
    and fail now; without them it is the share of the earlier score that was lost.

    >>> lost_fraction({"t1", "t2", "t3", "t4"}, {"t1", "t2", "t3"}, 1.0, 0.75)
    0.25
    >>> lost_fraction({"t1"}, {"t1", "t2"}, 0.5, 1.0)
    0.0
    >>> lost_fraction((), (), 0.5, 0.25)
    0.5
    """
    before = set(passed_before)
    if before:
        return len(before - set(passed_now)) / len(before)
    if score_before > 0:
        return max(0.0, score_before - score_now) / score_before
    return 0.0


def regressed_fraction(verdict: Verdict, previous: Verdict) -> float:
    """The share of what ``previous`` got right that ``verdict`` breaks (by check name, else score).

    >>> from feedback_gym.verdict import CheckResult
    >>> before = Verdict(False, 0.5, checks=(CheckResult("a", True), CheckResult("b", False)))
    >>> after = Verdict(False, 0.5, checks=(CheckResult("a", False), CheckResult("b", True)))
    >>> regressed_fraction(after, before)
    1.0
    """
    return lost_fraction(
        [c.name for c in previous.checks if c.passed],
        [c.name for c in verdict.checks if c.passed],
        previous.score,
        verdict.score,
    )


def regression_penalty(verdict: Verdict, history: Sequence[Attempt], penalty: float) -> float:
    """``-penalty`` times the share of the previous attempt's passing checks this attempt breaks.

    >>> from feedback_gym.verdict import CheckResult
    >>> before = Verdict(False, 0.5, checks=(CheckResult("a", True), CheckResult("b", False)))
    >>> after = Verdict(False, 0.0, checks=(CheckResult("a", False), CheckResult("b", False)))
    >>> regression_penalty(after, [Attempt("v1", before)], 0.5)
    -0.5
    """
    if not penalty or not history:
        return 0.0
    lost = penalty * regressed_fraction(verdict, history[-1].verdict)
    return -lost if lost else 0.0


REWARD_OPTIONS = (
    "success", "turn_penalty", "error_penalties", "turn_discount", "repetition_penalty", "regression_penalty"
)


@runtime_checkable
class RewardScheme(Protocol):
    """What the step loop asks of a reward: the named parts of one step's reward.

    :class:`RewardConfig` is the shared one; a family with extra terms (the tool family's call cost)
    passes its own scheme to :class:`~feedback_gym.env.FeedbackEnv` instead of replacing the env's.
    """

    def components(
        self, verdict: Verdict, turn: int, history: Sequence[Attempt], action: str | None = None
    ) -> dict[str, float]:
        """Return the named parts of this step's reward (their sum is the reward)."""
        ...


@dataclass(frozen=True)
class RewardConfig:
    """How an environment turns a verdict into a reward.

    Attributes:
        success: ``"binary"`` (1 on solving) or ``"fraction"`` (score improvements).
        turn_penalty: Subtracted on every step (0 disables it).
        error_penalties: Subtracted when the verdict's ``error_kind`` matches a key, e.g.
            ``{"compile_error": 0.1}`` or ``{"invalid_action": 0.1}`` for a format penalty.
        turn_discount: Success on turn t is multiplied by ``turn_discount ** (t - 1)``; in (0, 1],
            1.0 (the default) disables it. Reported as the ``turn_discount`` component.
        repetition_penalty: Subtracted when the answer repeats one given earlier in the episode.
        regression_penalty: Subtracted, scaled by the share of the previous attempt's passing
            checks (or score) that this attempt breaks.
    """

    success: SuccessKind = "binary"
    turn_penalty: float = 0.0
    error_penalties: Mapping[str, float] = field(default_factory=dict)
    turn_discount: float = 1.0
    repetition_penalty: float = 0.0
    regression_penalty: float = 0.0

    def __post_init__(self) -> None:
        if self.success not in ("binary", "fraction"):
            raise ConfigError(f"success must be 'binary' or 'fraction'; got {self.success!r}")
        values = [
            self.turn_penalty, self.repetition_penalty, self.regression_penalty,
            *self.error_penalties.values(),
        ]
        if not all(_is_number(v) and v >= 0 for v in values):
            raise ConfigError("penalties must be finite numbers >= 0 (they are subtracted)")
        if not (_is_number(self.turn_discount) and 0 < self.turn_discount <= 1):
            raise ConfigError(
                f"turn_discount must be a number in (0, 1] (1 disables it); got {self.turn_discount!r}"
            )

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
            unknown = set(value) - set(REWARD_OPTIONS)
            if unknown:
                raise ConfigError(
                    f"unknown reward options {sorted(unknown)}; accepted: {', '.join(REWARD_OPTIONS)}"
                )
            return cls(**value)
        raise ConfigError(f"reward must be a RewardConfig, dict or str; got {type(value).__name__}")

    def components(
        self, verdict: Verdict, turn: int, history: Sequence[Attempt], action: str | None = None
    ) -> dict[str, float]:
        """Return the named parts of this step's reward (their sum is the reward).

        ``action`` (the raw reply) is only needed by ``repetition_penalty`` when the verifier
        parsed no answer; without it the parsed answer alone is compared.
        """
        if self.success == "binary":
            success = binary_success(verdict)
        else:
            success = fraction_improvement(verdict, history)
        parts = {"success": success}
        if self.turn_penalty:
            parts["turn_penalty"] = turn_penalty(turn, self.turn_penalty)
        if self.error_penalties:
            parts["error_penalty"] = error_penalty(verdict, self.error_penalties)
        if self.turn_discount != 1.0:
            parts["turn_discount"] = turn_discount(success, turn, self.turn_discount)
        if self.repetition_penalty:
            parts["repetition_penalty"] = repetition_penalty(
                action or "", verdict, history, self.repetition_penalty
            )
        if self.regression_penalty:
            parts["regression_penalty"] = regression_penalty(verdict, history, self.regression_penalty)
        return parts


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
