"""Typed configs for the sandbox backends and :func:`make_sandbox`, the one way environments get one.

Every code-running environment takes ``sandbox="local"`` (the default), ``sandbox="docker"``, a config
object, or a ready :class:`~feedback_gym.sandboxes.base.Sandbox` it does not own.
"""

from __future__ import annotations

import os
import weakref
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
#: The backend every code-running environment uses unless told otherwise.
DEFAULT_BACKEND = "local"


def sandbox_spec(spec: object) -> LocalConfig | DockerConfig | Sandbox:
    """Check a ``sandbox=`` argument and resolve a backend name to its config: the one validation.

    >>> sandbox_spec("docker").name
    'docker'
    >>> sandbox_spec("podman")
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown sandbox backend 'podman'; accepted: local, docker
    """
    if isinstance(spec, str):
        if spec == "local":
            return LocalConfig()
        if spec == "docker":
            return DockerConfig()
        raise ConfigError(f"unknown sandbox backend {spec!r}; accepted: {', '.join(BACKENDS)}")
    if isinstance(spec, LocalConfig | DockerConfig | Sandbox):
        return spec
    raise ConfigError(
        f"sandbox must be one of {', '.join(BACKENDS)}, a LocalConfig/DockerConfig or a Sandbox; "
        f"got {type(spec).__name__}"
    )


def make_sandbox(spec: str | LocalConfig | DockerConfig | Sandbox = DEFAULT_BACKEND) -> Sandbox:
    """Build a sandbox from a backend name, a typed config, or pass a ready sandbox through.

    Args:
        spec: ``"local"``, ``"docker"``, a :class:`LocalConfig` / :class:`DockerConfig`, or an object
            already implementing the Sandbox protocol (returned unchanged; the caller owns it).

    Raises:
        ConfigError: for an unknown name or type, saying what is accepted.
    """
    config = sandbox_spec(spec)
    if isinstance(config, LocalConfig):
        from feedback_gym.sandboxes.local import LocalSandbox

        return LocalSandbox(config)
    if isinstance(config, DockerConfig):
        from feedback_gym.sandboxes.docker_backend import DockerSandbox

        return DockerSandbox(config)
    return config


class SandboxHandle:
    """The sandbox of one environment: validated at construction, started by :meth:`start`, closed once.

    Environments call :meth:`start` at ``reset``, so a missing backend (no bubblewrap, user namespaces
    refused, no ``docker`` package, no engine) raises there with what to install or start, instead of
    surfacing at the first step as a zero reward. A ready :class:`Sandbox` passed in is shared: the
    handle never closes it.
    """

    def __init__(self, spec: str | LocalConfig | DockerConfig | Sandbox = DEFAULT_BACKEND) -> None:
        self.spec = sandbox_spec(spec)
        self.owned = not isinstance(self.spec, Sandbox)
        self._sandbox: Sandbox | None = None if self.owned else self.spec  # type: ignore[assignment]
        self._finalizer: weakref.finalize | None = None

    @property
    def backend(self) -> str:
        """The backend's name (``local``, ``docker``, or a ready sandbox's ``name``), without starting it."""
        return str(self.spec.name)

    def start(self) -> Sandbox:
        """The sandbox, started on first call.

        Raises ``SandboxUnavailableError`` (or a missing-extra error) saying what to install or start.
        """
        if self._sandbox is None:
            self._sandbox = make_sandbox(self.spec)
            self._finalizer = weakref.finalize(self, self._sandbox.close)
        return self._sandbox

    __call__ = start

    def close(self) -> None:
        """Close the sandbox if this handle started it. Idempotent."""
        if self.owned and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
            if self._finalizer is not None:
                self._finalizer.detach()
