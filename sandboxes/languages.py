"""How each language runs: Python in the warm interpreter; C and C++ compiled by gcc/g++, then executed.

A C/C++ job becomes two sandbox jobs: a compile job that returns the binary (``Job.collect``), then a
run job that receives it as an executable file. Both run inside the same sandbox, under limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback_gym.sandboxes.base import Job, Limits


@dataclass(frozen=True)
class Compiler:
    """A compiler invocation for one language."""

    command: str
    source_name: str
    flags: tuple[str, ...]


COMPILERS: dict[str, Compiler] = {
    "c": Compiler("gcc", "main.c", ("-std=gnu17", "-O2", "-pipe", "-Wall")),
    "cpp": Compiler("g++", "main.cpp", ("-std=gnu++17", "-O2", "-pipe", "-Wall")),
}

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


def compile_job(
    language: str, source: str, limits: Limits, *, json_diagnostics: bool = False, syntax_only: bool = False
) -> Job:
    """The job that compiles ``source``; its ``files`` hold the binary on success."""
    compiler = COMPILERS[language]
    argv = [compiler.command, *compiler.flags]
    if json_diagnostics:
        argv.append("-fdiagnostics-format=json")
    if syntax_only:
        argv += ["-fsyntax-only", compiler.source_name]
    else:
        argv += ["-o", BINARY, compiler.source_name, "-lm"]
    return Job(
        argv=argv,
        files={compiler.source_name: source},
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
