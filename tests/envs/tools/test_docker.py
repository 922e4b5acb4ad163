"""The python tool on the Docker backend: same behaviour as on the local one, inside a container."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from feedback_gym.envs.tools import ToolUseEnv
from feedback_gym.sandboxes import DockerConfig, Sandbox, make_sandbox

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def docker_sandbox() -> Iterator[Sandbox]:
    box = make_sandbox(DockerConfig(workers=1))
    yield box
    box.close()


def test_python_state_and_isolation_in_docker(docker_sandbox: Sandbox) -> None:
    env = ToolUseEnv(sandbox=docker_sandbox, kinds=("prime_sum",))
    env.reset(seed=0)
    assert env.step('{"tool": "python", "arguments": {"code": "x = 6"}}')[0].startswith("[python result]")
    assert env.step('{"tool": "python", "arguments": {"code": "x * 7"}}')[0].startswith("[python result]\n42")
    network = "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)"
    observation = env.step(json.dumps({"tool": "python", "arguments": {"code": network}}))[0]
    assert observation.startswith("[python error]") and "socket.create_connection" in observation
    env.reset(seed=0)
    assert "NameError" in env.step('{"tool": "python", "arguments": {"code": "x"}}')[0]
    env.reset(seed=0)
    done, info = False, {}
    while not done:
        _, _, terminated, truncated, info = env.step(env.oracle_action())
        done = terminated or truncated
    assert info["solved"]
