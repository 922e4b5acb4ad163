"""``CodeTryAgain-v0``: the code family played with a bare "try again" between attempts."""

from __future__ import annotations

from typing import Any

from feedback_gym.envs.code.env import CodeFeedbackEnv


class CodeTryAgainEnv(CodeFeedbackEnv):
    """Write a program; learn only that it is not right yet; try again.

    ## Description
    :class:`~feedback_gym.envs.code.env.CodeFeedbackEnv` with unary feedback (UFO, "A Simple 'Try
    Again'"): after a failing program the agent is told nothing about which tests failed or why,
    only to try again, until every hidden test passes or the turn budget runs out. It measures
    whether an agent can revise its own program without execution feedback; compare it with
    ``CodeFeedback-v0`` on the same tasks to see what the test feedback is worth.

    ## Observation
    The task and its visible examples after ``reset``; then a "try again" phrasing sampled with the
    env's rng (``feedback_options={"phrasings": [...]}`` replaces the set). ``feedback=`` switches to
    any other variant: ``binary``, ``reject_previous`` (lists the programs already rejected),
    ``score``, ``tests``, ``full``, ``none``. Unreadable replies (no code, an unclosed fence) are
    still told what is wrong.

    ## Action
    Text holding the program (the last fenced code block). ``<give_up>`` ends the episode.

    ## Reward
    1.0 on the step whose program passes every test (``reward="binary"``). For the turn-minimising
    rewards of the retry literature pass e.g. ``reward={"turn_discount": 0.8,
    "repetition_penalty": 0.1, "regression_penalty": 0.2}``: the regression penalty counts the tests
    that passed on the previous attempt and fail now. Parts are in ``info["reward_components"]``;
    ``info["episode_metrics"]`` holds the success@turn-k curve, repetitions, feedback friction and
    regressions when the episode ends.

    ## Episode End
    Terminated when every test passes or on ``<give_up>``; truncated after ``max_turns`` (default 4).

    ## Arguments
    Every argument of :class:`~feedback_gym.envs.code.env.CodeFeedbackEnv` (``tasks``, ``sandbox``,
    ``limits``, ``visible_tests``, ``reward``, ``max_turns``...); ``feedback`` defaults to ``"unary"``.

    ## Version History
    - v0: initial release.
    """

    def __init__(self, tasks: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("feedback", "unary")
        kwargs.setdefault("max_turns", 4)
        super().__init__(tasks, **kwargs)
