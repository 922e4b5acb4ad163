"""A real transformers policy (the tiny random GPT-2 of the agents extras) as a frozen seat."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from feedback_gym.agents.policy import make_policy
from feedback_gym.envs.multiagent import code_critique_v0, solver_critic_v0
from feedback_gym.envs.multiagent.seats import SingleSeatEnv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model():
    return make_policy("tiny-random", max_new_tokens=24, temperature=0)


def test_a_frozen_model_editor_revises_and_the_critic_is_paid_by_the_tests(tiny_model):
    env = SingleSeatEnv(code_critique_v0.env(), "critic_0", {"editor_0": tiny_model})
    try:
        obs, info = env.reset(seed=0)
        assert "[Program]" in obs and info["frozen"] == {"editor_0": "tiny-random"}
        _, reward, terminated, truncated, info = env.step(env.oracle_action())
        assert terminated and not truncated and math.isfinite(reward) and 0.0 <= reward <= 1.0
        assert info["reward_components"]["outcome"] == reward
        editor = env.game.messages["editor_0"]
        assert [m["role"] for m in editor] == ["user", "assistant", "user"]  # the model's reply is in
    finally:
        env.close()


def test_a_frozen_model_critic_gives_the_solver_its_feedback(tiny_model):
    env = SingleSeatEnv(solver_critic_v0.env(rounds=2), "solver_0", {"critic_0": tiny_model})
    try:
        env.reset(seed=0)
        obs, reward, terminated, _, info = env.step("<answer>0</answer>")
        assert not terminated and reward == 0.0 and obs.startswith("[Reviewer's critique]")
        critic_reply = env.game.messages["critic_0"][1]["content"]
        if critic_reply.strip():
            assert critic_reply in obs  # the observation relays what the model wrote
        else:
            assert "could not be read: the critique is empty" in obs
        _, reward, _, _, _ = env.step(env.oracle_action())
        _, reward, terminated, _, info = env.step(env.oracle_action())
        assert terminated and reward == 1.0 and info["solved"]
    finally:
        env.close()


def test_the_reference_grpo_trainer_trains_the_code_critic_seat(tmp_path):
    import json

    from feedback_gym.agents.grpo import train
    from feedback_gym.agents.train_args import Args

    args = Args(
        env="CodeCritic-v0",
        model="tiny-random",
        steps=1,
        out=str(tmp_path / "run"),
        tasks_per_step=2,
        group_size=2,
        max_new_tokens=8,
        env_kwargs={"rounds": 1},
        progress=False,
        checkpoint_every=1,
        device="cpu",
    )
    train(args)
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 1 and math.isfinite(metrics[0]["reward_mean"])
    transcript = json.loads((tmp_path / "run" / "transcripts.jsonl").read_text().splitlines()[0])
    assert "[Program]" in json.dumps(transcript)  # the critic seat's view of the erroneous program
