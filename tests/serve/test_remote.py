"""RemoteEnv against live servers: the strict conformance checks, parity with in-process, errors."""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.conformance import check_all
from feedback_gym.errors import ConfigError, EpisodeEndedError, MissingReferenceError, RemoteEnvError
from feedback_gym.remote import RemoteEnv


@pytest.mark.slow
@pytest.mark.parametrize("server_name", ["code_server", "math_server"])
def test_remote_env_passes_the_strict_conformance_checks(server_name, request):
    server = request.getfixturevalue(server_name)
    check_all(lambda: RemoteEnv(server.url))


@pytest.mark.parametrize("server_name", ["code_server", "math_server"])
def test_a_served_episode_matches_the_same_episode_in_process(server_name, request):
    server = request.getfixturevalue(server_name)
    remote = RemoteEnv(server.url)
    local = gym.make(remote.env_id)
    try:
        for seed in (0, 7):
            remote_obs, remote_info = remote.reset(seed=seed)
            local_obs, local_info = local.reset(seed=seed)
            assert remote_obs == local_obs and remote_info["task_id"] == local_info["task_id"]
            for action in ("I don't know.", local.unwrapped.oracle_action()):
                remote_step, local_step = remote.step(action), local.step(action)
                assert remote_step[:4] == local_step[:4]
                for key in ("solved", "score", "reward_components", "feedback_kind", "turn", "messages"):
                    assert remote_step[4][key] == local_step[4][key], key
                if local_step[2] or local_step[3]:
                    break
            assert remote_step[4]["verdict"]["solved"] is True  # the verdict crosses the wire
    finally:
        remote.close()
        local.close()


def test_reset_options_and_errors_keep_their_types(code_server):
    env = RemoteEnv(code_server.url)
    try:
        _, info = env.reset(options={"task_id": "bundled/py/gcd"})
        assert info["task_id"] == "bundled/py/gcd"
        with pytest.raises(ConfigError, match="unknown reset options"):
            env.reset(options={"nope": 1})
        with pytest.raises(KeyError, match="nonexistent"):
            env.reset(options={"task_id": "nonexistent"})
        env.reset(seed=1)
        for _ in range(10):
            *_, terminated, truncated, _ = env.step("<give_up>")
            if terminated or truncated:
                break
        with pytest.raises(EpisodeEndedError, match="reset"):
            env.step("again")
    finally:
        env.close()
    with pytest.raises(RemoteEnvError, match="closed"):
        env.step("after close")
    env.close()  # idempotent


def test_the_oracle_is_private_unless_the_server_shares_it(math_server):
    from feedback_gym.serve.process import ServerProcess

    with ServerProcess("MathCritique-v0") as private:
        env = RemoteEnv(private.url)
        env.reset(seed=0)
        assert "oracle_action" not in env.state() or env.state()["oracle_action"] is None
        with pytest.raises(MissingReferenceError, match="--expose-oracle"):
            env.oracle_action()
        env.close()
    shared = RemoteEnv(math_server.url)
    shared.reset(seed=0)
    assert shared.step(shared.oracle_action())[4]["solved"]
    shared.close()


def test_bad_urls_say_what_is_accepted():
    with pytest.raises(ConfigError, match="http://"):
        RemoteEnv("ws://127.0.0.1:1")
    with pytest.raises(RemoteEnvError, match="no feedback-gym server answers"):
        RemoteEnv("http://127.0.0.1:9", connect_timeout_s=2)
