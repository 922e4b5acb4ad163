"""How each language runs: Python in the warm interpreter; C and C++ compiled, then executed.

A C/C++ job becomes two sandbox jobs: a compile job that returns the binary (``Job.collect``), then a
run job that receives it as an executable file. Both run inside the same sandbox, under limits.
Two toolchains compile them: ``gcc`` (gcc/g++, the default) and ``clang`` (clang/clang++); their
diagnostics differ in wording and detail, which is feedback a study may want to vary.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback_gym.errors import ConfigError
from feedback_gym.sandboxes.base import Job, Limits


@dataclass(frozen=True)
class Compiler:
    """A compiler invocation for one language."""

    command: str
    source_name: str
    flags: tuple[str, ...]
    #: Flags that make the diagnostics easy to parse (gcc: JSON; clang: plain one-line messages).
    structured_flags: tuple[str, ...] = ()


_GCC_JSON = ("-fdiagnostics-format=json",)
_CLANG_PLAIN = ("-fno-color-diagnostics", "-fno-caret-diagnostics")

#: Toolchain name -> language -> compiler. Every toolchain compiles the same dialects (gnu17, gnu++17).
TOOLCHAINS: dict[str, dict[str, Compiler]] = {
    "gcc": {
        "c": Compiler("gcc", "main.c", ("-std=gnu17", "-O2", "-pipe", "-Wall"), _GCC_JSON),
        "cpp": Compiler("g++", "main.cpp", ("-std=gnu++17", "-O2", "-pipe", "-Wall"), _GCC_JSON),
    },
    "clang": {
        "c": Compiler("clang", "main.c", ("-std=gnu17", "-O2", "-pipe", "-Wall"), _CLANG_PLAIN),
        "cpp": Compiler("clang++", "main.cpp", ("-std=gnu++17", "-O2", "-pipe", "-Wall"), _CLANG_PLAIN),
    },
}
#: The default toolchain's compilers, by language.
DEFAULT_TOOLCHAIN = "gcc"
COMPILERS: dict[str, Compiler] = TOOLCHAINS[DEFAULT_TOOLCHAIN]

#: The compiled program's name inside the work dir.
BINARY = "prog"


def compile_limits(limits: Limits) -> Limits:
    """Compilers need more room than the programs they build (cc1plus maps ~1 GiB)."""
    return limits.replace(
        memory_mb=max(limits.memory_mb, 2048),
        wall_seconds=max(limits.wall_seconds, 30.0),
        cpu_seconds=max(limits.cpu_seconds, 20.0),
        processes=max(limits.processes, 16),
        file_size_mb=max(limits.file_size_mb, 64),
    )


def toolchain(name: str) -> dict[str, Compiler]:
    """The compilers of toolchain ``name``; an unknown name is refused with the accepted ones.

    >>> toolchain("clang")["cpp"].command
    'clang++'
    >>> toolchain("icc")
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown compiler 'icc'; accepted: gcc, clang
    """
    if not isinstance(name, str) or name not in TOOLCHAINS:
        raise ConfigError(f"unknown compiler {name!r}; accepted: {', '.join(TOOLCHAINS)}")
    return TOOLCHAINS[name]


def compile_job(
    language: str,
    source: str,
    limits: Limits,
    *,
    compiler: str = DEFAULT_TOOLCHAIN,
    json_diagnostics: bool = False,
    syntax_only: bool = False,
) -> Job:
    """The job that compiles ``source`` with toolchain ``compiler``; its ``files`` hold the binary on success.

    ``json_diagnostics`` asks for parseable diagnostics (see ``Compiler.structured_flags``).
    """
    chosen = toolchain(compiler)[language]
    argv = [chosen.command, *chosen.flags]
    if json_diagnostics:
        argv.extend(chosen.structured_flags)
    if syntax_only:
        argv += ["-fsyntax-only", chosen.source_name]
    else:
        argv += ["-o", BINARY, chosen.source_name, "-lm"]
    return Job(
        argv=argv,
        files={chosen.source_name: source},
        limits=compile_limits(limits),
        collect=() if syntax_only else (BINARY,),
    )


def binary_job(binary: bytes, job: Job) -> Job:
    """The job that runs a compiled binary with ``job``'s arguments, input, files and limits."""
    return Job(
        argv=[f"./{BINARY}", *job.argv],
        files={**job.files, BINARY: binary},
        executables=(BINARY,),
        stdin=job.stdin,
        limits=job.limits,
        collect=job.collect,
        channel=job.channel,
        env=job.env,
    )
