"""The Sandbox protocol and its backends: where model-written code runs, isolated.

``make_sandbox("local" | "docker" | config)`` gives a :class:`Sandbox`; :mod:`.harness` runs hidden unit
tests that the program cannot fool, stdin/stdout tests, and compiles C/C++ with structured diagnostics,
on any backend.
"""

from feedback_gym.sandboxes.base import ExecResult, Job, Limits, Sandbox
from feedback_gym.sandboxes.config import DockerConfig, LocalConfig, SandboxHandle, make_sandbox
from feedback_gym.sandboxes.harness import (
    CompileResult,
    Diagnostic,
    FunctionTestReport,
    TestOutcome,
    check_function,
    compile_source,
    run_function_tests,
    run_io_tests,
)

__all__ = [
    "CompileResult",
    "Diagnostic",
    "DockerConfig",
    "ExecResult",
    "FunctionTestReport",
    "Job",
    "Limits",
    "LocalConfig",
    "Sandbox",
    "SandboxHandle",
    "TestOutcome",
    "check_function",
    "compile_source",
    "make_sandbox",
    "run_function_tests",
    "run_io_tests",
]
