"""Every registered id keeps the user's contract (one parametrized sweep over the whole registry).

The conformance checks run on every id; the default run gives each id two of the checks in rotation
(so every check runs on several ids), the sweep job (``pytest -m sweep``) the rest. Envs that run
code share the session's local sandbox, except under Gymnasium's own checker (it deep-copies the
env's spec, kwargs included).
"""

from __future__ import annotations

import inspect

import gymnasium as gym
import pytest

import feedback_gym
from feedback_gym import conformance
from tests.sampling import sweep_params

IDS = feedback_gym.registered_ids()
CHECKS = conformance.ALL_CHECKS
PAIRS = [(env_id, check) for env_id in IDS for check in CHECKS]
#: The default run's pairs: each id gets the next two checks in turn, so every check runs on some ids.
ROTATION = [(env_id, CHECKS[(2 * i + j) % len(CHECKS)]) for i, env_id in enumerate(IDS) for j in (0, 1)]


def accepts_sandbox(env_id: str) -> bool:
    """Whether the id's constructor takes a ``sandbox`` (the envs that run model code)."""
    entry_point = gym.spec(env_id).entry_point
    if isinstance(entry_point, str):
        entry_point = gym.envs.registration.load_env_creator(entry_point)
    return "sandbox" in inspect.signature(entry_point).parameters


@pytest.fixture
def factory(local_sandbox):
    """Builds a fresh env of an id; envs that run code get the session's sandbox, not one each."""

    def make(env_id: str, share: bool = True) -> conformance.EnvFactory:
        kwargs = {"sandbox": local_sandbox} if share and accepts_sandbox(env_id) else {}
        return lambda: gym.make(env_id, **kwargs)

    return make


def test_registry_is_not_empty() -> None:
    assert "Countdown-v0" in IDS


@pytest.mark.parametrize("env_id", IDS)
def test_ids_are_plain_name_version(env_id: str) -> None:
    name, _, version = env_id.rpartition("-v")
    assert name and ":" not in name and "/" not in name and version.isdigit()


@pytest.mark.parametrize(
    ("env_id", "check"),
    sweep_params(PAIRS, ROTATION, ids=lambda pair: f"{pair[0]}-{pair[1].__name__}"),
)
def test_conformance(env_id: str, check, factory) -> None:
    check(factory(env_id, share=check is not conformance.check_gymnasium_api))


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
