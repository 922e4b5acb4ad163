"""The policy protocol: a batch of conversations in, a batch of replies out.

Every agent in feedback-gym (the reference transformers policy, the baselines, a user's own object)
implements :class:`Policy`, so the benchmark runner, the rollout code and the trainers never care
which one they drive. Specs such as ``"oracle"`` or ``"hf:path"`` become policies through
:func:`make_policy`.

It lives in the core because environments use policies too (frozen seats of the multi-agent games,
model critics): envs import this module, never :mod:`feedback_gym.agents`. The specs that need the
agents extras (``hf:``, ``openai:``, ``tiny-random``, ``smollm2``) are registered by modules named
in :data:`OPTIONAL_FACTORY_MODULES`, imported by name on first use (as Gymnasium's string entry
points are), so importing the core never imports torch or the agents.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from feedback_gym.errors import ConfigError, require_int

Conversation = Sequence[Mapping[str, str]]


@dataclass
class Reply:
    """One reply of a policy, with token-level data when the policy has it.

    ``token_ids``/``logprobs`` cover the reply's own tokens (what a trainer updates);
    ``prompt_tokens``/``completion_tokens`` are counts for cost metrics.
    """

    text: str
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Policy(Protocol):
    """Maps conversations (lists of ``{"role", "content"}``) to replies.

    ``envs``, when given, holds the environment each conversation comes from (one per
    conversation, unwrapped); only privileged baselines such as the oracle look at it.
    """

    name: str

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        """Return one reply per conversation."""
        ...

    def identity(self) -> dict[str, Any]:
        """What is needed to reproduce this policy's results (model, revision, sampling)."""
        ...


class OraclePolicy:
    """Plays each environment's reference action (``env.unwrapped.oracle_action()``)."""

    name = "oracle"

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        """Return the oracle action of each environment."""
        if envs is None or len(envs) != len(conversations):
            raise ConfigError("the oracle policy needs the environment of every conversation (envs=...)")
        return [Reply(getattr(env, "unwrapped", env).oracle_action()) for env in envs]

    def identity(self) -> dict[str, Any]:
        """The oracle has no parameters."""
        return {"policy": "oracle"}


class RandomPolicy:
    """Replies with random printable text: the floor any learned policy must beat."""

    name = "random"

    def __init__(self, seed: int = 0, max_chars: int = 64) -> None:
        require_int("max_chars", max_chars, minimum=1)
        self.seed = seed
        self.max_chars = max_chars
        self._rng = np.random.default_rng(seed)
        self._alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789 +-*/()=\n"))

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        """Return one random string per conversation."""
        replies = []
        for _ in conversations:
            length = int(self._rng.integers(1, self.max_chars + 1))
            replies.append(Reply("".join(self._rng.choice(self._alphabet, size=length))))
        return replies

    def identity(self) -> dict[str, Any]:
        """The seed and length bound."""
        return {"policy": "random", "seed": self.seed, "max_chars": self.max_chars}


#: Spec prefixes and the factories that build them; ``make_policy`` tries them in order.
#: Other modules (the transformers policies, the endpoint policy) add entries here.
POLICY_FACTORIES: dict[str, Callable[..., Policy]] = {
    "oracle": lambda rest, **kw: OraclePolicy(),
    "random": lambda rest, **kw: RandomPolicy(**kw),
}


def _python_object(rest: str, **kwargs: Any) -> Policy:
    module_name, _, attribute = rest.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"a python policy spec is 'python:module:object'; got 'python:{rest}'")
    obj = getattr(importlib.import_module(module_name), attribute)
    policy = obj(**kwargs) if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "act")) else obj
    if not isinstance(policy, Policy):
        raise ConfigError(f"python:{rest} is not a Policy (it needs .name, .act() and .identity())")
    return policy


POLICY_FACTORIES["python"] = _python_object


def make_policy(spec: str, **kwargs: Any) -> Policy:
    """Build a policy from a spec string.

    ``"oracle"``, ``"random"`` and ``"python:module:object"`` always work; ``"tiny-random"``,
    ``"smollm2"``, ``"hf:PATH_OR_ID"`` and ``"openai:BASE_URL#MODEL"`` come with the agents
    extras (see ``feedback_gym.agents``).

    >>> make_policy("oracle").name
    'oracle'
    >>> make_policy("nonsense")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown policy spec 'nonsense'; accepted: oracle, random, python:...
    """
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"a policy spec must be a non-empty string; got {spec!r}")
    _load_optional_factories()
    head, sep, rest = spec.partition(":")
    factory = POLICY_FACTORIES.get(head)
    if factory is None:
        accepted = ", ".join(k + (":..." if k in _PREFIXED else "") for k in POLICY_FACTORIES)
        raise ConfigError(f"unknown policy spec {spec!r}; accepted: {accepted}")
    return factory(rest if sep else "", **kwargs)


_PREFIXED = {"python", "hf", "openai"}
#: Modules that register more factories when imported (they may need optional extras).
OPTIONAL_FACTORY_MODULES: tuple[str, ...] = ("feedback_gym.agents.specs",)


def _load_optional_factories() -> None:
    for module_name in OPTIONAL_FACTORY_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue
            raise
