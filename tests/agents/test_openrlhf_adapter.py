"""The OpenRLHF agent module, driven the way OpenRLHF's MultiTurnAgentExecutor drives it.

OpenRLHF is not installed here; ``run_like_openrlhf`` repeats the executor's loop from
``openrlhf/utils/agent.py`` (reset, then generate -> step -> append action tokens and tokenised
feedback, until done), with a scripted generator in place of vLLM.
"""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from feedback_gym.agents.adapters import openrlhf
from feedback_gym.agents.adapters.openrlhf import AgentInstanceBase, make_agent_classes
from feedback_gym.agents.adapters.trl import task_rows
from feedback_gym.errors import ConfigError

from .conftest import DIGITS_ID as ENV_ID


def run_like_openrlhf(executor, prompt, label, actions, tokenizer):
    """OpenRLHF's multi-turn loop; ``actions`` are (text, ended_with_eos) pairs the 'engine' produces."""
    agent = executor.agent_instance_cls()

    async def episode():
        observation_text = (await agent.reset({"observation": prompt, "label": label}))["observation"]
        tokens = tokenizer(observation_text, add_special_tokens=False)["input_ids"]
        action_ranges, total_reward, results = [], 0.0, []
        for text, eos in actions:
            action_text = text + ("<|im_end|>" if eos else "")
            action_tokens = tokenizer(action_text, add_special_tokens=False)["input_ids"]
            action_ranges.append((len(tokens), len(tokens) + len(action_tokens)))
            states = {
                "observation_text": observation_text,
                "action_text": action_text,
                "label": label,
                "sampling_params": None,
            }
            result = await agent.step(states)
            results.append(result)
            total_reward += result["rewards"].item()
            feedback = result["environment_feedback"]
            observation_text = observation_text + action_text + feedback
            tokens = tokens + action_tokens + tokenizer(feedback, add_special_tokens=False)["input_ids"]
            if result["done"]:
                break
        return observation_text, tokens, action_ranges, total_reward, results

    return asyncio.run(episode())


def test_the_executor_loop_builds_the_chat_transcript_and_collects_the_reward(tiny_policy):
    tokenizer = tiny_policy.tokenizer
    instance_cls, executor_cls = make_agent_classes(ENV_ID, tokenizer, max_turns=3)
    executor = executor_cls()
    assert issubclass(executor.agent_instance_cls, AgentInstanceBase)
    row = task_rows(ENV_ID, 1)[0]
    prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    text, tokens, ranges, total, results = run_like_openrlhf(
        executor, prompt, row["task_id"], [("12 ab", True), ("9 x", False), ("4", True)], tokenizer
    )
    assert text.startswith(prompt + "12 ab<|im_end|>\n<|im_start|>user\n")
    assert text.endswith("<|im_start|>assistant\n4<|im_end|>")
    assert tokenizer.decode(tokens) == text
    assert [r["done"] for r in results] == [False, False, True]
    assert results[1]["environment_feedback"].startswith("<|im_end|>\n")  # the reply hit the length limit
    assert total == pytest.approx(1.0)  # best digit share reached: 1.0
    assert results[-1]["scores"].item() == pytest.approx(1.0) and results[-1]["extra_logs"]["solved"] == 1.0
    assert len(ranges) == 3 and all(start < end for start, end in ranges)


def test_every_sample_of_a_prompt_plays_the_task_of_its_label():
    instance_cls, _ = make_agent_classes("Countdown-v0")
    rows = task_rows("Countdown-v0", 2)
    for row in rows:
        agent = instance_cls()
        asyncio.run(agent.reset({"observation": "x", "label": row["task_id"]}))
        assert agent.env.unwrapped.task.id == row["task_id"]
    agent = instance_cls()
    prompt = asyncio.run(agent.reset({"observation": "", "label": rows[0]["task_id"]}))["observation"]
    assert prompt.startswith("<|im_start|>user\n") and rows[0]["prompt"][0]["content"] in prompt


def test_the_module_loads_by_file_path_as_openrlhf_does(monkeypatch):
    monkeypatch.setenv("FEEDBACK_GYM_ENV", "Countdown-v0")
    monkeypatch.setenv("FEEDBACK_GYM_ENV_KWARGS", '{"max_turns": 2}')
    monkeypatch.delenv("FEEDBACK_GYM_TOKENIZER", raising=False)
    spec = importlib.util.spec_from_file_location("agent_module", openrlhf.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    executor = module.AgentExecutor()
    agent = executor.agent_instance_cls()
    assert agent.env.unwrapped.max_turns == 2
    asyncio.run(agent.reset({"observation": "", "label": None}))
    result = asyncio.run(agent.step({"action_text": "<give_up><|im_end|>"}))
    assert result["done"] and result["rewards"].item() == 0.0


def test_missing_configuration_is_reported(monkeypatch):
    monkeypatch.delenv("FEEDBACK_GYM_ENV", raising=False)
    spec = importlib.util.spec_from_file_location("agent_module_2", openrlhf.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ConfigError, match="FEEDBACK_GYM_ENV"):
        module.AgentExecutor  # noqa: B018
    with pytest.raises(ConfigError, match="unknown environment"):
        make_agent_classes("Nope-v0")
