"""The conversation a policy sees, built in one place from the observations.

The benchmark runner and the GRPO rollout must show a policy exactly the same turns, or a number
measured by one says nothing about the other. Both build them here, from what ``reset`` and ``step``
return, never from ``info["messages"]``: that list is the unwrapped environment's own record, so
feedback a wrapper adds to the observation (a per-turn critic, a reflection memory) would reach one
and not the other. The first turn is the task, then each action is followed by the observation it
got, as ``{"role", "content"}`` dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Message = dict[str, str]


def opening(observation: str) -> list[Message]:
    """The conversation after ``reset``: the task as the first user turn.

    >>> opening("Reach 24.")
    [{'role': 'user', 'content': 'Reach 24.'}]
    """
    return [{"role": "user", "content": observation}]


def replied(messages: list[Message], action: str) -> list[Message]:
    """``messages`` with the policy's ``action`` appended as its turn (a new list)."""
    return [*messages, {"role": "assistant", "content": action}]


def fed_back(messages: list[Message], observation: str) -> list[Message]:
    """``messages`` with the ``observation`` a step returned appended as the next user turn (a new list)."""
    return [*messages, {"role": "user", "content": observation}]


def continued(messages: list[Message], action: str, observation: str) -> list[Message]:
    """``messages`` with the policy's ``action`` and the ``observation`` it got appended (a new list).

    >>> continued(opening("Reach 24."), "<answer>4*6</answer>", "Correct.")[1:]
    [{'role': 'assistant', 'content': '<answer>4*6</answer>'}, {'role': 'user', 'content': 'Correct.'}]
    """
    return fed_back(replied(messages, action), observation)


def assistant_prefix(info: dict[str, object]) -> str:
    r"""The text the policy's next reply must continue (in-place edit feedback), or ``""``.

    Feedback that edits the previous answer in place (``in_place`` with a critic) says so in
    ``info["assistant_prefix"]`` (or in its ``info["feedback_details"]``); the runner and the rollout
    then ask the policy to continue that text and send prefix + continuation as the action.

    >>> assistant_prefix({"assistant_prefix": "a = 1\n"}), assistant_prefix({"turn": 1})
    ('a = 1\n', '')
    """
    prefix = info.get("assistant_prefix")
    if not prefix:
        details = info.get("feedback_details")
        prefix = details.get("assistant_prefix") if isinstance(details, dict) else None
    return prefix if isinstance(prefix, str) else ""


def to_continue(messages: list[Message], prefix: str) -> list[Message]:
    """``messages`` with ``prefix`` as an unfinished assistant turn the policy continues (a new list).

    >>> to_continue(opening("Q"), "x = ")[-1]
    {'role': 'assistant', 'content': 'x = '}
    >>> to_continue(opening("Q"), "") == opening("Q")
    True
    """
    return [*messages, {"role": "assistant", "content": prefix}] if prefix else list(messages)


@dataclass(frozen=True)
class Turn:
    """One step of :func:`play_episode`: the policy's reply, the action sent, and what the env returned."""

    reply: Any
    action: str
    observation: str
    reward: float
    info: dict[str, Any]


def play_episode(policy: Any, env: Any, *, seed: int | None = None,
                 options: dict[str, Any] | None = None) -> list[Turn]:
    """Play one episode of ``env`` with ``policy`` (a :class:`~feedback_gym.policy.Policy`), turn by turn.

    The loop a script writes when it plays one env at a time: the conversation is built as the runner
    builds it, an in-place edit is continued by a policy that can (``continues_prefix = True``: the
    action is prefix + continuation), and the policy is shown ``env.unwrapped`` (only an oracle looks
    at it). The benchmark runner batches many envs instead (:mod:`feedback_gym.benchmarks.play`).
    """
    continues = bool(getattr(policy, "continues_prefix", False))
    observation, info = env.reset(seed=seed, options=options)
    messages, prefix, turns = opening(observation), "", []
    while True:
        reply = policy.act([to_continue(messages, prefix)], envs=[env.unwrapped])[0]
        action = prefix + reply.text
        observation, reward, terminated, truncated, info = env.step(action)
        turns.append(Turn(reply, action, observation, float(reward), info))
        if terminated or truncated:
            return turns
        messages = continued(messages, action, observation)
        prefix = assistant_prefix(info) if continues else ""
