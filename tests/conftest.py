"""Shared pytest set-up: markers that skip tests whose hardware or engine is missing, shared sandboxes.

- ``gpu``: skipped without a CUDA device.
- ``docker``: skipped without a reachable Docker engine, unless ``FEEDBACK_GYM_REQUIRE_DOCKER=1``
  (set by CI), in which case a missing engine is a failure, not a skip.
- ``browser``: skipped without Chromium, unless ``FEEDBACK_GYM_REQUIRE_BROWSER=1`` (set by CI).
- ``sweep``: the rest of a full sweep, deselected by ``addopts``; ``pytest -m sweep`` runs it.

One sandbox of each backend serves the whole session (``local_sandbox``, ``docker_sandbox``;
``backend_sandbox`` runs a test once per backend): starting one costs more than most tests. Tests
that attack a sandbox use the shared one on purpose, since "after any attack the sandbox keeps
serving" is part of its contract; each shared sandbox must still run a job when the session ends.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator

import pytest

from feedback_gym.sandboxes import DockerConfig, Job, LocalConfig, Sandbox, make_sandbox

BACKENDS = ["local", pytest.param("docker", marks=pytest.mark.docker)]


@functools.cache
def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@functools.cache
def docker_available() -> bool:
    """Whether the docker SDK is installed and an engine answers a ping."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=5)
        ok = bool(client.ping())
        client.close()
        return ok
    except Exception:  # noqa: BLE001 - any failure to reach the engine means "no engine"
        return False


def chromium_path() -> str | None:
    """The headless browser binary, if one is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    require_docker = os.environ.get("FEEDBACK_GYM_REQUIRE_DOCKER") == "1"
    require_browser = os.environ.get("FEEDBACK_GYM_REQUIRE_BROWSER") == "1"
    for item in items:
        if "gpu" in item.keywords and not cuda_available():
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))
        if "docker" in item.keywords and not require_docker and not docker_available():
            reason = "needs a Docker engine (feedback-gym sandbox start-engine)"
            item.add_marker(pytest.mark.skip(reason=reason))
        if "browser" in item.keywords and not require_browser and chromium_path() is None:
            item.add_marker(pytest.mark.skip(reason="needs Chromium (apt-get install chromium)"))


def _shared(config: LocalConfig | DockerConfig) -> Iterator[Sandbox]:
    box = make_sandbox(config)
    yield box
    try:
        result = box.run(Job(language="python", source="print(6 * 7)"))
        assert result.ok and result.stdout == "42\n", f"the shared sandbox stopped serving: {result}"
    finally:
        box.close()


@pytest.fixture(scope="session")
def local_sandbox() -> Iterator[Sandbox]:
    """The session's local sandbox (two workers)."""
    yield from _shared(LocalConfig(workers=2))


@pytest.fixture(scope="session")
def docker_sandbox() -> Iterator[Sandbox]:
    """The session's Docker sandbox (two workers); only tests marked ``docker`` may ask for it."""
    yield from _shared(DockerConfig(workers=2))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each sandbox backend in turn: ``local``, then ``docker`` (marked ``docker``)."""
    return request.param


@pytest.fixture(scope="session")
def backend_sandbox(backend: str, request: pytest.FixtureRequest) -> Sandbox:
    """The session's shared sandbox of the backend named by ``backend``."""
    return request.getfixturevalue(f"{backend}_sandbox")
