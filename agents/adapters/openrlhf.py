r"""OpenRLHF adapter: an ``--agent_func_path`` module that plays feedback-gym environments.

OpenRLHF's multi-turn executor drives an ``AgentInstance``: ``await reset({"observation": prompt,
"label": label})`` returns ``{"observation": text}``; then, after each generation,
``await step({"observation_text", "action_text", "label", "sampling_params"})`` returns
``{"rewards": tensor, "scores": tensor, "environment_feedback": text, "done": bool,
"sampling_params", "extra_logs"}``. The executor appends the action tokens and the tokenised
feedback text to the transcript and masks the feedback out of the loss. The module it loads must
define ``AgentExecutor`` (here a ``MultiTurnAgentExecutor`` over ``AgentInstance``).

Use it by pointing OpenRLHF at this file and naming the environment in the environment::

    export FEEDBACK_GYM_ENV=Countdown-v0
    export FEEDBACK_GYM_ENV_KWARGS='{"max_turns": 3, "feedback": "tests"}'
    export FEEDBACK_GYM_TOKENIZER=Qwen/Qwen2.5-1.5B-Instruct   # whose chat template frames feedback
    AGENT=$(python -c 'import feedback_gym.agents.adapters.openrlhf as m; print(m.__file__)')
    python -m openrlhf.cli.train_ppo_ray ... --train.agent_func_path "$AGENT"

with a prompt dataset exported by :func:`feedback_gym.agents.adapters.trl.task_rows` (the
``task_id`` column as the label key, the chat template applied to ``prompt``), so that every
sample of a prompt plays the same task. Or build the classes in your own agent file with
:func:`make_agent_classes`.

When OpenRLHF is not installed, small stand-ins for its two base classes keep this module
importable and testable; the contract is the same.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym

from feedback_gym.agents.rollout import chatml, feedback_turn_text
from feedback_gym.conversation import opening
from feedback_gym.env_ids import resolve_env_id
from feedback_gym.errors import ConfigError

try:  # pragma: no cover - exercised only where OpenRLHF is installed
    from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor
except ImportError:

    class AgentInstanceBase:  # type: ignore[no-redef]
        """Stand-in for ``openrlhf.utils.agent.AgentInstanceBase`` (same methods)."""

        async def reset(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            """Return the initial states unchanged."""
            return states

        async def step(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            """Play one action (subclasses implement it)."""
            raise NotImplementedError

    class MultiTurnAgentExecutor:  # type: ignore[no-redef]
        """Stand-in for ``openrlhf.utils.agent.MultiTurnAgentExecutor`` (keeps the instance class)."""

        def __init__(self, agent_instance_cls: type[AgentInstanceBase]) -> None:
            if not issubclass(agent_instance_cls, AgentInstanceBase):
                raise TypeError("AgentInstance must inherit from AgentInstanceBase")
            self.agent_instance_cls = agent_instance_cls


#: End-of-turn markers removed from the end of an action before the environment sees it.
DEFAULT_STOP_TEXTS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>")


class FeedbackGymAgentInstance(AgentInstanceBase):
    """One episode of a feedback-gym environment, one instance per prompt (OpenRLHF's contract).

    Class attributes set by :func:`make_agent_classes`: ``env_id``, ``env_kwargs``, ``render``
    (renders chat messages; frames the feedback turns) and ``stop_texts``.
    """

    env_id: ClassVar[str] = ""
    env_kwargs: ClassVar[dict[str, Any]] = {}
    render: ClassVar[Callable[[list[dict[str, str]], bool], str]] = staticmethod(chatml)
    stop_texts: ClassVar[tuple[str, ...]] = DEFAULT_STOP_TEXTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not self.env_id:
            raise ConfigError("build the agent with make_agent_classes(env_id) or set FEEDBACK_GYM_ENV")
        self.env = gym.make(self.env_id, **self.env_kwargs)
        self.total_reward = 0.0
        self.done = False

    async def reset(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Start the episode on the task named by the label (a task id); keep the prompt as given.

        An empty prompt is replaced by the task rendered with the chat template.
        """
        label = states.get("label")
        options = {"task_id": str(label)} if label else None
        observation, _ = self.env.reset(options=options)
        self.total_reward, self.done = 0.0, False
        prompt = states.get("observation")
        if not (isinstance(prompt, str) and prompt.strip()):
            prompt = type(self).render(opening(str(observation)), True)
        return {"observation": prompt}

    async def step(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Judge the action; return its reward and the feedback framed as the next chat turn."""
        import torch

        action, finished = self._strip_stop(str(states.get("action_text", "")))
        if self.done:
            reward, feedback, info, self.done = 0.0, "", {}, True
        else:
            observation, reward, terminated, truncated, info = self.env.step(action)
            self.done = bool(terminated or truncated)
            feedback = (
                ""
                if self.done
                else feedback_turn_text(type(self).render, str(observation), self.stop_texts, finished)
            )
        self.total_reward += float(reward)
        return {
            "rewards": torch.tensor(float(reward)),
            "scores": torch.tensor(self.total_reward),
            "environment_feedback": feedback,
            "done": self.done,
            "sampling_params": states.get("sampling_params"),
            "extra_logs": {
                "solved": float(bool(info.get("solved"))),
                "turn": float(info.get("turn", 0)),
                "score": float(info.get("score", 0.0)),
            },
        }

    def _strip_stop(self, action: str) -> tuple[str, bool]:
        """Remove a trailing end-of-turn marker; report whether there was one."""
        stripped = action.rstrip()
        for stop in self.stop_texts:
            if stop and stripped.endswith(stop):
                return stripped[: -len(stop)], True
        return action, False


def make_agent_classes(
    env_id: str, tokenizer: Any | str | None = None, **env_kwargs: Any
) -> tuple[type[FeedbackGymAgentInstance], type[MultiTurnAgentExecutor]]:
    """``(AgentInstance, AgentExecutor)`` classes for OpenRLHF playing ``env_id``.

    Args:
        env_id: a registered environment id.
        tokenizer: a tokenizer (or a path / hub id to load one) whose chat template frames the
            feedback turns and whose end-of-sequence token ends replies; ``None`` uses ChatML.
        **env_kwargs: passed to ``gym.make``.
    """
    resolve_env_id(env_id)  # a `module:Env-v0` id imports its module; an unknown id is refused
    attributes: dict[str, Any] = {"env_id": env_id, "env_kwargs": dict(env_kwargs)}
    if tokenizer is not None:
        if isinstance(tokenizer, str):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(tokenizer)

        def render(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
            return tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=add_generation_prompt
            )

        stops = [t for t in (tokenizer.eos_token, "<|im_end|>") if t and t in tokenizer.get_vocab()]
        attributes.update(
            render=staticmethod(render), stop_texts=tuple(dict.fromkeys(stops)) or DEFAULT_STOP_TEXTS
        )
    name = re.sub(r"\W", "", env_id.replace("-", "_"))
    instance_cls = type(f"{name}AgentInstance", (FeedbackGymAgentInstance,), attributes)

    def __init__(self: MultiTurnAgentExecutor) -> None:
        MultiTurnAgentExecutor.__init__(self, instance_cls)

    executor_cls = type(f"{name}AgentExecutor", (MultiTurnAgentExecutor,), {"__init__": __init__})
    return instance_cls, executor_cls


def _from_environment() -> tuple[type[FeedbackGymAgentInstance], type[MultiTurnAgentExecutor]]:
    env_id = os.environ.get("FEEDBACK_GYM_ENV")
    if not env_id:
        raise ConfigError("set FEEDBACK_GYM_ENV to the environment id OpenRLHF should train on")
    try:
        env_kwargs = json.loads(os.environ.get("FEEDBACK_GYM_ENV_KWARGS") or "{}")
    except json.JSONDecodeError as err:
        raise ConfigError(f"FEEDBACK_GYM_ENV_KWARGS is not JSON: {err}") from None
    import feedback_gym  # noqa: F401 - registers the ids when loaded by file path

    return make_agent_classes(env_id, os.environ.get("FEEDBACK_GYM_TOKENIZER") or None, **env_kwargs)


def __getattr__(name: str) -> Any:
    """``AgentInstance`` and ``AgentExecutor``, built from the environment variables on first use."""
    if name in ("AgentInstance", "AgentExecutor"):
        instance_cls, executor_cls = _from_environment()
        globals().update(AgentInstance=instance_cls, AgentExecutor=executor_cls)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
