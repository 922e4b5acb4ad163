"""The Sandbox protocol: one narrow call, ``run(job) -> ExecResult``, shared by every backend.

Why so narrow: every code reward in the project goes through this call, so it must be easy to audit
and to swap. A :class:`Job` says *what* to run (a Python program, or an argv to exec, plus files,
stdin and :class:`Limits`); an :class:`ExecResult` says what happened (exit code, capped output,
whether and why it was killed). Backends (``local``: warm fork servers; ``docker``: warm containers
with a fork server inside) differ only in *where* the job runs.

Higher-level calls (unit tests that cannot be fooled, compile diagnostics) live in
:mod:`feedback_gym.sandboxes.harness` and work on any backend.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from feedback_gym.errors import ConfigError, require_positive_number

#: Languages a job may name. ``python`` runs in the backend's warm interpreter (no exec);
#: ``c`` and ``cpp`` are compiled with gcc/g++ and the binary is run (see ``languages.py``).
LANGUAGES = ("python", "c", "cpp")

#: Why a job was stopped from outside (``ExecResult.killed_reason``).
KILLED_TIMEOUT = "timeout"  # wall-clock limit
KILLED_CPU = "cpu"  # RLIMIT_CPU (SIGXCPU / SIGKILL after the CPU budget)
KILLED_MEMORY = "memory"  # allocation failed under the address-space / memory limit
KILLED_SIGNAL = "signal"  # any other fatal signal (segfault, abort, ...)
KILLED_FILE_SIZE = "file_size"  # RLIMIT_FSIZE (SIGXFSZ)
KILLED_SANDBOX = "sandbox_error"  # the backend itself failed (never the program's fault)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job. Every field must be positive.

    Attributes:
        wall_seconds: Wall-clock budget; past it the whole process tree is killed from outside.
        cpu_seconds: CPU-time budget (RLIMIT_CPU), whole seconds rounded up.
        memory_mb: Address space (local) or cgroup memory (docker) in MiB.
        file_size_mb: Largest file the job may write (RLIMIT_FSIZE).
        open_files: Open file descriptors (RLIMIT_NOFILE).
        processes: Processes/threads of the job (counted in its own user namespace).
        output_bytes: Cap on each of stdout and stderr; the rest is dropped and flagged.
    """

    wall_seconds: float = 10.0
    cpu_seconds: float = 10.0
    memory_mb: int = 1024
    file_size_mb: int = 16
    open_files: int = 64
    processes: int = 32
    output_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in (
            "wall_seconds",
            "cpu_seconds",
            "memory_mb",
            "file_size_mb",
            "open_files",
            "processes",
            "output_bytes",
        ):
            require_positive_number(f"Limits.{name}", getattr(self, name))

    def replace(self, **changes: float) -> Limits:
        """A copy with some fields changed (validated like the original)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Limits(**values)  # type: ignore[arg-type]


def _check_relative_path(name: str) -> str:
    """Reject file names that would escape the job's working directory."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ConfigError(f"file names must be non-empty strings without NUL; got {name!r}")
    norm = posixpath.normpath(name)
    if norm.startswith(("/", "..")) or norm == ".":
        raise ConfigError(f"file names must be relative paths inside the work dir; got {name!r}")
    return norm


@dataclass(frozen=True)
class Job:
    """One program run: what to run, with which files, input and limits.

    Exactly one of ``language`` or ``argv`` says what runs:

    - ``language="python"``: ``source`` is saved as ``main.py`` and run as ``__main__`` in the backend's
      warm interpreter (a fork, no exec: milliseconds). ``argv`` then becomes ``sys.argv[1:]``.
    - ``language="c"`` / ``"cpp"``: ``source`` is compiled with gcc/g++ and the binary run; a failed
      compile returns the compiler's exit code and diagnostics on stderr.
    - ``argv`` only: exec ``argv[0]`` (an absolute path or a name on the sandbox's PATH).

    Attributes:
        argv: The command (or the program's arguments for language jobs).
        language: ``None`` or one of :data:`LANGUAGES`.
        source: Program text for language jobs.
        files: Extra files (relative path -> text or bytes) created in the fresh work dir.
        executables: Names in ``files`` made executable (mode 0755).
        stdin: Bytes (or text, encoded UTF-8) fed to the program's standard input.
        limits: Resource limits.
        collect: Paths in the work dir to read back after the run (``ExecResult.files``).
        channel: Give the job a private pipe at fd 3 whose content returns as
            ``ExecResult.channel``; the test harness reports its verdict there.
        env: Extra environment variables (the base environment is scrubbed: no host variables).
        judge: Run the built-in test judge (``_judge.py``) in the job's trusted init process, with the
            program's ``candidate.py`` in a process of its own; set by the harness. A backend that
            does not know the flag runs an empty ``main.py``: no test is reported, so every test fails.
    """

    argv: Sequence[str] = ()
    language: str | None = None
    source: str = ""
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    executables: Sequence[str] = ()
    stdin: str | bytes = b""
    limits: Limits = field(default_factory=Limits)
    collect: Sequence[str] = ()
    channel: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    judge: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))
        if not all(isinstance(a, str) and "\x00" not in a for a in self.argv):
            raise ConfigError("Job.argv must be strings without NUL bytes")
        if self.language is not None and self.language not in LANGUAGES:
            raise ConfigError(f"Job.language must be None or one of {LANGUAGES}; got {self.language!r}")
        if self.language is None and not self.argv:
            raise ConfigError("a Job needs a language (with source) or an argv to exec")
        if not isinstance(self.source, str):
            raise ConfigError(f"Job.source must be text; got {type(self.source).__name__}")
        files = {}
        for name, content in dict(self.files).items():
            if not isinstance(content, str | bytes):
                raise ConfigError(f"file {name!r} must be str or bytes; got {type(content).__name__}")
            files[_check_relative_path(name)] = content
        object.__setattr__(self, "files", MappingProxyType(files))
        object.__setattr__(self, "executables", tuple(_check_relative_path(n) for n in self.executables))
        object.__setattr__(self, "collect", tuple(_check_relative_path(n) for n in self.collect))
        if isinstance(self.stdin, str):
            object.__setattr__(self, "stdin", self.stdin.encode("utf-8", "surrogatepass"))
        if not isinstance(self.stdin, bytes):
            raise ConfigError(f"Job.stdin must be str or bytes; got {type(self.stdin).__name__}")
        if not isinstance(self.limits, Limits):
            raise ConfigError(f"Job.limits must be a Limits; got {type(self.limits).__name__}")
        env = dict(self.env)
        for key, value in env.items():
            if not isinstance(key, str) or not isinstance(value, str) or "=" in key or "\x00" in key + value:
                raise ConfigError(f"Job.env entries must be str -> str without '=' in keys; got {key!r}")
        object.__setattr__(self, "env", MappingProxyType(env))


@dataclass(frozen=True)
class ExecResult:
    """What happened to one job.

    Attributes:
        exit_code: The exit status (``-N`` when killed by signal N; ``None`` if it never ran).
        stdout: Standard output, decoded as UTF-8 (invalid bytes replaced), capped.
        stderr: Standard error, same.
        timed_out: The wall-clock limit was hit and the process tree killed.
        killed_reason: ``None`` or one of the ``KILLED_*`` constants.
        duration: Wall-clock seconds from start to the end of the job's process tree.
        stdout_truncated: Output past ``Limits.output_bytes`` was dropped (a marker is appended).
        stderr_truncated: Same for stderr.
        files: Files named in ``Job.collect`` that exist after the run (path -> bytes).
        channel: What the job wrote to its private fd 3 (``Job.channel``), else ``None``.
        message: A human-readable note from the backend (why it was killed, a sandbox failure).
    """

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    killed_reason: str | None = None
    duration: float = 0.0
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    channel: bytes | None = field(default=None, repr=False)
    message: str = ""

    @property
    def ok(self) -> bool:
        """The program ran to completion and exited 0."""
        return self.exit_code == 0 and self.killed_reason is None

    @classmethod
    def sandbox_error(cls, message: str, duration: float = 0.0) -> ExecResult:
        """A result for a job the backend could not run (never the program's fault)."""
        return cls(None, killed_reason=KILLED_SANDBOX, duration=duration, message=message)


#: Appended to a capped stream so that the reader (and the agent) sees that output was dropped.
TRUNCATION_MARKER = "\n... [output truncated: {n} bytes limit]\n"


@runtime_checkable
class Sandbox(Protocol):
    """Runs jobs in isolation. Implementations are thread-safe; ``close()`` is idempotent."""

    name: str

    def run(self, job: Job) -> ExecResult:
        """Run one job and return its result; never raises for anything the program does."""
        ...

    def run_many(self, jobs: Sequence[Job]) -> list[ExecResult]:
        """Run jobs concurrently across the pool's workers; results in job order."""
        ...

    def close(self) -> None:
        """Stop every worker and remove everything the sandbox created. Safe to call twice."""
        ...
