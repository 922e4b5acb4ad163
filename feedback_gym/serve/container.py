"""``feedback-gym serve --docker ID``: the same server, inside the server image, behind a loopback bridge.

The container runs with ``network_mode="none"`` (always: it has no network at all), a read-only
root, a private ``/tmp``, every capability dropped, and never as the host's root: the caller's uid
(``nobody`` when the caller is root, the engine's root when it is rootless; see
:func:`feedback_gym.sandboxes.docker_backend.container_user`), which owns the 0700 host folder,
bind-mounted, that holds the Unix socket it listens on. The host side binds
``--host``/``--port`` and forwards to that socket (:mod:`feedback_gym.serve.bridge`). The token,
when there is one, goes to the server in the container through its environment, not its argv.

The envs in the container run model-written code in the ``local`` sandbox (bubblewrap with
unprivileged user namespaces). Docker's default seccomp profile refuses the ``unshare``/``clone``
calls that needs, and its masked ``/proc`` paths stop bubblewrap mounting a fresh ``/proc``; so
the container gets the docker sandbox backend's seccomp profile (Docker's default "allow", with
keyrings, ptrace, bpf, perf events, modules and the like refused, but user namespaces allowed) and no
masked ``/proc`` paths (the CLI's ``systempaths=unconfined``), keeping ``no-new-privileges``, no
capabilities, no network and a read-only root: the confinement of model code is the sandbox's job
inside it, per job. Where the sandbox cannot start (the host forbids unprivileged user namespaces),
every reset answers with the sandbox's own error, never a score.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from feedback_gym.errors import SandboxUnavailableError, missing_dependency
from feedback_gym.serve.config import TOKEN_ENV_VAR, ServeConfig

#: Where the socket folder is mounted inside the container.
SOCKET_DIR = "/run/feedback-gym"
SOCKET_NAME = "server.sock"
def security_options() -> list[str]:
    """The container's security options (MaskedPaths/ReadonlyPaths are emptied too; see the docstring)."""
    from feedback_gym.sandboxes.docker_backend import seccomp_profile

    return ["no-new-privileges", f"seccomp={seccomp_profile(frozenset({'pivot_root', 'chroot'}))}"]
#: How long the server in the container may take to listen.
START_TIMEOUT_S = 120.0


def container_command(config: ServeConfig) -> list[str]:
    """The ``feedback-gym serve`` arguments the container runs (Unix socket; no token in argv)."""
    import json

    command = [
        "serve",
        config.env_id,
        "--uds",
        f"{SOCKET_DIR}/{SOCKET_NAME}",
        "--env-kwargs",
        json.dumps(dict(config.env_kwargs)),
        "--max-sessions",
        str(config.max_sessions),
        "--idle-timeout",
        str(config.idle_timeout_s),
        "--step-timeout",
        str(config.step_timeout_s),
        "--max-request-bytes",
        str(config.max_request_bytes),
    ]
    return [*command, "--expose-oracle"] if config.expose_oracle else command


def start_container(config: ServeConfig, image: str, socket_dir: Path) -> Any:
    """Start the server container; returns it once its socket listens (raises with its logs if not)."""
    try:
        import docker
    except ImportError:
        raise missing_dependency("docker", "docker") from None
    from feedback_gym.sandboxes.engine import engine_answers

    if not engine_answers():
        raise SandboxUnavailableError("no Docker engine answers: run `feedback-gym sandbox start-engine`")
    client = docker.from_env()
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SandboxUnavailableError(
            f"no image {image!r}: build it with `feedback-gym serve-image`"
        ) from None
    from feedback_gym.sandboxes.docker_backend import container_user

    uid, gid = container_user(client)
    if os.geteuid() == 0 and uid != 0:  # the server in the container must reach its socket folder
        os.chown(socket_dir, uid, gid)
    host_config = client.api.create_host_config(
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": "rw,exec,size=512m"},
        binds={str(socket_dir): {"bind": SOCKET_DIR, "mode": "rw"}},
        cap_drop=["ALL"],
        security_opt=security_options(),
        pids_limit=4096,
    )
    # `--security-opt systempaths=unconfined` of the docker CLI; docker-py has no argument for it.
    host_config.update({"MaskedPaths": [], "ReadonlyPaths": []})
    try:
        created = client.api.create_container(
            image,
            command=container_command(config),
            user=f"{uid}:{gid}",
            environment={TOKEN_ENV_VAR: config.token} if config.token else {},
            host_config=host_config,
            labels={"feedback-gym": "server"},
        )
        container = client.containers.get(created["Id"])
        container.start()
    except docker.errors.APIError as err:
        raise SandboxUnavailableError(f"the Docker engine refused the server container: {err}") from None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        container.reload()
        if container.status in ("exited", "dead"):
            logs = container.logs().decode("utf-8", "replace")[-2000:]
            container.remove(force=True)
            raise SandboxUnavailableError(f"the server container exited: {logs}")
        if (socket_dir / SOCKET_NAME).exists() and b"serving " in container.logs(stderr=False):
            return container
        time.sleep(0.2)
    container.remove(force=True)
    raise SandboxUnavailableError(f"the server container did not listen within {START_TIMEOUT_S:g} s")


def serve_in_docker(config: ServeConfig, image: str) -> None:
    """Run the server in a container and bridge ``config.host:config.port`` to it until interrupted."""
    from feedback_gym.serve.server import bind

    listener, bound = bind(config)  # the same refusals as a local server, before anything starts
    socket_dir = Path(tempfile.mkdtemp(prefix="feedback-gym-serve-"))
    container = None
    try:
        container = start_container(config, image, socket_dir)
        print(f"serving {config.env_id} at {bound.url}", flush=True)
        print(f"(in container {container.short_id}, bridged to its Unix socket)", file=sys.stderr, flush=True)
        asyncio.run(_bridge_until_signal(listener, str(socket_dir / SOCKET_NAME)))
    finally:
        listener.close()
        if container is not None:
            container.stop(timeout=5)
            container.remove(force=True)
        shutil.rmtree(socket_dir, ignore_errors=True)


async def _bridge_until_signal(listener: Any, uds_path: str) -> None:
    from feedback_gym.serve.bridge import serve_bridge

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve_bridge(listener, uds_path, stop)
