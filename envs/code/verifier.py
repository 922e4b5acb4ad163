"""The code verifier: parse the reply, run the program against the task's tests in a sandbox, judge.

Model-written code never runs in this process: every program goes to a
:class:`~feedback_gym.sandboxes.base.Sandbox` through the harness in ``feedback_gym.sandboxes.harness``,
which runs trusted test code the program cannot read, patch or fake. This module only turns the
harness's outcomes into a :class:`~feedback_gym.verdict.Verdict`: one check per test, the evidence
(compiler diagnostics with line numbers, the traceback, stderr) for ``full`` feedback, and the error
kind for rewards. Hidden test source is never copied into a check or the evidence.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from feedback_gym.errors import MissingReferenceError
from feedback_gym.sandboxes.base import Limits, Sandbox
from feedback_gym.tasks import Task
from feedback_gym.verdict import (
    COMPILE_ERROR,
    INTERNAL_ERROR,
    INVALID_ACTION,
    RUNTIME_ERROR,
    TIMEOUT,
    WRONG_ANSWER,
    CheckResult,
    Verdict,
)

from .parsing import extract_code
from .schema import hidden_cases, hidden_tests

#: Limits for one test run of an agent's program (a test may be a loop over 100 inputs).
DEFAULT_LIMITS = Limits(wall_seconds=10.0, cpu_seconds=10.0, memory_mb=1024)
#: The most characters of any one piece of evidence kept for feedback.
MAX_EVIDENCE_CHARS = 4000
#: Evidence keys, in the order ``full`` feedback shows them.
EVIDENCE_KEYS = ("diagnostics", "traceback", "stderr")
_REDACTED = "<hidden test>"


def clip(text: str | None, limit: int = MAX_EVIDENCE_CHARS) -> str | None:
    """Keep feedback readable: the head and tail of a long text, with a marker between.

    >>> clip("x" * 10, limit=4)
    'xx\\n[... 6 characters cut ...]\\nxx'
    """
    if text is None or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def redact(text: str | None, secrets: Sequence[str]) -> str | None:
    """Replace every line of hidden test source found in ``text`` (a traceback may quote the test).

    >>> redact('File "t.py", line 3\\n    assert candidate(2) == 4', ["assert candidate(2) == 4"])
    'File "t.py", line 3\\n    <hidden test>'
    """
    if not text:
        return text
    for secret in secrets:
        for line in secret.splitlines():
            line = line.strip()
            if len(line) >= 6 and line in text:
                text = text.replace(line, _REDACTED)
    return text


def _show_call(snippet: str | None, entry_point: str | None) -> str | None:
    """Show ``candidate(...)`` with the function's real name, as the agent knows it."""
    if snippet is None or not entry_point:
        return snippet
    return re.sub(r"\bcandidate\b", entry_point, snippet)


def _first(outcomes: Sequence[Any], attribute: str) -> Any:
    return next((getattr(o, attribute) for o in outcomes if not o.passed and getattr(o, attribute, None)), None)


class CodeVerifier:
    """Judges replies to code tasks by running them in a sandbox.

    Args:
        sandbox: A zero-argument callable returning the sandbox to use (the env starts it lazily).
        limits: Per-run resource limits of the agent's program.
        visible: ``visible(task)`` gives how many of the task's first tests the agent was shown;
            only those may appear in feedback with their source.
    """

    def __init__(
        self,
        sandbox: Callable[[], Sandbox],
        *,
        limits: Limits = DEFAULT_LIMITS,
        visible: Callable[[Task], int] = lambda task: 0,
    ) -> None:
        self._sandbox = sandbox
        self.limits = limits
        self._visible = visible
        self._lock = threading.Lock()

    def verify(self, task: Task, action: str) -> Verdict:
        """Judge ``action`` on ``task``; never raises for anything in the action."""
        language = task.metadata.get("language", "python")
        parsed = extract_code(action, language)
        if parsed.code is None:
            return Verdict(False, 0.0, error_kind=INVALID_ACTION, message=parsed.problem,
                           evidence={"parse": parsed.origin})
        try:
            if task.metadata.get("style") == "io":
                return self._verify_io(task, parsed.code, language)
            return self._verify_function(task, parsed.code)
        except Exception as err:  # noqa: BLE001 - a checker failure is reported, never raised
            return Verdict(False, 0.0, error_kind=INTERNAL_ERROR, parsed=parsed.code,
                           message=f"the checker failed ({type(err).__name__}: {err}); this is not "
                           "your program's fault")

    def reference_action(self, task: Task) -> str:
        """The task's reference solution in a fenced block."""
        if not task.reference:
            raise MissingReferenceError(f"task {task.id!r} has no reference solution")
        language = task.metadata.get("language", "python")
        return f"```{language}\n{str(task.reference).rstrip()}\n```"

    # ------------------------------------------------------------------------------------ python

    def _verify_function(self, task: Task, program: str) -> Verdict:
        from feedback_gym.sandboxes.harness import run_function_tests

        tests = hidden_tests(task)
        entry_point = task.metadata["entry_point"]
        shown = self._visible(task)
        outcomes = run_function_tests(
            self._sandbox(), program, entry_point, tests, setup=task.hidden.get("setup", ""),
            limits=self.limits,
        )
        secrets = [*tests[shown:], task.hidden.get("setup", "")]
        checks = []
        for index, (test, outcome) in enumerate(zip(tests, outcomes, strict=True)):
            visible = index < shown
            checks.append(CheckResult(
                name=f"test {index + 1}" + (f": {_show_call(test, entry_point)}" if visible else " (hidden)"),
                passed=bool(outcome.passed),
                input=_show_call(getattr(outcome, "input", None), entry_point),
                expected=getattr(outcome, "expected", None),
                got=getattr(outcome, "got", None),
                detail=None if outcome.passed else redact(clip(self._describe(outcome)), secrets),
            ))
        return self._judge(checks, outcomes, program, secrets)

    @staticmethod
    def _describe(outcome: Any) -> str | None:
        parts = [getattr(outcome, "message", None)]
        return "\n".join(p for p in parts if p) or None

    # ----------------------------------------------------------------------------------------- io

    def _verify_io(self, task: Task, program: str, language: str) -> Verdict:
        from feedback_gym.sandboxes.harness import run_io_tests

        cases = hidden_cases(task)
        compiled, outcomes = run_io_tests(self._sandbox(), language, program, cases, limits=self.limits)
        evidence: dict[str, Any] = {}
        if compiled is not None:
            diagnostics = format_diagnostics(compiled)
            if diagnostics:
                evidence["diagnostics"] = clip(diagnostics)
            if not compiled.ok:
                return Verdict(
                    False, 0.0,
                    checks=tuple(CheckResult(f"case {i + 1}", False, detail="not run: the program did not compile")
                                 for i in range(len(cases))),
                    error_kind=COMPILE_ERROR,
                    message="the program does not compile",
                    evidence=evidence or {"diagnostics": clip(compiled.raw_output)},
                    parsed=program,
                )
        shown = self._visible(task)
        checks = []
        for index, ((stdin, _), outcome) in enumerate(zip(cases, outcomes, strict=True)):
            checks.append(CheckResult(
                name=f"case {index + 1}" + ("" if index < shown else " (hidden)"),
                passed=bool(outcome.passed),
                input=clip(stdin, 500),
                expected=clip(getattr(outcome, "expected", None), 500),
                got=clip(getattr(outcome, "got", None), 500),
                detail=None if outcome.passed else clip(self._describe(outcome)),
            ))
        return self._judge(checks, outcomes, program, [], evidence)

    # -------------------------------------------------------------------------------------- both

    def _judge(self, checks: list[CheckResult], outcomes: Sequence[Any], program: str,
               secrets: Sequence[str], evidence: dict[str, Any] | None = None) -> Verdict:
        evidence = dict(evidence or {})
        for key, attribute in (("traceback", "traceback"), ("stderr", "stderr")):
            value = redact(clip(_first(outcomes, attribute)), secrets)
            if value:
                evidence[key] = value
        passed = sum(c.passed for c in checks)
        solved = bool(checks) and passed == len(checks)
        kind = None if solved else error_kind_of(outcomes)
        return Verdict(solved, 1.0 if solved else passed / max(1, len(checks)), checks=tuple(checks),
                       error_kind=kind, evidence=evidence, parsed=program)


def error_kind_of(outcomes: Sequence[Any]) -> str:
    """The verdict's error kind: the kind of the first failing test (timeouts and crashes first)."""
    kinds = [getattr(o, "error_kind", None) or getattr(o, "kind", None) for o in outcomes if not o.passed]
    for wanted in (COMPILE_ERROR, TIMEOUT, RUNTIME_ERROR):
        if wanted in kinds:
            return wanted
    return WRONG_ANSWER


def format_diagnostics(compiled: Any) -> str:
    """Render compiler diagnostics as ``line:column: severity: message`` lines."""
    lines = []
    for d in getattr(compiled, "diagnostics", ()) or ():
        where = f"{getattr(d, 'file', '') or 'main'}:{d.line}:{d.column or 0}"
        lines.append(f"{where}: {d.severity}: {d.message}")
    return "\n".join(lines)
