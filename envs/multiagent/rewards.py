r"""Role rewards of the critique games: pure functions of the verdicts before and after a critique.

The seeds (RefCritic, Coffee-Gym, MAgICoRe) agree that a critic should be paid for what its critique
*does*: the verdict of the answer revised after reading it, compared with the verdict of the answer
it criticised. RefCritic adds a second, rule-based term for the critic's own judgement (a stated
verdict that matches the checker). Every reward here reads only :class:`Verdict` objects, so it is
the same whichever family (Countdown, math, code) produced them.

The critic states its judgement on a line ``VERDICT: correct`` or ``VERDICT: incorrect``
(case-insensitive, Markdown emphasis allowed); the last such line counts.

>>> parse_critic_verdict("The sum is off by one.\nVERDICT: incorrect")
False
>>> critic_outcome_reward("improvement", Verdict(False, 0.0), Verdict(True, 1.0))
1.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from feedback_gym.errors import ConfigError
from feedback_gym.verdict import Verdict

CriticReward = Literal["improvement", "score", "score_gain"]
SolverReward = Literal["binary", "score"]
CRITIC_REWARDS: tuple[str, ...] = ("improvement", "score", "score_gain")
SOLVER_REWARDS: tuple[str, ...] = ("binary", "score")

_VERDICT_LINE = re.compile(
    r"verdict\s*[:=]\s*[*_`\"']*\s*(correct|incorrect|right|wrong)\b", re.IGNORECASE
)
_POSITIVE = {"correct", "right"}


def parse_critic_verdict(critique: str) -> bool | None:
    """Read the critic's stated verdict: ``True`` (correct), ``False`` (incorrect) or ``None``.

    The last ``VERDICT: ...`` line wins, so a critic may think aloud before concluding.

    >>> parse_critic_verdict("VERDICT: Correct")
    True
    >>> parse_critic_verdict("verdict = **wrong**")
    False
    >>> parse_critic_verdict("VERDICT: incorrect ... on reflection, VERDICT: correct")
    True
    >>> parse_critic_verdict("I think this is correct.") is None
    True
    """
    found = _VERDICT_LINE.findall(critique)
    if not found:
        return None
    return found[-1].lower() in _POSITIVE


def improvement(before: Verdict, after: Verdict) -> float:
    """+1 when a wrong answer became right, -1 when a right one became wrong, else 0.

    >>> improvement(Verdict(False, 0.5), Verdict(True, 1.0))
    1.0
    >>> improvement(Verdict(True, 1.0), Verdict(False, 0.0))
    -1.0
    >>> improvement(Verdict(False, 0.0), Verdict(False, 0.5))
    0.0
    """
    return float(after.solved) - float(before.solved)


def critic_outcome_reward(kind: str, before: Verdict, after: Verdict) -> float:
    """The part of the critic's reward earned by the revision that followed its critique.

    - ``"improvement"``: :func:`improvement` (RefCritic's refinement term, in {-1, 0, +1}).
    - ``"score"``: the revision's score, i.e. the share of unit tests it passes (CoffeeEval).
    - ``"score_gain"``: the revision's score minus the criticised answer's score (in [-1, 1]).

    >>> critic_outcome_reward("score", Verdict(False, 0.0), Verdict(False, 0.75))
    0.75
    >>> critic_outcome_reward("score_gain", Verdict(False, 0.25), Verdict(False, 0.75))
    0.5
    """
    if kind == "improvement":
        return improvement(before, after)
    if kind == "score":
        return after.score
    if kind == "score_gain":
        return after.score - before.score
    raise ConfigError(f"unknown critic reward {kind!r}; accepted: {', '.join(CRITIC_REWARDS)}")


def verdict_accuracy(stated: bool | None, actual: Verdict, weight: float) -> float:
    """``+weight`` for a stated verdict that matches the checker, ``-weight`` for a wrong one, 0 for none.

    The penalty makes guessing worth nothing on average: a critic that states a coin-flip verdict
    earns 0 in expectation, one that judges well earns up to ``weight`` per critique.

    >>> verdict_accuracy(False, Verdict(False, 0.0), 0.5)
    0.5
    >>> verdict_accuracy(True, Verdict(False, 0.0), 0.5)
    -0.5
    >>> verdict_accuracy(None, Verdict(True, 1.0), 0.5)
    0.0
    """
    if stated is None or not weight:
        return 0.0
    return weight if stated == actual.solved else -weight


def solver_final_reward(kind: str, final: Verdict) -> float:
    """The solver's (or editor's) reward for its final answer: solved (``"binary"``) or its score.

    >>> solver_final_reward("binary", Verdict(False, 0.5)), solver_final_reward("score", Verdict(False, 0.5))
    (0.0, 0.5)
    """
    if kind == "binary":
        return 1.0 if final.solved else 0.0
    if kind == "score":
        return final.score
    raise ConfigError(f"unknown solver reward {kind!r}; accepted: {', '.join(SOLVER_REWARDS)}")


@dataclass(frozen=True)
class CritiqueRewards:
    """How a critique game pays its seats.

    Attributes:
        critic: What the critic earns from each revision (see :func:`critic_outcome_reward`).
        verdict_weight: Size of the verdict-accuracy term (0 disables it).
        solver: What the solver/editor earns for its final answer (see :func:`solver_final_reward`).
    """

    critic: CriticReward = "improvement"
    verdict_weight: float = 0.5
    solver: SolverReward = "binary"

    def __post_init__(self) -> None:
        if self.critic not in CRITIC_REWARDS:
            accepted = ", ".join(CRITIC_REWARDS)
            raise ConfigError(f"critic reward must be one of {accepted}; got {self.critic!r}")
        if self.solver not in SOLVER_REWARDS:
            accepted = ", ".join(SOLVER_REWARDS)
            raise ConfigError(f"solver reward must be one of {accepted}; got {self.solver!r}")
        weight = self.verdict_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < float("inf"):
            raise ConfigError(f"verdict_weight must be a finite number >= 0; got {weight!r}")

    @classmethod
    def coerce(
        cls, value: CritiqueRewards | Mapping[str, object] | None, **defaults: object
    ) -> CritiqueRewards:
        """Accept a config, a dict of its fields (over ``defaults``), or ``None`` (the defaults)."""
        if isinstance(value, CritiqueRewards):
            return value
        if value is None:
            return cls(**defaults)  # type: ignore[arg-type]
        if isinstance(value, Mapping):
            unknown = set(value) - {"critic", "verdict_weight", "solver"}
            if unknown:
                raise ConfigError(
                    f"unknown reward options {sorted(unknown)}; accepted: critic, verdict_weight, solver"
                )
            return cls(**{**defaults, **value})  # type: ignore[arg-type]
        raise ConfigError(f"rewards must be a CritiqueRewards, a dict or None; got {type(value).__name__}")
