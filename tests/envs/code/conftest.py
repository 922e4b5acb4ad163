"""A sandbox of each backend for the code tests that must hold on both (docker skipped without an engine)."""

from __future__ import annotations

import pytest

from feedback_gym.sandboxes import DockerConfig, LocalConfig, make_sandbox


@pytest.fixture(scope="module", params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def each_backend(request):
    """A two-worker sandbox of the backend named by the parameter."""
    box = make_sandbox(LocalConfig(workers=2) if request.param == "local" else DockerConfig(workers=2))
    yield box
    box.close()
