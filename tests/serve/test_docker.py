"""The server image: built from local files, started by ``feedback-gym serve --docker``, on loopback.

The container has no network (``network_mode="none"``); clients reach it through the host-side
bridge to its Unix socket.
"""

from __future__ import annotations

import pytest

from feedback_gym.remote import RemoteEnv

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def server_image():
    from feedback_gym.serve.image import build_server_image

    tag = "feedback-gym-server:test"
    print(build_server_image(tag))
    return tag


def _docker_server(env_id: str, image: str):
    from feedback_gym.serve.process import ServerProcess

    return ServerProcess(env_id, ["--docker", "--image", image, "--expose-oracle"])


def test_the_image_serves_full_episodes_from_a_container_without_network(server_image):
    import docker

    with _docker_server("MathCritique-v0", server_image) as server:
        client = docker.from_env()
        (container,) = client.containers.list(
            filters={"label": "feedback-gym=server", "ancestor": server_image}
        )
        assert container.attrs["HostConfig"]["NetworkMode"] == "none"
        env = RemoteEnv(server.url)
        env.reset(seed=0)
        assert env.step("I don't know.")[1] == 0.0
        _, reward, terminated, _, info = env.step(env.oracle_action())
        assert terminated and info["solved"] and reward > 0
        env.close()
        client.close()
    assert not docker.from_env().containers.list(all=True, filters={"id": container.id})  # removed


def test_code_envs_in_the_container_run_model_code_in_the_rootless_sandbox(server_image):
    """Model code runs in the local sandbox (unprivileged user namespaces) inside the container."""
    with _docker_server("CodeFeedback-v0", server_image) as server:
        env = RemoteEnv(server.url)
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step("```python\nprint('not a solution')\n```")
        assert not info["solved"] and reward < 1.0
        _, reward, terminated, _, info = env.step(env.oracle_action())
        assert terminated and info["solved"] and reward > 0
        env.close()
