"""Shared fixtures for the agents tests: the tiny random model, loaded once per session."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


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
