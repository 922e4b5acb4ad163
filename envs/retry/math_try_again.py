"""``MathTryAgain-v0``: the maths family played with a bare "try again" between attempts."""

from __future__ import annotations

from typing import Any

from feedback_gym.envs.math.env import MathCritiqueEnv


class MathTryAgainEnv(MathCritiqueEnv):
    r"""Solve a maths problem; learn only that the answer is wrong; try again.

    ## Description
    :class:`~feedback_gym.envs.math.env.MathCritiqueEnv` with unary feedback, the setting of "A
    Simple 'Try Again'" (UFO): after a wrong answer the agent is told only to try again, until it
    answers correctly or the turn budget runs out. The same tasks with ``feedback="critique"`` or
    ``"in_place"`` (the maths family's critics) or ``"reject_previous"`` (the answers already
    rejected, Feedback Friction's mitigation) measure what richer feedback adds to a bare retry.

    ## Observation
    The problem; then a "try again" phrasing sampled with the env's rng from a configurable set
    (``feedback_options={"phrasings": [...]}``). A reply with no readable answer is told so.

    ## Action
    A worked solution ending with ``Answer: ...`` or ``\boxed{...}``. ``<give_up>`` ends the episode.

    ## Reward
    1.0 for a correct answer. The retry literature's turn-minimising rewards are options, e.g.
    ``reward={"turn_discount": 0.8, "repetition_penalty": 0.1}`` (success on turn t is worth
    0.8**(t-1); an answer given before costs 0.1). Parts are in ``info["reward_components"]``;
    ``info["episode_metrics"]`` holds the success@turn-k curve, repetitions and feedback friction
    when the episode ends.

    ## Episode End
    Terminated when solved or on ``<give_up>``; truncated after ``max_turns`` (default 5).

    ## Arguments
    Every argument of :class:`~feedback_gym.envs.math.env.MathCritiqueEnv` (``source``,
    ``families``, ``difficulty``, ``seed``, ``reward``, ``max_turns``...); ``feedback`` defaults to
    ``"unary"``.

    ## Version History
    - v0: initial release.
    """

    def __init__(self, source: Any = "generated", **kwargs: Any) -> None:
        kwargs.setdefault("feedback", "unary")
        kwargs.setdefault("max_turns", 5)
        super().__init__(source, **kwargs)
