from __future__ import annotations

import gymnasium as gym
import pytest
import torch

pytest.importorskip("trl")
pytest.importorskip("datasets")

from feedback_gym.agents.adapters.trl import (
    completion_text,
    environment_factory,
    reward_function,
    task_dataset,
)
from feedback_gym.errors import ConfigError

from .conftest import DIGITS_ID as ENV_ID


@pytest.fixture(autouse=True, scope="module")
def _quiet_trl():
    """TRL warns on every import of its experimental modules unless told not to."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
        yield


def test_the_environment_class_follows_trls_contract():
    from transformers.utils import get_json_schema

    Env = environment_factory(ENV_ID, max_turns=2)
    env = Env()
    public = sorted(name for name in dir(Env) if not name.startswith("_") and callable(getattr(Env, name)))
    assert public == ["get_reward", "give_up", "reset", "submit"]
    schema = get_json_schema(env.submit)["function"]
    assert schema["name"] == "submit" and schema["parameters"]["properties"]["answer"]["type"] == "string"
    assert schema["parameters"]["properties"]["answer"]["description"]
    assert get_json_schema(env.give_up)["function"]["parameters"]["properties"] == {}

    row = task_dataset(ENV_ID, 1)[0]
    assert env.reset(**row) is None  # the prompt already holds the task
    first = env.submit("12 ab")
    assert "checks passed" in first or "1 of" in first or "%" in first
    assert "episode is over" not in first
    second = env.submit("777")
    assert "episode is over: solved" in second
    assert env.get_reward() == pytest.approx(1.0)
    assert "no more attempts" in env.submit("1")
    assert env.get_reward() == pytest.approx(1.0)
    # without task text in the prompt the environment supplies it; give_up ends the episode
    assert "digits only" in env.reset(prompt=[{"role": "user", "content": ""}], task_id=row["task_id"])
    assert "episode is over: not solved" in env.give_up() and env.get_reward() == 0.0


def test_reward_function_pays_what_the_environment_pays_for_a_first_attempt():
    reward = reward_function(ENV_ID)
    rows = task_dataset(ENV_ID, 3)
    completions = [
        [{"role": "assistant", "content": "123"}],
        "12ab",
        [{"role": "assistant", "content": "xyz"}],
    ]
    values = reward([r["prompt"] for r in rows], completions, task_id=[r["task_id"] for r in rows])
    assert values == pytest.approx([1.0, 0.5, 0.0])
    assert reward.__name__ == "TestDigits_v0_reward"
    with pytest.raises(ConfigError, match="task_id"):
        reward(["p"], ["c"])


def test_task_dataset_rows_are_distinct_tasks_with_conversational_prompts():
    dataset = task_dataset("Countdown-v0", 5, seed=3)
    assert len(dataset) == 5 and len(set(dataset["task_id"])) == 5
    assert dataset[0]["prompt"][0]["role"] == "user" and "numbers" in dataset[0]["prompt"][0]["content"]
    env = gym.make("Countdown-v0")
    observation, info = env.reset(options={"task_id": dataset[0]["task_id"]})
    assert observation == dataset[0]["prompt"][0]["content"]


def test_unknown_ids_are_refused():
    with pytest.raises(ConfigError, match="unknown environment"):
        environment_factory("Nope-v0")
    with pytest.raises(ConfigError, match="unknown environment"):
        reward_function("Nope-v0")


def test_completion_text_joins_assistant_messages():
    assert completion_text([{"role": "assistant", "content": "a"}, {"role": "tool", "content": "b"}]) == "a"


def _tiny(tiny_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    tokenizer.padding_side = "left"
    return AutoModelForCausalLM.from_pretrained(tiny_path), tokenizer


def test_real_grpo_trainer_steps_with_the_single_turn_reward(tiny_path, tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    torch.manual_seed(0)
    model, tokenizer = _tiny(tiny_path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calls = []
    reward = reward_function(ENV_ID)

    def counted(prompts, completions, **kwargs):
        values = reward(prompts, completions, **kwargs)
        calls.append(values)
        return values

    config = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        report_to="none",
        use_cpu=True,
        logging_steps=1,
        learning_rate=1e-2,
        save_strategy="no",
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[counted],
        train_dataset=task_dataset(ENV_ID, 4),
        args=config,
        processing_class=tokenizer,
    )
    trainer.train()
    assert len(calls) == 2 and all(len(values) == 4 for values in calls)
    assert any(len(set(values)) > 1 for values in calls)  # varied rewards, so a real gradient
    logged = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert len(logged) == 2
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def _teach_tool_call(model, tokenizer, prompts, call, steps=150):
    """A few SFT steps on the completion only, so the random model answers these prompts with ``call``."""
    prompt_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    call_ids = tokenizer(call, add_special_tokens=False)["input_ids"]
    width = max(len(p) for p in prompt_ids) + len(call_ids)
    ids = torch.full((len(prompts), width), tokenizer.pad_token_id)
    labels = torch.full((len(prompts), width), -100)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompt_ids):
        sequence = prompt + call_ids
        ids[row, width - len(sequence) :] = torch.tensor(sequence)
        mask[row, width - len(sequence) :] = 1
        labels[row, width - len(call_ids) :] = torch.tensor(call_ids)
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=mask, position_ids=position_ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return float(loss.detach())


@pytest.mark.slow
def test_real_grpo_trainer_calls_the_environment_as_a_tool_and_takes_its_reward(tiny_path, tmp_path):
    from transformers.utils import get_json_schema
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    torch.manual_seed(0)
    model, tokenizer = _tiny(tiny_path)
    tokenizer.chat_template = qwen2_5_chat_template  # a tool-calling template TRL knows how to parse
    Env = environment_factory(ENV_ID, max_turns=2)
    dataset = task_dataset(ENV_ID, 2)
    # The random model cannot call a tool; teach it one call on the exact prompts TRL renders.
    tools = [get_json_schema(getattr(Env(), name)) for name in ("give_up", "submit")]
    prompts = [
        tokenizer.apply_chat_template(row["prompt"], tools=tools, tokenize=False, add_generation_prompt=True)
        for row in dataset
    ]
    call = '<tool_call>\n{"name": "submit", "arguments": {"answer": "123"}}\n</tool_call><|im_end|>'
    assert _teach_tool_call(model, tokenizer, prompts, call) < 0.05
    config = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=96,
        report_to="none",
        use_cpu=True,
        logging_steps=1,
        learning_rate=1e-3,
        save_strategy="no",
        seed=0,
        max_tool_calling_iterations=1,
        temperature=0.1,
    )
    trainer = GRPOTrainer(
        model=model, environment_factory=Env, train_dataset=dataset, args=config, processing_class=tokenizer
    )
    trainer.train()
    logged = next(entry for entry in trainer.state.log_history if "reward" in entry)
    assert logged["tools/call_frequency"] > 0
    # "123" is all digits: the environment solved the episode and its get_reward() became the reward
    assert logged["rewards/TestDigits_v0Environment/mean"] > 0.5
