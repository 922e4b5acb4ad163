"""The ``docker`` backend: warm containers on the real Docker engine, each running the same fork server.

Why warm containers: ``docker run`` per check costs ~300 ms and ``docker exec`` ~80 ms; a fork server
inside a long-lived container answers in milliseconds. Each worker is one container:

- ``network_mode="none"`` (always), ``ipc_mode="none"``, read-only root filesystem, memory / pids / CPU
  limits, ``no-new-privileges``, every capability dropped, and the server running as uid 65534: the
  container needs no privilege at all. Inside, the very same fork server as the local backend gives each
  job its own user, pid, IPC and mount namespaces and its seccomp filter (see ``_forkserver.py``).
- Docker's default seccomp profile refuses the unprivileged user namespaces that per-job isolation is
  built from, so the container gets :func:`seccomp_profile` instead: Docker's "allow" by default, with
  the same kernel surface refused as for jobs (keyrings, ptrace, bpf, perf events, modules, ...) but
  ``unshare``, ``setns`` and ``mount``, which the server needs to build each job's namespaces (the jobs
  themselves are refused those by their own filter).
- Works against a rootful engine, rootless Docker or Podman's Docker API: ``DockerConfig.base_url`` or
  ``DOCKER_HOST`` names the socket.
- The server reaches us through a Unix socket in a private (mode 0700) host directory bind-mounted
  into the container; over it we pass each job's stdin memfd and output pipes, exactly as the local
  backend does. So the container needs no network, and the server never holds job input or output.
- A container whose server died is removed and replaced; ``close()`` removes every container this
  sandbox created (they also carry a label, so a crashed process's leftovers can be found).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

from feedback_gym.errors import SandboxUnavailableError, missing_dependency
from feedback_gym.sandboxes import _wire as wire
from feedback_gym.sandboxes._forkserver import DENIED_SYSCALLS
from feedback_gym.sandboxes.config import DockerConfig
from feedback_gym.sandboxes.image import SANDBOX_UID
from feedback_gym.sandboxes.local import SERVER_PATH, SHIPPED_FILES
from feedback_gym.sandboxes.pool import PooledSandbox, Worker

#: Label on every container we create (value: the sandbox's id).
LABEL = "feedback-gym.sandbox"
SOCKET_DIR = "/run/feedback-gym"
CONTAINER_PYTHON = "/usr/bin/python3.11"
STARTUP_TIMEOUT = 60.0
#: What the server itself must be allowed (to build each job's namespaces); jobs are refused them.
SERVER_NEEDS = frozenset({"unshare", "setns", "mount", "umount2"})


def seccomp_profile(also_allow: frozenset[str] = frozenset()) -> str:
    """The container's seccomp profile (JSON): allow, except the kernel surface no one here needs.

    ``also_allow`` names more calls the container's own (trusted) processes need: a container that
    starts bubblewrap itself (the server image) also needs ``pivot_root`` and ``chroot``.

    >>> profile = json.loads(seccomp_profile())
    >>> names = profile["syscalls"][0]["names"]
    >>> profile["defaultAction"], "keyctl" in names, "unshare" in names
    ('SCMP_ACT_ALLOW', True, False)
    """
    names = sorted(name for name in DENIED_SYSCALLS if name not in SERVER_NEEDS | also_allow)
    return json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    })


def docker_client(config: DockerConfig):
    """A connected client, or an error that says how to get an engine."""
    try:
        import docker
    except ImportError as err:
        raise missing_dependency("docker", "docker") from err
    try:
        client = docker.DockerClient(base_url=config.base_url) if config.base_url else docker.from_env()
        client.ping()
    except Exception as err:
        if os.geteuid() == 0:
            how = ("start one with `feedback-gym sandbox start-engine --pid-file /tmp/dockerd.pid` "
                   "(install it first with `feedback-gym sandbox install-engine`)")
        else:
            from feedback_gym.sandboxes.engine import NON_ROOT_HELP

            how = f"DOCKER_HOST={os.environ.get('DOCKER_HOST', '(unset)')}; {NON_ROOT_HELP}"
        raise SandboxUnavailableError(f"no Docker engine answers ({err}); {how}") from err
    try:
        client.images.get(config.image)
    except Exception as err:
        client.close()
        raise SandboxUnavailableError(
            f"the image {config.image!r} is missing; build it with `feedback-gym sandbox build-image`"
        ) from err
    return client


def container_user(client) -> tuple[int, int]:
    """The uid:gid the container's server runs as: never the host's root, always able to reach its socket.

    - A rootless engine (rootless Docker, Podman): the container's root *is* the calling user.
    - A rootful engine, called by root: ``nobody`` (the socket directory is handed to it).
    - A rootful engine, called by an ordinary user (in the ``docker`` group): that user's own ids.
    """
    try:
        security = " ".join(client.info().get("SecurityOptions") or [])
    except Exception:  # noqa: BLE001 - an engine that does not say is treated as rootful
        security = ""
    if "rootless" in security:
        return 0, 0
    if os.geteuid() == 0:
        return SANDBOX_UID, SANDBOX_UID
    return os.geteuid(), os.getegid()


class DockerWorker(Worker):
    """One container with a fork server inside, reached over a bind-mounted Unix socket."""

    def __init__(self, sandbox_id: str, client, config: DockerConfig, index: int) -> None:
        super().__init__()
        self.sandbox_id = sandbox_id
        self.client = client
        self.config = config
        self.index = index
        self.container = None
        self.dir: Path | None = None

    def start(self) -> None:
        """Create the container, wait for its server to connect and say hello."""
        uid, gid = container_user(self.client)
        self.dir = Path(tempfile.mkdtemp(prefix="feedback-gym-docker-"))
        self.dir.chmod(0o700)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.dir / "sock"))
        if os.geteuid() == 0 and uid != 0:  # only the container's server may reach the socket
            os.chown(self.dir, uid, gid)
            os.chown(self.dir / "sock", uid, gid)
        listener.listen(1)
        listener.settimeout(STARTUP_TIMEOUT)
        cfg = self.config
        try:
            self.container = self.client.containers.run(
                cfg.image,
                [
                    CONTAINER_PYTHON,
                    "-I",
                    "-S",
                    SERVER_PATH,
                    "--connect",
                    f"{SOCKET_DIR}/sock",
                ],
                detach=True,
                user=f"{uid}:{gid}",
                network_mode="none",
                ipc_mode="none",
                read_only=True,
                # Mount points for each job's own tmpfs (the jobs mount theirs over these).
                tmpfs={"/tmp": "size=1m,mode=1777", "/dev/shm": "size=1m,mode=1777"},
                volumes={
                    str(self.dir): {"bind": SOCKET_DIR, "mode": "rw"},
                    **{str(source): {"bind": path, "mode": "ro"} for path, source in SHIPPED_FILES.items()},
                },
                mem_limit=f"{cfg.memory_mb}m",
                memswap_limit=f"{cfg.memory_mb}m",
                pids_limit=cfg.pids,
                nano_cpus=int(cfg.cpus * 1e9),
                cap_drop=["ALL"],
                security_opt=["no-new-privileges", f"seccomp={seccomp_profile()}"],
                labels={LABEL: self.sandbox_id},
                auto_remove=True,  # a server that loses its owner exits, and its container goes
                name=f"feedback-gym-{self.sandbox_id}-{self.index}-{self.restarts}",
                environment={},
            )
            conn, _ = listener.accept()
            conn.settimeout(STARTUP_TIMEOUT)
            hello, _ = wire.recv_request(conn, wire.SERVER_MAX_MESSAGE)
            conn.settimeout(None)
        except Exception as err:
            logs = self._logs()
            self.kill()
            raise SandboxUnavailableError(f"the sandbox container did not start: {err}{logs}") from err
        finally:
            listener.close()
        if not hello.get("ready"):
            self.kill()
            raise SandboxUnavailableError(f"unexpected hello from the container's server: {hello!r}")
        self.sock = conn

    def _logs(self) -> str:
        """The container's last output, to say why its server did not start."""
        try:
            text = self.container.logs(tail=20).decode("utf-8", "replace").strip() if self.container else ""
        except Exception:  # noqa: BLE001 - already gone
            return ""
        return f"\ncontainer output:\n{text}" if text else ""

    def disown(self) -> None:
        """Our copy of another process's worker (after a fork): close our end, leave its container be."""
        super().disown()
        self.container = None
        self.dir = None

    def fresh(self) -> DockerWorker:
        """A new worker with the same settings (a forked sandbox sets ``client``/``sandbox_id`` anew)."""
        return DockerWorker(self.sandbox_id, self.client, self.config, self.index)

    def kill(self) -> None:
        """Remove the container and its socket directory."""
        if self.inherited():  # never remove a container this process did not create
            self.disown()
            return
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self.container = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def stats(self) -> dict[str, int]:
        """Processes and memory inside the container (from the engine)."""
        if self.container is None:
            return {"processes": 0, "fds": 0, "rss_bytes": 0}
        try:
            stats = self.container.stats(stream=False)
            return {
                "processes": int(stats.get("pids_stats", {}).get("current", 0)),
                "fds": 0,
                "rss_bytes": int(stats.get("memory_stats", {}).get("usage", 0)),
            }
        except Exception:  # noqa: BLE001
            return {"processes": 0, "fds": 0, "rss_bytes": 0}


class DockerSandbox(PooledSandbox):
    """``config.workers`` warm containers, each serving one job at a time."""

    name = "docker"

    def __init__(self, config: DockerConfig | None = None) -> None:
        self.config = config or DockerConfig()
        self.id = uuid.uuid4().hex[:12]
        self.client = docker_client(self.config)
        workers = [DockerWorker(self.id, self.client, self.config, i) for i in range(self.config.workers)]
        super().__init__(workers)

    def _after_fork(self) -> None:
        """A forked child's pool: its own engine connection and id (so it removes only its containers)."""
        self.id = uuid.uuid4().hex[:12]
        self.client = docker_client(self.config)
        for worker in self._workers:
            worker.sandbox_id, worker.client = self.id, self.client

    def close(self) -> None:
        """Remove every container this sandbox created. Idempotent."""
        forked = os.getpid() != self._owner
        super().close()
        if forked:
            return  # the containers labelled with our id are the parent's
        try:
            for container in self.client.containers.list(all=True, filters={"label": f"{LABEL}={self.id}"}):
                container.remove(force=True)
        except Exception:  # noqa: BLE001 - the engine went away
            pass
