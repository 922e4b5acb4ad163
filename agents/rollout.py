"""Rollouts: groups of multi-turn episodes, stepped concurrently, recorded token by token.

A rollout batch is ``num_tasks`` tasks times ``group_size`` episodes each (the members of a group
share a task, which is what GRPO's group baseline needs). All episodes live in one Gymnasium
vector environment (``gymnasium.make_vec`` works for every registered id; ``"async"`` steps the
environments in subprocesses, so slow verifiers run in parallel), and each turn every unfinished
episode is continued in one batched ``generate`` call.

The turns are those of :mod:`feedback_gym.conversation`, built from the observations, exactly as
the benchmark runner shows them (so feedback a wrapper adds reaches both).

Transcripts are token-in/token-out: the policy continues the exact token ids of its transcript,
and the environment's feedback is appended as the tokens of a chat-template user turn. When the
feedback edited the previous answer in place (``info["assistant_prefix"]``), the prefix's tokens
follow the assistant header as context (policy mask 0), the policy continues them, and the env is
sent prefix + continuation. Nothing is
re-tokenised, so the tokens a trainer scores are the tokens that were sampled, and
``policy_mask`` says which of them the policy produced (1) and which came from the prompt or the
environment (0).

Finished episodes idle until the whole batch ends: the vector env (autoreset ``NEXT_STEP``) resets
them, and they are sent the give-up action, which ends an episode without running a verifier.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from feedback_gym.conversation import assistant_prefix, fed_back, opening, replied
from feedback_gym.env import GIVE_UP_ACTION
from feedback_gym.errors import ConfigError

EnvSource = str | Callable[[], gym.Env]


@dataclass
class Episode:
    """One episode as the trainer sees it.

    Attributes:
        task_id: the task played.
        group: the index of its group in the batch (episodes of one group share the task).
        token_ids: the whole transcript: prompt, replies and feedback, as token ids.
        policy_mask: 1 where the policy sampled the token, 0 for prompt and feedback tokens.
        logprobs: the sampling log-probability of each policy token (0.0 elsewhere).
        rewards: the reward of each turn.
        messages: the same transcript as chat messages (for logs and transcripts).
        solved: whether the episode solved its task.
        cut: whether the transcript hit ``max_transcript_tokens`` before the episode ended.
        turn_spans: ``(start, end)`` token positions of each reply (what a refinement sample keeps).
        shaped: a refinement sample trained with Critique-GRPO's shaping instead of the clipped ratio.
        prompt_tokens: the context tokens the policy read, summed over its replies (what a server
            would bill as prompt tokens; with :attr:`policy_tokens`, the episode's total tokens).
    """

    task_id: str
    group: int
    token_ids: list[int] = field(default_factory=list)
    policy_mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    solved: bool = False
    cut: bool = False
    turn_spans: list[tuple[int, int]] = field(default_factory=list)
    shaped: bool = False
    prompt_tokens: int = 0

    @property
    def reward(self) -> float:
        """The episode's return (sum of turn rewards)."""
        return float(sum(self.rewards))

    @property
    def turns(self) -> int:
        """How many replies the policy gave."""
        return len(self.rewards)

    @property
    def policy_tokens(self) -> int:
        """How many tokens the policy sampled."""
        return int(sum(self.policy_mask))

    def extend(
        self, token_ids: Sequence[int], from_policy: bool, logprobs: Sequence[float] | None = None
    ) -> None:
        """Append tokens, marking whether the policy sampled them."""
        self.token_ids.extend(int(t) for t in token_ids)
        self.policy_mask.extend([int(from_policy)] * len(token_ids))
        self.logprobs.extend(list(logprobs) if logprobs is not None else [0.0] * len(token_ids))

    def truncate(self, length: int) -> None:
        """Drop the tokens after the first ``length`` (the messages are kept for the logs)."""
        del self.token_ids[length:], self.policy_mask[length:], self.logprobs[length:]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (for transcripts files)."""
        record = asdict(self)
        record.update(reward=self.reward, turns=self.turns, policy_tokens=self.policy_tokens)
        return record


Render = Callable[[list[dict[str, str]], bool], str]

_PROBE = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]


def feedback_turn_text(
    render: Render, feedback: str, stop_texts: Sequence[str] = (), reply_finished: bool = True
) -> str:
    r"""The text a chat template puts after an assistant reply to present ``feedback`` as the next user turn.

    ``render(messages, add_generation_prompt)`` renders a conversation (e.g. a tokenizer's
    ``apply_chat_template``). The text is found by rendering a short probe conversation with and
    without the feedback turn; when the policy ended its reply with an end-of-turn token itself
    (``reply_finished``), that token (one of ``stop_texts``) is not repeated.

    >>> feedback_turn_text(chatml, "wrong", ["<|im_end|>"])
    '\n<|im_start|>user\nwrong<|im_end|>\n<|im_start|>assistant\n'
    """
    with_reply = render(_PROBE, False)
    after = render([*_PROBE, {"role": "user", "content": feedback}], True)
    if not after.startswith(with_reply):
        raise ConfigError(
            "this chat template does not render a conversation as a prefix of its continuation, "
            "so multi-turn transcripts cannot be extended token by token; use max_turns=1"
        )
    closing = with_reply[with_reply.rindex("A") + 1 :]
    if reply_finished:
        for stop in stop_texts:
            if stop and closing.startswith(stop):
                closing = closing[len(stop) :]
                break
    return closing + after[len(with_reply) :]


def chatml(messages: Sequence[dict[str, str]], add_generation_prompt: bool) -> str:
    r"""Render messages in ChatML (the template of SmolLM2, Qwen and the tiny test model).

    >>> chatml([{"role": "user", "content": "hi"}], True)
    '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n'
    """
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


class ChatTurns:
    """Turns environment text into tokens that continue a policy's transcript, via its chat template."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.tokenizer = policy.tokenizer
        self._stop_texts = [self.tokenizer.decode([t]) for t in sorted(policy.stop_token_ids)]

    def prompt_ids(self, observation: str) -> list[int]:
        """The tokens of the first turn (system prompt, the task, the assistant header)."""
        return self.policy.encode(opening(observation))

    def feedback_ids(self, feedback: str, reply_finished: bool) -> list[int]:
        """The tokens that close the policy's reply and present ``feedback`` as the next user turn."""
        text = feedback_turn_text(self._render, feedback, self._stop_texts, reply_finished)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def prefix_ids(self, prefix: str) -> list[int]:
        """The tokens of an in-place edit's prefix, placed after the assistant header as context."""
        return self.tokenizer(prefix, add_special_tokens=False)["input_ids"]

    def _render(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        if self.policy.system_prompt:
            messages = [{"role": "system", "content": self.policy.system_prompt}, *messages]
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )


class KeepScalarInfo(gym.Wrapper):
    """Keep only the scalar entries of ``info`` (``task_id``, ``turn``, ``solved``, ``score``...).

    Gymnasium's vector envs merge the infos of their copies key by key and fail when one copy
    reports a dict where another reports ``None`` (as ``verdict`` is before and after the first
    step). A rollout needs only the scalars; the transcript it keeps itself.
    """

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset the wrapped env; drop non-scalar info."""
        observation, info = self.env.reset(**kwargs)
        return observation, _scalars(info)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the wrapped env; drop non-scalar info."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, _scalars(info)


def _scalars(info: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in info.items() if isinstance(v, str | int | float | bool | np.number)}
    kept["assistant_prefix"] = assistant_prefix(info)  # always a str, so vector envs merge it
    return kept


def _wrapped(factory: Callable[[], gym.Env]) -> Callable[[], gym.Env]:
    def make() -> gym.Env:
        return KeepScalarInfo(factory())

    return make


def make_rollout_envs(
    env: EnvSource,
    num_envs: int,
    *,
    vectorization_mode: str = "sync",
    env_kwargs: dict[str, Any] | None = None,
) -> gym.vector.VectorEnv:
    """A vector env of ``num_envs`` copies of ``env`` (a registered id or a constructor).

    ``vectorization_mode="async"`` runs each copy in its own subprocess (worth it when the
    verifier is slow, e.g. code run in a sandbox).
    """
    if num_envs < 1:
        raise ConfigError(f"num_envs must be >= 1; got {num_envs}")
    if vectorization_mode not in ("sync", "async"):
        raise ConfigError(f"vectorization_mode must be 'sync' or 'async'; got {vectorization_mode!r}")
    kwargs = dict(env_kwargs or {})
    vector_kwargs: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP}
    if vectorization_mode == "async":
        # Shared memory would work (feedback_gym.text.FeedbackText), but it holds every observation
        # as a 100 000-character buffer; pipes send the short strings as they are.
        vector_kwargs["shared_memory"] = False
    if isinstance(env, str):
        return gym.make_vec(
            env,
            num_envs=num_envs,
            vectorization_mode=vectorization_mode,
            vector_kwargs=vector_kwargs,
            wrappers=[KeepScalarInfo],
            **kwargs,
        )
    if kwargs:
        raise ConfigError("env_kwargs only apply to a registered id; bind them into the constructor instead")
    vector_class = gym.vector.AsyncVectorEnv if vectorization_mode == "async" else gym.vector.SyncVectorEnv
    return vector_class([_wrapped(env)] * num_envs, **vector_kwargs)


def _prefix_at(info: dict[str, Any], index: int) -> str:
    """Sub-env ``index``'s assistant prefix from a vector env's merged info (``""`` when none)."""
    values = info.get("assistant_prefix")
    if values is None or not info.get("_assistant_prefix", np.ones(index + 1, dtype=bool))[index]:
        return ""
    value = values[index]
    return value if isinstance(value, str) else ""


@dataclass
class RolloutStats:
    """Timing of one rollout batch."""

    seconds: float
    generate_seconds: float
    env_seconds: float
    policy_tokens: int

    @property
    def tokens_per_second(self) -> float:
        """Sampled tokens per second of generation."""
        return self.policy_tokens / self.generate_seconds if self.generate_seconds > 0 else 0.0


def collect_episodes(
    policy: Any,
    envs: gym.vector.VectorEnv,
    task_seeds: Sequence[int],
    group_size: int,
    *,
    max_transcript_tokens: int = 4096,
) -> tuple[list[Episode], RolloutStats]:
    """Play one episode in every sub-env: ``group_size`` per task seed, all turns batched.

    Args:
        policy: a token-level policy (``encode``, ``generate_ids``, ``tokenizer``, ``stop_token_ids``;
            e.g. :class:`~feedback_gym.agents.transformers_policy.TransformersPolicy`).
        envs: a vector env from :func:`make_rollout_envs` with ``len(task_seeds) * group_size`` copies.
        task_seeds: one reset seed per task; group members reset with the same seed, so they
            play the same task.
        group_size: episodes per task.
        max_transcript_tokens: an episode whose transcript grows past this (or past the policy's
            ``max_prompt_tokens``, its context minus one reply) stops early (``cut``).
    """
    num_envs = len(task_seeds) * group_size
    if envs.num_envs != num_envs:
        raise ConfigError(
            f"the vector env has {envs.num_envs} copies; "
            f"{len(task_seeds)} tasks x {group_size} need {num_envs}"
        )
    # A transcript must leave room for one more reply inside the model's context.
    limit = min(max_transcript_tokens, getattr(policy, "max_prompt_tokens", None) or max_transcript_tokens)
    started = time.perf_counter()
    generate_seconds = env_seconds = 0.0
    turns = ChatTurns(policy)
    observations, info = envs.reset(seed=[int(s) for s in task_seeds for _ in range(group_size)])
    episodes = []
    for i in range(num_envs):
        task_id = info["task_id"][i] if "task_id" in info else f"seed-{task_seeds[i // group_size]}"
        episode = Episode(task_id=str(task_id), group=i // group_size)
        episode.extend(turns.prompt_ids(observations[i]), from_policy=False)
        episode.messages = opening(observations[i])
        episode.cut = len(episode.token_ids) >= limit
        episodes.append(episode)
    active = np.array([not e.cut for e in episodes], dtype=bool)
    prefixes = [""] * num_envs  # in-place edits the next reply continues
    while active.any():
        playing = np.flatnonzero(active)
        tick = time.perf_counter()
        generations = policy.generate_ids([episodes[i].token_ids for i in playing])
        generate_seconds += time.perf_counter() - tick
        actions = [GIVE_UP_ACTION] * num_envs
        for i, generation in zip(playing, generations, strict=True):
            start = len(episodes[i].token_ids)
            episodes[i].prompt_tokens += start
            episodes[i].extend(generation.token_ids, from_policy=True, logprobs=generation.logprobs)
            episodes[i].turn_spans.append((start, len(episodes[i].token_ids)))
            actions[i] = prefixes[i] + policy.tokenizer.decode(generation.token_ids, skip_special_tokens=True)
            prefixes[i] = ""
            episodes[i].messages = replied(episodes[i].messages, actions[i])
        tick = time.perf_counter()
        observations, rewards, terminated, truncated, info = envs.step(tuple(actions))
        env_seconds += time.perf_counter() - tick
        for i, generation in zip(playing, generations, strict=True):
            episode = episodes[i]
            episode.rewards.append(float(rewards[i]))
            episode.solved = episode.solved or bool("solved" in info and info["solved"][i])
            if terminated[i] or truncated[i]:
                active[i] = False
                continue
            episode.messages = fed_back(episode.messages, observations[i])
            before = len(episode.token_ids)
            episode.extend(turns.feedback_ids(observations[i], generation.finished), from_policy=False)
            prefixes[i] = _prefix_at(info, i)
            if prefixes[i]:
                episode.extend(turns.prefix_ids(prefixes[i]), from_policy=False)
            if len(episode.token_ids) >= limit:
                # No reply follows, so the feedback tokens would only lengthen the training pass.
                episode.truncate(before)
                episode.cut, active[i] = True, False
    stats = RolloutStats(
        seconds=time.perf_counter() - started,
        generate_seconds=generate_seconds,
        env_seconds=env_seconds,
        policy_tokens=sum(e.policy_tokens for e in episodes),
    )
    return episodes, stats
