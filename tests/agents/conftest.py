"""Shared fixtures for the agents tests: the tiny random model, loaded once per session."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models gain nothing from a second thread, and on a shared 2-core machine it costs 10x."""
    import torch

    torch.set_num_threads(1)


#: The learnable test env of ``learning_env.py``, registered for the adapters' tests (they take ids).
DIGITS_ID = "TestDigits-v0"


@pytest.fixture(autouse=True, scope="session")
def _digits_registered():
    """Registers ``TestDigits-v0`` before the first test (not at import: no work at import time)."""
    import gymnasium as gym

    if DIGITS_ID not in gym.registry:
        gym.register(DIGITS_ID, entry_point="tests.agents.learning_env:DigitsEnv")


@pytest.fixture(scope="session")
def tiny_path():
    """The directory of the cached tiny random GPT-2 (built on first use)."""
    from feedback_gym.agents.models import tiny_random_path

    return tiny_random_path(seed=0)


@pytest.fixture()
def tiny_policy(tiny_path):
    """A fresh sampling policy on the tiny model (fresh so tests cannot leak weight updates)."""
    from feedback_gym.agents.transformers_policy import TransformersPolicy

    return TransformersPolicy.from_pretrained(tiny_path, device="cpu", max_new_tokens=12, seed=0)
