"""Fixtures: one long-lived sandbox per backend (starting containers is the slow part)."""

from __future__ import annotations

import pytest

from feedback_gym.sandboxes import DockerConfig, LocalConfig, make_sandbox

BACKENDS = ["local", pytest.param("docker", marks=pytest.mark.docker)]


def _config(name: str, workers: int):
    return LocalConfig(workers=workers) if name == "local" else DockerConfig(workers=workers)


@pytest.fixture(scope="session", params=BACKENDS)
def sandbox(request):
    """A two-worker sandbox of each backend, shared by the protocol and harness tests."""
    box = make_sandbox(_config(request.param, 2))
    yield box
    box.close()


@pytest.fixture(scope="session", params=BACKENDS)
def single(request):
    """A one-worker sandbox of each backend: consecutive jobs land on the same worker."""
    box = make_sandbox(_config(request.param, 1))
    yield box
    box.close()
