r"""Seats: fill every seat but one with a fixed policy and train the remaining one, or train every seat live.

:class:`SingleSeatEnv` wraps a multi-agent (AEC) env. Each time the trained seat is not the one to
act, it asks the frozen policy of the acting seat for its move (``Policy.act`` on that seat's own
conversation) and plays it, so from the outside it is a plain Gymnasium text env: ``reset`` returns
the trained seat's first message, ``step(text)`` returns the next one with the reward the seat
earned in between. Single-agent trainers (the reference GRPO trainer, TRL adapters) can then train a
critic against a frozen solver, or a solver against a frozen critic (Coffee-Gym's frozen editor,
RefCritic's frozen solver). :class:`LiveSeatsEnv` trains every seat with one live policy instead
(self-play: the policy plays the other seats with its current weights). :func:`play_episode` plays
all seats with policies, for evaluation.

>>> from feedback_gym.envs.multiagent import solver_critic_v0
>>> critic = SingleSeatEnv(solver_critic_v0.env(), seat="critic_0", frozen={"solver_0": "oracle"})
>>> obs, info = critic.reset(seed=0)
>>> info["seat"], info["solved"]
('critic_0', True)
>>> critic.step("Every step checks out.\nVERDICT: correct")[1:3]
(0.5, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
from pettingzoo import AECEnv

from feedback_gym.env import check_reset_options
from feedback_gym.errors import ConfigError, EpisodeEndedError
from feedback_gym.policy import Policy, make_policy
from feedback_gym.text import MAX_ACTION_CHARS, MAX_OBSERVATION_CHARS, text_space

from .game import CritiqueGame
from .views import CritiqueAECEnv


class SeatHandle:
    """What a frozen policy sees as its ``env``: the oracle move of one seat (for ``OraclePolicy``)."""

    def __init__(self, env: CritiqueAECEnv, seat: str) -> None:
        self._env = env
        self.seat = seat

    @property
    def unwrapped(self) -> SeatHandle:
        """This handle (policies call ``env.unwrapped.oracle_action()``)."""
        return self

    def oracle_action(self) -> str:
        """The reference move of this seat in the current state."""
        return self._env.oracle_action(self.seat)


def resolve_policies(policies: Mapping[str, Policy | str], seats: list[str]) -> dict[str, Policy]:
    """Check that every key is a seat and turn spec strings (``"oracle"``) into policies."""
    unknown = set(policies) - set(seats)
    if unknown:
        raise ConfigError(f"no seats named {sorted(unknown)}; seats: {', '.join(seats)}")
    resolved = {}
    for seat, policy in policies.items():
        policy = make_policy(policy) if isinstance(policy, str) else policy
        if not isinstance(policy, Policy):
            raise ConfigError(
                f"the policy for {seat!r} must be a Policy (name, act, identity) or a spec string; "
                f"got {type(policy).__name__}"
            )
        resolved[seat] = policy
    return resolved


def _critique_env(env: AECEnv) -> CritiqueAECEnv:
    base = env.unwrapped
    if not isinstance(base, CritiqueAECEnv):
        raise ConfigError(
            "expected a feedback-gym multi-agent AEC env (e.g. solver_critic_v0.env()); "
            f"got {type(base).__name__}"
        )
    return base


def play_move(env: AECEnv, policy: Policy) -> str:
    """Ask ``policy`` for the selected seat's move on that seat's conversation, and play it."""
    base = _critique_env(env)
    seat = base.agent_selection
    reply = policy.act([base.infos[seat]["messages"]], envs=[SeatHandle(base, seat)])[0]
    env.step(reply.text)
    return reply.text


class SingleSeatEnv(gym.Env[str, str]):
    """One seat of a multi-agent critique env as a Gymnasium env; the other seats play frozen policies.

    ## Observation
    Text: the newest message to the trained seat. ``info`` is the seat's info from the game: the
    contract keys (``task_id``, ``turn``, ``solved``, ``score``, ``reward_components``,
    ``feedback_kind``, ``messages``) plus ``seat``, ``round``, ``verdict``, ``critic_verdict``.

    ## Action
    Text: the seat's move (an answer, a revision or a critique).

    ## Reward
    What the seat earned from its move and the frozen moves that followed, up to its next move;
    ``info["reward_components"]`` holds the parts.

    ## Episode End
    Terminated when the game ends; never truncated (the game has a fixed number of rounds).

    ## Arguments
    - ``env``: an AEC env from this package (``solver_critic_v0.env(...)``).
    - ``seat``: the seat to train (``"critic_0"``, ``"solver_0"``, ``"editor_0"``).
    - ``frozen``: a policy (or spec string such as ``"oracle"``) for every other seat.
    - ``render_mode``: ``None``, ``"ansi"`` (the game's transcript) or ``"human"`` (prints the
      seat's newest message after each step).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}

    def __init__(
        self,
        env: AECEnv,
        seat: str,
        frozen: Mapping[str, Policy | str],
        render_mode: str | None = None,
    ) -> None:
        base = _critique_env(env)
        seats = list(base.possible_agents)
        if seat not in seats:
            raise ConfigError(f"unknown seat {seat!r}; seats: {', '.join(seats)}")
        missing = set(seats) - {seat} - set(frozen)
        if missing or seat in frozen:
            raise ConfigError(
                f"frozen must hold a policy for every seat but {seat!r}: {sorted(set(seats) - {seat})}; "
                f"got {sorted(frozen)}"
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode must be None or one of {self.metadata['render_modes']}; got {render_mode!r}"
            )
        self.env = env
        self.seat = seat
        self.frozen = resolve_policies(frozen, seats)
        self.render_mode = render_mode
        self.observation_space = text_space(MAX_OBSERVATION_CHARS)
        self.action_space = text_space(MAX_ACTION_CHARS)
        self._base = base
        self._ended = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a game and play the frozen seats until the trained seat is to move.

        ``options`` accepts ``task_id``, ``task`` or ``task_index``; anything else is refused.
        """
        super().reset(seed=seed)
        check_reset_options(options or {})
        self.env.reset(seed=seed, options=options)
        self._advance()
        self._ended = False
        return self._observation(), self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Play the seat's move, then the frozen seats' moves up to its next turn or the end."""
        if self._ended:
            raise EpisodeEndedError("this episode has ended (or never started); call reset()")
        if not self._base.game.over:  # a frozen seat may have ended the game before our first move
            self.env.step(action)
            self._advance()
        info = self._info()
        terminated = self._base.game.over
        self._ended = terminated
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(sum(info["reward_components"].values())), terminated, False, info

    @property
    def game(self) -> CritiqueGame:
        """The game being played (its task, answers, critiques and every seat's messages)."""
        return self._base.game

    def oracle_action(self) -> str:
        """The reference move of the trained seat in the current state."""
        return self._base.oracle_action(self.seat)

    def render(self) -> str | None:
        """``"ansi"``: the transcript of the game so far; ``"human"``: print the seat's newest message."""
        if self.render_mode == "ansi":
            return self._base.game.render_transcript()
        if self.render_mode == "human":
            print(f"[user]\n{self._observation()}\n")
        return None

    def close(self) -> None:
        """Close the wrapped multi-agent env."""
        self.env.close()

    def _advance(self) -> None:
        while not self._base.game.over and self._base.agent_selection != self.seat:
            play_move(self.env, self.frozen[self._base.agent_selection])

    def _observation(self) -> str:
        return str(self._base.observe(self.seat))

    def _info(self) -> dict[str, Any]:
        info = self._base.game.info(self.seat)
        info["frozen"] = {seat: policy.name for seat, policy in self.frozen.items()}
        return info


def play_episode(
    env: AECEnv,
    policies: Mapping[str, Policy | str],
    *,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """Play one game with a policy per seat; return each seat's return and final info.

    >>> from feedback_gym.envs.multiagent import solver_critic_v0
    >>> players = {"solver_0": "oracle", "critic_0": "oracle"}
    >>> returns, infos = play_episode(solver_critic_v0.env(), players, seed=1)
    >>> returns, infos["solver_0"]["solved"]
    ({'solver_0': 1.0, 'critic_0': 0.5}, True)
    """
    base = _critique_env(env)
    players = resolve_policies(policies, list(base.possible_agents))
    missing = set(base.possible_agents) - set(players)
    if missing:
        raise ConfigError(f"no policy for seats {sorted(missing)}")
    env.reset(seed=seed, options=options)
    returns = dict.fromkeys(base.possible_agents, 0.0)
    while not base.game.over:
        play_move(env, players[base.agent_selection])
        for seat, reward in base.rewards.items():
            returns[seat] += reward
    return returns, {seat: base.game.info(seat) for seat in base.possible_agents}


class LiveSeatsEnv(gym.Env[str, str]):
    """Every seat of a multi-agent critique env trained by one live policy (self-play), as a Gymnasium env.

    Each episode trains one seat, chosen by the reset seed (``seeds[seed % len(seats)]``, so the
    members of a GRPO group, which share a seed, train the same seat); the other seats are played by
    the *same* policy object, so as it learns, so do its opponents: both the solver and the critic
    of ``solver_critic_v0`` improve under one set of weights, with no frozen seat. With the reference
    trainer, build the policy first and pass ``env_factory=lambda: LiveSeatsEnv(game(), policy)``
    together with ``policy=policy`` (``vectorization_mode="sync"``: the envs share the live weights).

    ## Observation, Action, Reward, Episode End
    As in :class:`SingleSeatEnv`, for the seat this episode trains (``info["seat"]``).

    ## Arguments
    - ``env``: an AEC env from this package (``solver_critic_v0.env(...)``).
    - ``policy``: the live policy (a Policy object; a spec string builds a fixed one, for evaluation).
    - ``seats``: the seats to train, in rotation (default: every seat).
    - ``render_mode``: ``None`` or ``"ansi"``.

    >>> from feedback_gym.envs.multiagent import solver_critic_v0
    >>> env = LiveSeatsEnv(solver_critic_v0.env(), "oracle")
    >>> [env.reset(seed=s)[1]["seat"] for s in (0, 1)]
    ['solver_0', 'critic_0']
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        env: AECEnv,
        policy: Policy | str,
        seats: list[str] | None = None,
        render_mode: str | None = None,
    ) -> None:
        base = _critique_env(env)
        every = list(base.possible_agents)
        self.seats = list(seats) if seats is not None else every
        unknown = sorted(set(self.seats) - set(every))
        if unknown or not self.seats:
            raise ConfigError(f"seats must be a non-empty list of {', '.join(every)}; got {seats!r}")
        self.env = env
        self.policy = resolve_policies({every[0]: policy}, every)[every[0]]
        self.render_mode = render_mode
        self.observation_space = text_space(MAX_OBSERVATION_CHARS)
        self.action_space = text_space(MAX_ACTION_CHARS)
        self._every = every
        self._seat_env: SingleSeatEnv | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Pick the seat to train from the seed, and start a game with the live policy in the other seats."""
        super().reset(seed=seed)
        index = seed % len(self.seats) if seed is not None else int(self.np_random.integers(len(self.seats)))
        seat = self.seats[index]
        others = {other: self.policy for other in self._every if other != seat}
        self._seat_env = SingleSeatEnv(self.env, seat, others, render_mode=self.render_mode)
        observation, info = self._seat_env.reset(seed=seed, options=options)
        return observation, self._live(info)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Play the trained seat's move; the live policy plays the other seats up to its next turn."""
        if self._seat_env is None:
            raise EpisodeEndedError("call reset() before step()")
        observation, reward, terminated, truncated, info = self._seat_env.step(action)
        return observation, reward, terminated, truncated, self._live(info)

    def oracle_action(self) -> str:
        """The reference move of the seat this episode trains."""
        if self._seat_env is None:
            raise EpisodeEndedError("call reset() before oracle_action()")
        return self._seat_env.oracle_action()

    def render(self) -> str | None:
        """``"ansi"``: the whole transcript of the game so far."""
        return self._seat_env.render() if self._seat_env is not None else None

    def close(self) -> None:
        """Close the wrapped multi-agent env."""
        self.env.close()

    def _live(self, info: dict[str, Any]) -> dict[str, Any]:
        info.pop("frozen", None)
        info["live_policy"] = self.policy.name
        return info
