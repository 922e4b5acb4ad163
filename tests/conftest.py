"""Shared pytest set-up: markers that skip tests whose hardware or engine is missing.

- ``gpu``: skipped without a CUDA device.
- ``docker``: skipped without a reachable Docker engine, unless ``FEEDBACK_GYM_REQUIRE_DOCKER=1``
  (set by CI), in which case a missing engine is a failure, not a skip.
- ``browser``: skipped without Chromium, unless ``FEEDBACK_GYM_REQUIRE_BROWSER=1`` (set by CI).
"""

from __future__ import annotations

import functools
import os
import shutil

import pytest


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
