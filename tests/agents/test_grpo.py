from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from feedback_gym.agents.grpo import clipped_pg_loss, group_advantages, pad_episodes, token_logprobs, train
from feedback_gym.agents.rollout import collect_episodes, make_rollout_envs
from feedback_gym.agents.train_args import Args
from feedback_gym.errors import ConfigError

from .learning_env import DigitsEnv


def _args(tmp_path, **overrides):
    values = dict(
        env="digits",
        model="tiny-random",
        steps=2,
        out=str(tmp_path / "run"),
        tasks_per_step=2,
        group_size=4,
        max_new_tokens=6,
        learning_rate=1e-2,
        progress=False,
        checkpoint_every=1,
        device="cpu",
    )
    values.update(overrides)
    return Args(**values)


def _metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def _batch(policy, seed=0):
    envs = make_rollout_envs(lambda: DigitsEnv(max_turns=2), 4)
    episodes, _ = collect_episodes(policy, envs, [seed, seed + 1], 2)
    envs.close()
    return episodes


@pytest.mark.slow
def test_grpo_raises_the_mean_reward_of_tiny_random_on_a_learnable_env(tmp_path):
    torch.set_num_threads(1)
    args = _args(tmp_path, steps=24, group_size=8, max_new_tokens=8, checkpoint_every=100)
    train(args, env_factory=lambda: DigitsEnv(max_turns=2))
    rewards = [m["reward_mean"] for m in _metrics(tmp_path / "run")]
    first, last = np.mean(rewards[:4]), np.mean(rewards[-4:])
    assert first < 0.3, rewards  # a random byte-level model rarely writes digits
    assert last > first + 0.3 and last > 0.6, rewards


def test_masked_tokens_receive_no_gradient(tiny_policy):
    episodes = _batch(tiny_policy)
    model = tiny_policy.model
    batch = pad_episodes(episodes, tiny_policy.tokenizer.pad_token_id, torch.device("cpu"))
    captured = {}

    def keep_logits(module, inputs, output):
        output.retain_grad()
        captured["logits"] = output

    hook = model.lm_head.register_forward_hook(keep_logits)
    logprobs = token_logprobs(model, batch["input_ids"], batch["attention_mask"], temperature=1.0)
    hook.remove()
    advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])
    normalizer = float(batch["policy_mask"].sum())
    loss, _ = clipped_pg_loss(
        logprobs,
        logprobs.detach(),
        advantages,
        batch["policy_mask"],
        0.2,
        normalizer,
        ref_logprobs=logprobs.detach() - 0.1,
        kl_coef=0.1,
    )
    loss.backward()
    # logits at position t-1 score token t: their gradient must vanish wherever token t is not the policy's.
    grad = captured["logits"].grad[:, :-1].abs().sum(-1)
    predicted_is_policy = batch["policy_mask"][:, 1:] > 0
    assert predicted_is_policy.any() and (~predicted_is_policy).any()
    assert torch.all(grad[~predicted_is_policy] == 0)
    assert torch.all(grad[predicted_is_policy] > 0)
    assert any(e.policy_tokens < len(e.token_ids) - 20 for e in episodes)  # feedback tokens really are there


def test_the_loss_ignores_what_masked_positions_hold():
    logprobs = torch.log(torch.rand(2, 6)).requires_grad_()
    mask = torch.tensor([[0, 0, 1, 1, 0, 0], [0, 1, 1, 0, 0, 1]], dtype=torch.float32)
    advantages = torch.tensor([1.0, -2.0])
    base, _ = clipped_pg_loss(logprobs, logprobs.detach(), advantages, mask, 0.2, 5.0)
    scrambled = logprobs.detach().clone()
    scrambled[mask == 0] = -50.0
    other, _ = clipped_pg_loss(scrambled.requires_grad_(), logprobs.detach(), advantages, mask, 0.2, 5.0)
    assert torch.allclose(base, other)


def test_gradient_accumulation_over_micro_batches_equals_one_big_batch(tiny_policy):
    episodes = _batch(tiny_policy, seed=3)
    model = tiny_policy.model
    advantages = torch.tensor(
        group_advantages([e.reward + 0.1 * i for i, e in enumerate(episodes)], 2), dtype=torch.float32
    )
    normalizer = sum(e.policy_tokens for e in episodes)

    def gradients(chunk_size):
        model.zero_grad()
        for start in range(0, len(episodes), chunk_size):
            part = episodes[start : start + chunk_size]
            batch = pad_episodes(part, tiny_policy.tokenizer.pad_token_id, torch.device("cpu"))
            logprobs = token_logprobs(model, batch["input_ids"], batch["attention_mask"], 1.0)
            loss, _ = clipped_pg_loss(
                logprobs,
                logprobs.detach(),
                advantages[start : start + chunk_size],
                batch["policy_mask"],
                0.2,
                normalizer,
            )
            loss.backward()
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    whole, pieces = gradients(len(episodes)), gradients(1)
    assert whole.abs().sum() > 0
    assert torch.allclose(whole, pieces, atol=1e-6, rtol=1e-4)


def test_clipping_stops_the_gradient_once_the_ratio_leaves_the_trust_region():
    old = torch.zeros(1, 3)
    mask = torch.ones(1, 3)
    inside = torch.tensor([[0.05, 0.05, 0.05]], requires_grad=True)
    outside = torch.tensor(
        [[0.5, 0.5, 0.5]], requires_grad=True
    )  # ratio e^0.5 > 1.2 with a positive advantage
    for logprobs in (inside, outside):
        loss, metrics = clipped_pg_loss(logprobs, old, torch.tensor([1.0]), mask, 0.2, 3.0)
        loss.backward()
    assert torch.all(inside.grad < 0) and torch.all(outside.grad == 0)


@pytest.mark.parametrize("kl_coef", [0.0, 0.1])
def test_resuming_from_a_checkpoint_replays_the_uninterrupted_run(tmp_path, kl_coef):
    # With a KL penalty the resumed run must keep the starting model as its anchor, not the checkpoint.
    factory = lambda: DigitsEnv(max_turns=2)  # noqa: E731
    straight = _args(tmp_path / "a", steps=3, kl_coef=kl_coef)
    train(straight, env_factory=factory)
    interrupted = _args(tmp_path / "b", steps=2, kl_coef=kl_coef)
    train(interrupted, env_factory=factory)
    resumed = _args(tmp_path / "b", steps=3, resume=True, kl_coef=kl_coef)
    train(resumed, env_factory=factory)
    a, b = _metrics(tmp_path / "a" / "run"), _metrics(tmp_path / "b" / "run")
    assert [m["step"] for m in b] == [1, 2, 3]
    if kl_coef:
        assert a[-1]["kl"] > 1e-6  # the policy has moved from its anchor by step 3
    for key in ("reward_mean", "policy_tokens", "loss", "kl"):
        assert [m[key] for m in a] == pytest.approx([m[key] for m in b], rel=1e-5, abs=1e-7)
    checkpoints = sorted(p.name for p in (tmp_path / "b" / "run" / "checkpoints").iterdir())
    assert checkpoints == ["step-000002", "step-000003"]  # keep_checkpoints=2
    from safetensors.torch import load_file

    final_a = load_file(tmp_path / "a" / "run" / "final" / "model.safetensors")
    final_b = load_file(tmp_path / "b" / "run" / "final" / "model.safetensors")
    assert all(torch.allclose(final_a[k], final_b[k], atol=1e-6) for k in final_a)


def test_the_kl_penalty_is_zero_at_the_start_and_grows_as_the_policy_moves(tmp_path):
    args = _args(tmp_path, steps=3, kl_coef=0.1, checkpoint_every=10)
    train(args, env_factory=lambda: DigitsEnv(max_turns=2))
    kls = [m["kl"] for m in _metrics(tmp_path / "run")]
    assert kls[0] == pytest.approx(0.0, abs=1e-7) and kls[-1] > 1e-6


def test_the_trained_model_loads_as_a_policy_spec(tmp_path):
    from feedback_gym.agents.policy import make_policy

    train(_args(tmp_path, steps=1), env_factory=lambda: DigitsEnv(max_turns=1))
    policy = make_policy(f"hf:{tmp_path / 'run' / 'final'}", device="cpu", max_new_tokens=4)
    assert len(policy.act([[{"role": "user", "content": "1"}]])) == 1
    transcripts = (tmp_path / "run" / "transcripts.jsonl").read_text().splitlines()
    assert len(transcripts) == 2 and "policy_mask" in json.loads(transcripts[0])


@pytest.mark.parametrize(
    "overrides",
    [{"group_size": 1}, {"steps": 0}, {"clip_eps": 1.5}, {"vectorization_mode": "gpu"}, {"model": "oracle"}],
)
def test_bad_arguments_are_refused_before_any_work(tmp_path, overrides):
    with pytest.raises(ConfigError):
        train(_args(tmp_path, **overrides), env_factory=lambda: DigitsEnv())


@pytest.mark.slow
def test_the_train_command_runs_end_to_end_in_a_subprocess(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "cli"
    command = [
        sys.executable,
        "-m",
        "feedback_gym.cli",
        "train",
        "--env",
        "Countdown-v0",
        "--model",
        "tiny-random",
        "--steps",
        "2",
        "--out",
        str(out),
        "--tasks-per-step",
        "1",
        "--group-size",
        "2",
        "--max-new-tokens",
        "8",
        "--env-kwargs",
        '{"max_turns": 2}',
        "--no-progress",
        "--tensorboard",
        "--device",
        "cpu",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout[result.stdout.index("{") :])["step"] == 2
    assert [m["step"] for m in _metrics(out)] == [1, 2]
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert (out / "final" / "config.json").exists()


@pytest.mark.gpu
def test_a_grpo_step_runs_on_the_gpu_with_bf16_autocast(tmp_path):
    metrics = train(_args(tmp_path, steps=1, device="cuda"), env_factory=lambda: DigitsEnv(max_turns=2))
    assert metrics["policy_tokens"] > 0 and np.isfinite(metrics["loss"])


def test_scoring_only_policy_positions_gives_the_same_values_and_gradients(tiny_policy):
    episodes = _batch(tiny_policy, seed=5)
    model = tiny_policy.model
    batch = pad_episodes(episodes, tiny_policy.tokenizer.pad_token_id, torch.device("cpu"))
    where = batch["policy_mask"]
    grads, values = [], []
    for selective in (False, True):
        model.zero_grad()
        logprobs = token_logprobs(
            model, batch["input_ids"], batch["attention_mask"], 0.7, where if selective else None
        )
        values.append((logprobs * where).detach())
        loss, _ = clipped_pg_loss(
            logprobs, logprobs.detach(), torch.tensor([1.0, -1.0, 2.0, -2.0]), where, 0.2, 10.0
        )
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    assert torch.allclose(values[0], values[1], atol=1e-5)
    assert torch.all(values[1][where == 0] == 0)
    assert grads[0].abs().sum() > 0 and torch.allclose(grads[0], grads[1], atol=1e-6, rtol=1e-4)
