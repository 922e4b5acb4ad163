"""solver_critic_v0: a solver answers, a critic critiques, the solver revises, for N rounds.

## Description
A two-seat PettingZoo game over any feedback-gym family's tasks (Countdown by default; a math or
code family by id). The solver writes an answer; the critic reads the task and the answer and
writes a critique; the solver revises after reading it; critique and revision repeat ``rounds``
times. It is the actor/critic loop of RefCritic and AutoMathCritique, and MAgICoRe's
solver/reviewer/refiner with the solver as its own refiner.

## Agents
``solver_0`` (answers and revises) and ``critic_0`` (critiques). Moves: solver, then
(critic, solver) x ``rounds``.

## Observation
Text (``gymnasium.spaces.Text``): the newest message to the seat. The solver first sees the task,
then each critique; the critic sees the task and the answer it must judge (with the family's
``critic_feedback`` rendering of the checker's verdict when set). ``infos[seat]["messages"]``
holds each seat's own conversation.

## Action
Text. The solver's answers are judged by the family's verifier (junk gets an invalid verdict; the
solver's ``<give_up>`` ends the game). The critic ends its critique with a line
``VERDICT: correct`` or ``VERDICT: incorrect`` (see :func:`.rewards.parse_critic_verdict`).

## Reward
- Solver: on its last move, 1.0 when the final answer is correct (``rewards={"solver": "score"}``:
  the final answer's score).
- Critic, per round: the improvement it caused, +1 (wrong to right), -1 (right to wrong), else 0,
  paid when the solver revises; plus ``verdict_weight`` (default 0.5) when its stated verdict
  matches the checker, minus it when it does not, nothing when it states none. An unreadable
  critique earns nothing that round. Components are in ``infos[seat]["reward_components"]``.

## Episode End
Terminated for both seats after the solver's last revision (or when the solver gives up).

## Arguments
``family`` (an env id or ``FeedbackEnv``, default ``"Countdown-v0"``), ``family_kwargs``,
``rounds`` (default 1), ``rewards`` (dict: ``critic`` = ``improvement|score|score_gain``,
``verdict_weight``, ``solver`` = ``binary|score``), ``critic_feedback`` (a family feedback mode
shown to the critic, default none), ``render_mode``.

>>> game = env(rounds=1)
>>> game.reset(seed=0)
>>> game.step("<answer>1 + 1</answer>")           # the solver's (wrong) first answer
>>> game.step(game.unwrapped.oracle_action())     # the checker-guided critic says so
>>> game.step(game.unwrapped.oracle_action())     # the solver fixes it
>>> game.unwrapped.rewards
{'solver_0': 1.0, 'critic_0': 1.0}

## Version History
- v0: initial release.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from feedback_gym.env import FeedbackEnv

from .game import CritiqueGame
from .rewards import CritiqueRewards
from .views import CritiqueAECEnv, CritiqueParallelEnv

SOLVER = "solver_0"
CRITIC = "critic_0"


class SolverCriticGame(CritiqueGame):
    """The rules of ``solver_critic_v0`` (see the module docstring)."""

    name = "solver_critic_v0"

    def __init__(
        self,
        family: str | FeedbackEnv = "Countdown-v0",
        *,
        rounds: int = 1,
        rewards: CritiqueRewards | Mapping[str, Any] | None = None,
        critic_feedback: str | None = None,
        family_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            family,
            solver=SOLVER,
            critic=CRITIC,
            rounds=rounds,
            rewards=rewards,
            solver_opens=True,
            critic_feedback=critic_feedback,
            family_kwargs=family_kwargs,
        )


def raw_env(render_mode: str | None = None, **kwargs: Any) -> CritiqueAECEnv:
    """The AEC env without PettingZoo's order-enforcing wrapper (arguments as in :func:`env`)."""
    return CritiqueAECEnv(SolverCriticGame(**kwargs), render_mode=render_mode)


def env(render_mode: str | None = None, **kwargs: Any) -> OrderEnforcingWrapper:
    """The turn-based (AEC) env; see the module docstring for the arguments."""
    return OrderEnforcingWrapper(raw_env(render_mode=render_mode, **kwargs))


def parallel_env(render_mode: str | None = None, **kwargs: Any) -> CritiqueParallelEnv:
    """The parallel env (the acting seat's action is read each step; see ``views.py``)."""
    return CritiqueParallelEnv(SolverCriticGame(**kwargs), render_mode=render_mode)
