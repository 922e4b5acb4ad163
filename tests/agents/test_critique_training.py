"""Training with critique: refinement samples, reflection memory, in-place prefixes, live seats.

Critique-GRPO's refinement samples and shaping, Reflexion's memory in the trainer, in-place edit
prefixes continued token-in/token-out, and both seats of a game trained by one live policy.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from feedback_gym.agents.grpo import clipped_pg_loss, split_refinements, train
from feedback_gym.agents.memory import MEMORY_HEADER, MemoryStore, ReflectionMemory
from feedback_gym.agents.rollout import collect_episodes, make_rollout_envs
from feedback_gym.agents.train_args import Args
from feedback_gym.errors import ConfigError

from .learning_env import DigitsEnv


def _args(tmp_path, **overrides):
    values = dict(env="digits", model="tiny-random", steps=2, out=str(tmp_path / "run"), tasks_per_step=2,
                  group_size=2, max_new_tokens=6, learning_rate=1e-2, progress=False, checkpoint_every=10,
                  device="cpu", transcripts_per_step=4)
    values.update(overrides)
    return Args(**values)


def _metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_refinements_join_the_group_as_samples_and_shaping_trains(tmp_path):
    args = _args(tmp_path, refinement_samples=True, refinement_shaping=0.1)
    metrics = train(args, env_factory=lambda: DigitsEnv(max_turns=3))
    assert metrics["refinement_samples"] > 0
    assert metrics["samples"] == 4 + metrics["refinement_samples"]  # 2 tasks x 2 episodes, plus refinements
    assert metrics["total_tokens"] == metrics["prompt_tokens"] + metrics["policy_tokens"]
    assert np.isfinite(metrics["loss"]) and metrics["grad_norm"] > 0


def test_refinement_options_are_checked():
    with pytest.raises(ConfigError, match="needs refinement_samples"):
        Args(refinement_shaping=0.1).validate()
    with pytest.raises(ConfigError, match="refinement_context"):
        Args(refinement_samples=True, refinement_context="critique").validate()


def test_split_refinements_of_a_real_rollout_keep_each_reply_once(tiny_policy):
    envs = make_rollout_envs(lambda: DigitsEnv(max_turns=3), 4)
    episodes, _ = collect_episodes(tiny_policy, envs, [5, 6], 2)
    envs.close()
    samples = split_refinements(episodes, "prompt")
    assert len(samples) == sum(e.turns for e in episodes)
    assert sum(s.policy_tokens for s in samples) == sum(e.policy_tokens for e in episodes)
    for episode in episodes:
        assert episode.prompt_tokens == sum(start for start, _ in episode.turn_spans)  # context per reply
        prompt = episode.token_ids[: episode.turn_spans[0][0]]
        own = [s for s in samples if s.messages is episode.messages]
        for sample, (start, end) in zip(own, episode.turn_spans, strict=True):
            assert sample.token_ids == prompt + episode.token_ids[start:end]
            assert sample.policy_mask == [0] * len(prompt) + [1] * (end - start)


def test_shaping_replaces_the_ratio_by_p_over_p_plus_gamma():
    logprobs = torch.log(torch.tensor([[0.5, 0.2], [0.5, 0.2]])).requires_grad_()
    mask = torch.ones(2, 2)
    loss, _ = clipped_pg_loss(logprobs, logprobs.detach(), torch.tensor([1.0, 1.0]), mask, 0.2, 4.0,
                              shaped=torch.tensor([False, True]), shaping_gamma=0.1)
    loss.backward()
    grad = logprobs.grad
    assert torch.allclose(grad[0], torch.full((2,), -0.25))  # plain ratio: d(-r)/dlogp = -1, over 4 tokens
    p = torch.tensor([0.5, 0.2])
    assert torch.allclose(grad[1], -(0.1 * p / (p + 0.1) ** 2) / 4)  # d(-p/(p+g))/dlogp = -g p/(p+g)^2


def test_reflection_memory_opens_the_same_tasks_next_episode():
    store = MemoryStore()
    env = ReflectionMemory(gym.make("Countdown-v0", max_turns=1), store=store)
    obs, info = env.reset(options={"task_index": 2})
    assert info["reflections"] == [] and not obs.startswith(MEMORY_HEADER)
    *_, info = env.step("<answer>1 + 1</answer>")
    assert "`<answer>1 + 1</answer>`" in info["reflection"] and len(store) == 1
    other = ReflectionMemory(gym.make("Countdown-v0", max_turns=1), store=store)  # a copy sharing the store
    obs, info = other.reset(options={"task_index": 2})
    assert obs.startswith(MEMORY_HEADER) and info["reflections"] == [store.recall(info["task_id"])[0]]
    assert not other.reset(options={"task_index": 3})[0].startswith(MEMORY_HEADER)


class FixedTask(gym.Wrapper):
    """Always the same task, so reflections written in one step reach the next."""

    def reset(self, **kwargs: Any):
        return self.env.reset(seed=kwargs.get("seed"), options={"task_index": 0})


def test_the_trainer_carries_the_live_policys_reflections_across_steps(tmp_path):
    args = _args(tmp_path, reflection_memory=True, max_new_tokens=4)
    train(args, env_factory=lambda: FixedTask(DigitsEnv(max_turns=1)))
    lines = [json.loads(line) for line in (tmp_path / "run" / "transcripts.jsonl").read_text().splitlines()]
    first = [r for r in lines if r["step"] == 1]
    later = [r for r in lines if r["step"] == 2]
    assert not any(r["messages"][0]["content"].startswith(MEMORY_HEADER) for r in first)
    assert any(r["messages"][0]["content"].startswith(MEMORY_HEADER) for r in later)
    with pytest.raises(ConfigError, match="reflection_memory needs"):
        Args(reflection_memory=True, vectorization_mode="async").validate()


class PrefixedDigits(DigitsEnv):
    """Digits with an in-place edit: after a wrong reply the next one must continue ``"12"``."""

    received: list[str]

    def step(self, action: str):
        self.received = [*getattr(self, "received", []), action]
        observation, reward, terminated, truncated, info = super().step(action)
        if not (terminated or truncated):
            info["assistant_prefix"] = "12"
        return observation, reward, terminated, truncated, info


def test_the_rollout_continues_an_assistant_prefix_token_in_token_out(tiny_policy):
    made: list[PrefixedDigits] = []

    def factory() -> PrefixedDigits:
        made.append(PrefixedDigits(max_turns=2, feedback="binary", reward="binary"))
        return made[-1]

    envs = make_rollout_envs(factory, 2)
    episodes, _ = collect_episodes(tiny_policy, envs, [1], 2)
    envs.close()
    prefix_ids = tiny_policy.tokenizer("12", add_special_tokens=False)["input_ids"]
    for episode, env in zip(episodes, made, strict=True):
        if episode.turns < 2:
            continue
        start = episode.turn_spans[1][0]
        assert episode.token_ids[start - len(prefix_ids) : start] == prefix_ids
        assert episode.policy_mask[start - len(prefix_ids) : start] == [0] * len(prefix_ids)
        assert env.received[1].startswith("12") and episode.messages[3]["content"].startswith("12")


def test_transformers_policy_continues_a_trailing_assistant_turn(tiny_policy):
    plain = tiny_policy.encode([{"role": "user", "content": "Q"}])
    continued = tiny_policy.encode([{"role": "user", "content": "Q"},
                                    {"role": "assistant", "content": "x = "}])
    assert continued[: len(plain)] == plain and len(continued) > len(plain)


def test_both_seats_of_a_game_train_with_one_live_policy(tmp_path, tiny_policy):
    from feedback_gym.envs.multiagent import solver_critic_v0
    from feedback_gym.envs.multiagent.seats import LiveSeatsEnv

    seats = set()

    def factory() -> gym.Env:
        env = LiveSeatsEnv(solver_critic_v0.env(family="Countdown-v0"), tiny_policy)
        original = env.reset

        def reset(**kwargs: Any):
            observation, info = original(**kwargs)
            seats.add(info["seat"])
            return observation, info

        env.reset = reset  # type: ignore[method-assign]
        return env

    metrics = train(_args(tmp_path, steps=1, tasks_per_step=4, max_new_tokens=4), env_factory=factory,
                    policy=tiny_policy)
    assert seats == {"solver_0", "critic_0"} and np.isfinite(metrics["loss"]) and metrics["policy_tokens"] > 0
    live = LiveSeatsEnv(solver_critic_v0.env(family="Countdown-v0"), tiny_policy)
    _, info = live.reset(seed=1)  # the critic's seat: the live policy has already answered as the solver
    assert info["seat"] == "critic_0" and info["live_policy"] == tiny_policy.name and "frozen" not in info


def test_an_endpoint_policy_sends_the_prefix_as_a_final_assistant_turn(tiny_policy):
    from feedback_gym.agents.endpoint import OpenAIEndpointPolicy
    from feedback_gym.agents.openai_server import serve

    seen: list[Any] = []

    class Recording:
        name = "recording"

        def act(self, conversations, envs=None):
            seen.extend(conversations)
            return tiny_policy.act(conversations)

        def identity(self):
            return {}

    with serve(Recording(), host="127.0.0.1", model="tiny") as server:
        endpoint = OpenAIEndpointPolicy(server.url, "tiny", max_tokens=4)
        assert endpoint.continues_prefix
        endpoint.act([[{"role": "user", "content": "Q"}, {"role": "assistant", "content": "x = "}]])
    assert seen[-1][-1] == {"role": "assistant", "content": "x = "}  # the server continues it
