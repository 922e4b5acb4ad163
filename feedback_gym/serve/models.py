"""The OpenEnv models every served environment uses: one action, one observation, one state.

One set for all ids, because every feedback-gym env has the same contract: text in, text out, the
Gymnasium ``info`` beside it. Importing this module needs ``openenv-core`` (the ``serve`` extra).
"""

from __future__ import annotations

from typing import Any

from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field


class FeedbackAction(Action):
    """One reply of the agent: ``{"text": "..."}``.

    Text is what environments read; any other JSON value is passed on and answered with the
    environment's "the action must be text" feedback, exactly as in-process.
    """

    text: Any = Field(description="the agent's reply (a str; other values get 'must be text' feedback)")


class FeedbackObservation(Observation):
    """What ``reset``/``step`` return: the newest message, the episode flags and Gymnasium's ``info``.

    ``done`` (OpenEnv's flag) is ``terminated or truncated``; both are given apart, as Gymnasium does.
    ``reward`` is ``None`` after ``reset``.
    """

    text: str = Field(description="the task after reset, the feedback after a step")
    terminated: bool = Field(default=False, description="the task is over on its own terms")
    truncated: bool = Field(default=False, description="the turn budget ran out")
    info: dict[str, Any] = Field(
        default_factory=dict, description="Gymnasium's info: verdict, reward components, metrics (JSON)"
    )


class FeedbackState(State):
    """The session's episode: which env and task, the turn, whether it ended.

    ``oracle_action`` (a reference action for the current task) is filled in only when the server
    was started with ``--expose-oracle``.
    """

    env_id: str = Field(description="the registered id every session of this server plays")
    task_id: str | None = Field(default=None, description="the current task (None before reset)")
    turn: int = Field(default=0, ge=0, description="steps taken in the current episode")
    done: bool = Field(default=False, description="the current episode has ended")
    oracle_action: str | None = Field(default=None, description="a reference action (--expose-oracle)")
