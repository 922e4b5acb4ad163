"""Fixtures: one long-lived sandbox per backend (starting containers is the slow part).

``sandbox`` is the session's shared two-worker sandbox of each backend (``tests/conftest.py``): the
attacks here run on the same sandbox the environment tests use, and it must keep serving.
"""

from __future__ import annotations

import pytest

from feedback_gym.sandboxes import DockerConfig, LocalConfig, make_sandbox


def _config(name: str, workers: int):
    return LocalConfig(workers=workers) if name == "local" else DockerConfig(workers=workers)


@pytest.fixture(scope="session")
def sandbox(backend_sandbox):
    """A two-worker sandbox of each backend, shared by the protocol and harness tests."""
    return backend_sandbox


@pytest.fixture(scope="session")
def single(backend):
    """A one-worker sandbox of each backend: consecutive jobs land on the same worker."""
    box = make_sandbox(_config(backend, 1))
    yield box
    box.close()
