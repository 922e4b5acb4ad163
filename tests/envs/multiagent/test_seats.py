"""SingleSeatEnv: one seat as a plain Gymnasium env, the other seats played by frozen policies."""

from __future__ import annotations

import warnings

import pytest
from gymnasium.utils.env_checker import check_env

from feedback_gym.agents.policy import RandomPolicy
from feedback_gym.envs.multiagent import code_critique_v0, solver_critic_v0
from feedback_gym.envs.multiagent.baselines import LiteralEditor
from feedback_gym.envs.multiagent.seats import SingleSeatEnv, play_episode
from feedback_gym.errors import ConfigError, EpisodeEndedError

from .scripted import WRONG, gullible_solver, says, tiny_code_family

CONTRACT = ("task_id", "turn", "solved", "score", "reward_components", "feedback_kind", "messages")


def critic_seat(start_right=False, **kwargs):
    game = solver_critic_v0.env(**kwargs)
    return SingleSeatEnv(game, seat="critic_0", frozen={"solver_0": gullible_solver(start_right)})


def solver_seat(critic="oracle", **kwargs):
    return SingleSeatEnv(solver_critic_v0.env(**kwargs), seat="solver_0", frozen={"critic_0": critic})


def editor_critic_seat(**kwargs):
    game = code_critique_v0.env(family=tiny_code_family(), **kwargs)
    return SingleSeatEnv(game, seat="critic_0", frozen={"editor_0": LiteralEditor()})


@pytest.mark.parametrize("make", [critic_seat, solver_seat, editor_critic_seat])
def test_single_seat_views_pass_the_strict_gymnasium_checker(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(make(), skip_render_check=True)


def test_training_the_critic_against_a_frozen_solver():
    env = critic_seat(start_right=False)
    obs, info = env.reset(seed=0)
    assert WRONG in obs and info["seat"] == "critic_0" and info["frozen"] == {"solver_0": "gullible-wrong"}
    assert all(key in info for key in CONTRACT)
    obs, reward, terminated, truncated, info = env.step(env.oracle_action())
    assert (reward, terminated, truncated) == (1.5, True, False)
    assert info["reward_components"] == {"verdict": 0.5, "outcome": 1.0} and info["solved"]
    with pytest.raises(EpisodeEndedError):
        env.step("again")


def test_a_misleading_critique_is_punished_through_the_frozen_solver():
    env = critic_seat(start_right=True)
    env.reset(seed=1)
    _, reward, terminated, _, info = env.step("That is wrong.\nVERDICT: incorrect")
    assert reward == -1.5 and terminated and not info["solved"]


def test_multi_round_critic_gets_a_reward_per_round():
    env = critic_seat(start_right=False, rounds=2)
    env.reset(seed=2)
    _, r1, t1, _, info1 = env.step("VERDICT: incorrect")
    assert (r1, t1) == (1.5, False) and info1["round"] == 2
    _, r2, t2, _, _ = env.step("VERDICT: correct")
    assert (r2, t2) == (0.5, True)


def test_training_the_solver_against_a_frozen_critic():
    env = solver_seat()
    obs, info = env.reset(seed=0)
    assert "round" in obs and info["seat"] == "solver_0" and info["turn"] == 0
    obs, reward, terminated, _, info = env.step(WRONG)
    assert (reward, terminated) == (0.0, False)
    assert "VERDICT: incorrect" in obs  # the frozen oracle critic's critique is the feedback
    obs, reward, terminated, _, info = env.step(env.oracle_action())
    assert (reward, terminated) == (1.0, True) and info["solved"]


def test_the_frozen_seat_sees_its_own_conversation():
    seen = []

    def critic(conversation, handle):
        seen.append([m["role"] for m in conversation])
        return "VERDICT: incorrect"

    from .scripted import Scripted

    env = solver_seat(critic=Scripted("spy", critic), rounds=2)
    env.reset(seed=0)
    env.step(WRONG)
    env.step(WRONG)
    assert seen == [["user"], ["user", "assistant", "user"]]


def test_frozen_random_policy_never_crashes_the_seat():
    env = SingleSeatEnv(solver_critic_v0.env(rounds=2), "critic_0", {"solver_0": RandomPolicy(seed=3)})
    for seed in range(3):
        env.reset(seed=seed)
        terminated = False
        while not terminated:
            _, reward, terminated, truncated, info = env.step("VERDICT: incorrect")
            assert not truncated and isinstance(reward, float)


def test_seat_arguments_are_checked():
    with pytest.raises(ConfigError, match="unknown seat"):
        SingleSeatEnv(solver_critic_v0.env(), "judge_0", {"solver_0": "oracle"})
    with pytest.raises(ConfigError, match="every seat but"):
        SingleSeatEnv(solver_critic_v0.env(), "critic_0", {})
    with pytest.raises(ConfigError, match="must be a Policy"):
        SingleSeatEnv(solver_critic_v0.env(), "critic_0", {"solver_0": 7})
    with pytest.raises(ConfigError, match="no seats named"):
        play_episode(solver_critic_v0.env(), {"solver_0": "oracle", "critic_0": "oracle", "x_0": "oracle"})
    with pytest.raises(EpisodeEndedError):
        critic_seat().step("before reset")


def test_play_episode_matches_stepping_the_seats_by_hand():
    players = {"solver_0": gullible_solver(False), "critic_0": says("VERDICT: incorrect")}
    returns, _ = play_episode(solver_critic_v0.env(), players, seed=7)
    env = critic_seat(start_right=False)
    env.reset(seed=7)
    assert env.step("VERDICT: incorrect")[1] == returns["critic_0"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: solver_seat(),
        lambda: critic_seat(start_right=False, rounds=2),
        lambda: editor_critic_seat(rounds=2, rewards={"critic": "score_gain"}),
    ],
    ids=["solver-vs-oracle-critic", "critic-vs-gullible-solver", "code-critic-vs-literal-editor"],
)
def test_single_seat_views_pass_the_shipped_conformance_checks(make):
    from feedback_gym.conformance import check_all

    check_all(make)


def test_a_seat_refuses_unknown_reset_options_and_tells_the_critic_its_critique_was_unread():
    seat = critic_seat()
    with pytest.raises(ConfigError, match="accepted: task_id, task, task_index"):
        seat.reset(options={"task_idx": 1})
    seat.reset(seed=0)
    obs, reward, *_ = seat.step("")
    assert reward == 0.0 and "could not be read (the critique is empty)" in obs
