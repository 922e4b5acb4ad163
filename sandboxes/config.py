"""Typed configs for the sandbox backends and :func:`make_sandbox`, the one way environments get one.

Every code-running environment takes ``sandbox="local"`` (the default), ``sandbox="docker"``, a config
object, or a ready :class:`~feedback_gym.sandboxes.base.Sandbox` it does not own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from feedback_gym.errors import ConfigError
from feedback_gym.sandboxes.base import Sandbox

#: The image ``feedback-gym sandbox build-image`` builds and the docker backend runs.
DEFAULT_IMAGE = "feedback-gym-sandbox:latest"


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class LocalConfig:
    """The ``local`` backend: warm fork servers inside bubblewrap on this machine, for any user.

    Attributes:
        workers: Fork servers (jobs run concurrently up to this many); default one per core.
        root_uid: When run as root, the uid (and gid) the servers drop to first, because the host's
            root ignores ``RLIMIT_NPROC``; default 65534 (``nobody``). Ignored for other users.
    """

    workers: int = field(default_factory=_default_workers)
    root_uid: int = 65534

    name = "local"

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"LocalConfig.workers must be an int >= 1; got {self.workers!r}")
        if isinstance(self.root_uid, bool) or not isinstance(self.root_uid, int) or self.root_uid < 1:
            raise ConfigError(f"LocalConfig.root_uid must be an int >= 1 (not root); got {self.root_uid!r}")


@dataclass(frozen=True)
class DockerConfig:
    """The ``docker`` backend: warm containers (one per worker) with a fork server inside.

    Attributes:
        workers: Containers (jobs run concurrently up to this many); default one per core.
        image: The image to run (build it with ``feedback-gym sandbox build-image``).
        memory_mb: Container memory limit (the sum over its jobs' processes).
        pids: Container pids limit.
        cpus: CPU share of each container.
        base_url: Docker engine address; ``None`` reads ``DOCKER_HOST`` / the default socket.
    """

    workers: int = field(default_factory=_default_workers)
    image: str = DEFAULT_IMAGE
    memory_mb: int = 2048
    pids: int = 256
    cpus: float = 1.0
    base_url: str | None = None

    name = "docker"

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"DockerConfig.workers must be an int >= 1; got {self.workers!r}")
        if not isinstance(self.image, str) or not self.image:
            raise ConfigError(f"DockerConfig.image must be a non-empty image name; got {self.image!r}")
        if self.memory_mb < 64 or self.pids < 16 or not self.cpus > 0:
            raise ConfigError("DockerConfig needs memory_mb >= 64, pids >= 16 and cpus > 0")


SandboxConfig = LocalConfig | DockerConfig

#: Names accepted by :func:`make_sandbox`.
BACKENDS = ("local", "docker")


def make_sandbox(spec: str | LocalConfig | DockerConfig | Sandbox = "local") -> Sandbox:
    """Build a sandbox from a backend name, a typed config, or pass a ready sandbox through.

    Args:
        spec: ``"local"``, ``"docker"``, a :class:`LocalConfig` / :class:`DockerConfig`, or an object
            already implementing the Sandbox protocol (returned unchanged; the caller owns it).

    Raises:
        ConfigError: for an unknown name or type, saying what is accepted.
    """
    if isinstance(spec, str):
        if spec == "local":
            spec = LocalConfig()
        elif spec == "docker":
            spec = DockerConfig()
        else:
            raise ConfigError(f"unknown sandbox backend {spec!r}; accepted: {', '.join(BACKENDS)}")
    if isinstance(spec, LocalConfig):
        from feedback_gym.sandboxes.local import LocalSandbox

        return LocalSandbox(spec)
    if isinstance(spec, DockerConfig):
        from feedback_gym.sandboxes.docker_backend import DockerSandbox

        return DockerSandbox(spec)
    if isinstance(spec, Sandbox):
        return spec
    raise ConfigError(
        f"sandbox must be one of {BACKENDS}, a LocalConfig/DockerConfig or a Sandbox; "
        f"got {type(spec).__name__}"
    )
