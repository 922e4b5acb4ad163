"""Every registered id keeps the user's contract (one parametrized sweep over the whole registry)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import feedback_gym
from feedback_gym import conformance

IDS = feedback_gym.registered_ids()


def _factory(env_id: str) -> conformance.EnvFactory:
    return lambda: gym.make(env_id)


def test_registry_is_not_empty() -> None:
    assert "Countdown-v0" in IDS


@pytest.mark.parametrize("env_id", IDS)
def test_ids_are_plain_name_version(env_id: str) -> None:
    name, _, version = env_id.rpartition("-v")
    assert name and ":" not in name and "/" not in name and version.isdigit()


@pytest.mark.parametrize("check", conformance.ALL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("env_id", IDS)
def test_conformance(env_id: str, check: conformance.EnvFactory) -> None:
    check(_factory(env_id))


@pytest.mark.parametrize("env_id", IDS)
def test_reset_with_task_id_replays_the_same_task(env_id: str) -> None:
    env = gym.make(env_id)
    first, info = env.reset(seed=7)
    again, info_again = env.reset(options={"task_id": info["task_id"]})
    assert info_again["task_id"] == info["task_id"]
    assert again == first
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_bad_reset_options_name_what_is_accepted(env_id: str) -> None:
    env = gym.make(env_id)
    with pytest.raises(ValueError, match="accepted"):
        env.reset(options={"tsak_id": "x"})
    with pytest.raises(KeyError):
        env.reset(options={"task_id": "no-such-task/999/999"})
    env.reset(seed=0)  # still serving
    env.close()
