"""PettingZoo views of a :class:`~.game.CritiqueGame`: a turn-based AEC env and a parallel env.

Both drive the same game object, so rewards, observations and infos are the same whichever API a
trainer uses. The parallel view keeps the game's turn order: at each ``step`` only the seat whose
move it is (``infos[seat]["acting"]``) is read; the other seat's action is ignored and its
observation stays the same. Observations and actions are ``gymnasium.spaces.Text``, as in the
single-agent envs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv, ParallelEnv

from feedback_gym.errors import ConfigError, EpisodeEndedError
from feedback_gym.text import MAX_ACTION_CHARS, MAX_OBSERVATION_CHARS, text_space

from .game import CritiqueGame

RENDER_MODES = ["ansi", "human"]


class TextObservation(str):
    """A ``str`` that also carries the ``dtype`` of ``gymnasium.spaces.Text`` (``<U``).

    PettingZoo's API test compares every observation's ``dtype`` with its space's, as it would for
    a NumPy array; a plain ``str`` has none. Everything else treats it as the text it is.

    >>> obs = TextObservation("hello")
    >>> obs == "hello", obs.dtype == text_space(8).dtype
    (True, True)
    """

    __slots__ = ()
    dtype = np.dtype(str)


def _check_render_mode(render_mode: str | None) -> str | None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ConfigError(f"render_mode must be None or one of {RENDER_MODES}; got {render_mode!r}")
    return render_mode


class _GameView:
    """What both views share: the game, its seats' spaces, seeding, ``render`` and ``close``.

    Every seat gets the same Text space objects on every call (PettingZoo requires identical objects).
    """

    def __init__(self, game: CritiqueGame, render_mode: str | None = None) -> None:
        self.game = game
        self.metadata = {"name": game.name, "render_modes": RENDER_MODES, "is_parallelizable": True}
        self.render_mode = _check_render_mode(render_mode)
        self.possible_agents = list(game.seats)
        self.agents: list[str] = []
        self.observation_spaces: dict[str, spaces.Space] = {
            s: text_space(MAX_OBSERVATION_CHARS) for s in game.seats
        }
        self.action_spaces: dict[str, spaces.Space] = {s: text_space(MAX_ACTION_CHARS) for s in game.seats}
        self.np_random, _ = seeding.np_random(None)
        self._seeded = False

    def _start(self, seed: int | None, options: dict[str, Any] | None) -> None:
        """Seed on the first reset (or when a seed is given) and start the game's episode."""
        if seed is not None or not self._seeded:
            self.np_random, _ = seeding.np_random(seed)
            self._seeded = True
        self.game.reset(self.np_random, options)
        self.agents = list(self.possible_agents)

    def observation_space(self, agent: str) -> spaces.Space:
        """The observation space of ``agent``."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """The action space of ``agent``."""
        return self.action_spaces[agent]

    def render(self) -> str | None:
        """``"ansi"`` returns the transcript; ``"human"`` prints the newest move."""
        if self.render_mode == "ansi":
            return self.game.render_transcript()
        if self.render_mode == "human":
            print(self.game.render_last_move())
        return None

    def close(self) -> None:
        """Release the family environment."""
        self.game.close()


class CritiqueAECEnv(_GameView, AECEnv):
    """Turn-based (AEC) critique game: seats act in the game's order, rewards accrue to both.

    Use the module functions (``solver_critic_v0.env()``), which add PettingZoo's order check.
    ``oracle_action(agent)`` gives a reference move for a seat.
    """

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode (``options``: ``task_id``, ``task`` or ``task_index``)."""
        self._start(seed, options)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: self.game.info(agent) for agent in self.agents}
        self.agent_selection = self.game.acting  # type: ignore[assignment]
        self._skip_agent_selection = None

    def observe(self, agent: str) -> str:
        """The newest message addressed to ``agent``."""
        return TextObservation(self.game.observation(agent))

    def step(self, action: object) -> None:
        """Play the selected seat's move (``None`` for a seat that is already done)."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)  # type: ignore[arg-type]
            return
        self._cumulative_rewards[agent] = 0.0
        earned = self.game.play(action)
        self.rewards = {a: float(sum(earned[a].values())) for a in self.agents}
        over = self.game.over
        for a in self.agents:
            self.terminations[a] = over
            self.infos[a] = self.game.info(a)
        self.agent_selection = self.game.acting if not over else self.agents[0]  # type: ignore[assignment]
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def oracle_action(self, agent: str | None = None) -> str:
        """A reference move for ``agent`` (default: the seat to act)."""
        return self.game.oracle_action(agent or self.agent_selection)


class CritiqueParallelEnv(_GameView, ParallelEnv):
    """Parallel view of the critique game: every step takes a dict of actions, reads the acting seat's.

    ``infos[seat]["acting"]`` says whose action the next step reads. A missing action for the
    acting seat is judged like any unreadable action (feedback and no reward), never a crash.
    """

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        """Start an episode; return every seat's observation and info."""
        self._start(seed, options)
        return (
            {a: TextObservation(self.game.observation(a)) for a in self.agents},
            {a: self.game.info(a) for a in self.agents},
        )

    def step(self, actions: dict[str, Any]) -> tuple[
        dict[str, str], dict[str, float], dict[str, bool], dict[str, bool], dict[str, dict[str, Any]]
    ]:
        """Play the acting seat's move from ``actions``; other seats' actions are ignored."""
        if not self.agents:
            raise EpisodeEndedError("this episode has ended; call reset() to start a new one")
        seats = list(self.agents)
        earned = self.game.play(actions.get(self.game.acting) if isinstance(actions, dict) else None)
        over = self.game.over
        observations = {a: TextObservation(self.game.observation(a)) for a in seats}
        rewards = {a: float(sum(earned[a].values())) for a in seats}
        terminations = dict.fromkeys(seats, over)
        truncations = dict.fromkeys(seats, False)
        infos = {a: self.game.info(a) for a in seats}
        if over:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def oracle_action(self, agent: str | None = None) -> str:
        """A reference move for ``agent`` (default: the seat to act)."""
        seat = agent or self.game.acting
        if seat is None:
            raise EpisodeEndedError("the episode is over; call reset()")
        return self.game.oracle_action(seat)
