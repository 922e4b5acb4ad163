"""The code verifier: parse the reply, run the program against the task's tests in a sandbox, judge.

Model-written code never runs in this process: every program goes to a
:class:`~feedback_gym.sandboxes.base.Sandbox` through the harness in ``feedback_gym.sandboxes.harness``,
which runs trusted test code the program cannot read, patch or fake. This module only turns the
harness's outcomes into a :class:`~feedback_gym.verdict.Verdict`: one check per test, the evidence
(compiler diagnostics with line numbers, the traceback, stderr) for ``full`` feedback, and the error
kind for rewards. Hidden test source is never copied into a check or the evidence.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from feedback_gym.errors import (
    DependencyNotInstalled,
    MissingReferenceError,
    SandboxClosedError,
    SandboxUnavailableError,
)
from feedback_gym.sandboxes.base import Limits, Sandbox
from feedback_gym.sandboxes.harness import (
    FUNCTION_TEST_LIMITS,
    IO_TEST_LIMITS,
    NOT_RUN,
    CompileResult,
    TestOutcome,
    check_function,
    compile_source,
    run_io_tests,
)
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

#: The most characters of any one piece of evidence kept for feedback.
MAX_EVIDENCE_CHARS = 4000
#: Evidence keys, in the order ``full`` feedback shows them.
EVIDENCE_KEYS = ("diagnostics", "traceback", "stderr")
_REDACTED = "<hidden test>"


def clip(text: str | None, limit: int = MAX_EVIDENCE_CHARS) -> str | None:
    r"""Keep feedback readable: the head and tail of a long text, with a marker between.

    >>> clip("x" * 10, limit=4)
    'xx\n[... 6 characters cut ...]\nxx'
    """
    if text is None or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def redact(text: str | None, secrets: Sequence[str]) -> str | None:
    r"""Replace every line of hidden test source found in ``text`` (a traceback may quote the test).

    >>> redact('File "t.py", line 3\n    assert candidate(2) == 4', ["assert candidate(2) == 4"])
    'File "t.py", line 3\n    <hidden test>'
    """
    if not text:
        return text
    for secret in secrets:
        for line in secret.splitlines():
            line = line.strip()
            if len(line) >= 6 and line in text:
                text = text.replace(line, _REDACTED)
    return text


def show_call(snippet: str | None, entry_point: str | None) -> str | None:
    """Show ``candidate(...)`` with the function's real name, as the agent knows it.

    >>> show_call("assert candidate(candidates) == 2", "count")
    'assert count(candidates) == 2'
    """
    if snippet is None or not entry_point:
        return snippet
    return re.sub(r"\bcandidate\b", entry_point, snippet)


class CodeVerifier:
    """Judges replies to code tasks by running them in a sandbox.

    Args:
        sandbox: A zero-argument callable returning the sandbox to use (the env starts it lazily).
        limits: Resource limits of one run (``None``: the harness defaults, 30 s for a whole function
            test run and 5 s for each stdin/stdout case).
        test_timeout: Wall-clock seconds for each function test.
        visible: ``visible(task)`` gives how many of the task's first tests the agent was shown;
            only those may appear in feedback with their source.
    """

    def __init__(
        self,
        sandbox: Callable[[], Sandbox],
        *,
        limits: Limits | None = None,
        test_timeout: float = 5.0,
        visible: Callable[[Task], int] = lambda task: 0,
    ) -> None:
        self._sandbox = sandbox
        self.limits = limits
        self.test_timeout = test_timeout
        self._visible = visible

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
        except (SandboxUnavailableError, SandboxClosedError, DependencyNotInstalled):
            raise  # no sandbox at all is the user's set-up to fix, not a zero reward to train on
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
        tests = hidden_tests(task)
        entry_point = task.metadata["entry_point"]
        setup = task.hidden.get("setup", "")
        shown = self._visible(task)
        starter = task.metadata.get("starter_code", "")
        completed, offset = complete_program(program, starter, entry_point)
        report = check_function(
            self._sandbox(), completed, entry_point, tests, setup=setup, timeout=self.test_timeout,
            helpers=starter_helpers(starter, entry_point), limits=self.limits or FUNCTION_TEST_LIMITS,
            forbid_mutation=bool(task.metadata.get("forbid_mutation")),
        )
        if offset:
            report = replace(report, stderr=shift_lines(report.stderr, offset), outcomes=[
                replace(o, detail=shift_lines(o.detail, offset), message=shift_lines(o.message, offset) or "")
                for o in report.outcomes
            ])
        secrets = [*tests[shown:], setup]
        checks = []
        for index, (test, outcome) in enumerate(zip(tests, report.outcomes, strict=True)):
            visible = index < shown
            checks.append(CheckResult(
                name=f"test {index + 1}" + (f": {show_call(test, entry_point)}" if visible else " (hidden)"),
                passed=outcome.passed,
                input=redact(show_call(outcome.input, entry_point), secrets),
                expected=redact(outcome.expected, secrets),
                got=_got(outcome),
                detail=None if outcome.passed else redact(clip(_describe(outcome)), secrets),
            ))
        printed = {"stderr": report.stderr, "stdout": report.stdout}
        return self._judge(task, checks, report.outcomes, program, secrets, printed)

    # ----------------------------------------------------------------------------------------- io

    def _verify_io(self, task: Task, program: str, language: str) -> Verdict:
        cases = hidden_cases(task)
        compiled, outcomes = run_io_tests(
            self._sandbox(), language, program, cases, limits=self.limits or IO_TEST_LIMITS
        )
        evidence: dict[str, Any] = {}
        if compiled is not None and compiled.diagnostics:  # warnings of a program that compiled
            evidence["diagnostics"] = clip(format_diagnostics(compiled))
        if compiled is not None and not compiled.ok:
            return not_compiled(len(cases), program, format_diagnostics(compiled) or compiled.raw_output)
        shown = self._visible(task)
        checks = []
        for index, outcome in enumerate(outcomes):
            checks.append(CheckResult(
                name=f"case {index + 1}" + ("" if index < shown else " (hidden)"),
                passed=outcome.passed,
                input=show_value(outcome.input),
                expected=show_value(outcome.expected),
                got=show_value(outcome.got) if outcome.error_kind in (None, WRONG_ANSWER) else _got(outcome),
                detail=None if outcome.passed else clip(_describe(outcome)),
            ))
        stderr = next((o.detail for o in outcomes if not o.passed and o.detail), "")
        return self._judge(task, checks, outcomes, program, [], {**evidence, "stderr": stderr})

    # -------------------------------------------------------------------------------------- both

    def _judge(self, task: Task, checks: list[CheckResult], outcomes: Sequence[TestOutcome], program: str,
               secrets: Sequence[str], evidence: dict[str, Any]) -> Verdict:
        passed = sum(c.passed for c in checks)
        solved = bool(checks) and passed == len(checks)
        evidence = {k: redact(clip(v), secrets) for k, v in evidence.items() if v and v.strip()}
        traceback = next((o.detail for o in outcomes if not o.passed and o.detail), None)
        if traceback and task.metadata.get("style") == "function":
            evidence["traceback"] = redact(clip(clean_traceback(traceback)), secrets)
        kind = None if solved else error_kind_of(outcomes)
        if not passed and task.metadata.get("language", "python") == "python" and kind == RUNTIME_ERROR:
            syntax = compile_source(self._sandbox(), "python", program)  # only on total failure
            if not syntax.ok:
                return not_compiled(len(checks), program, format_diagnostics(syntax), "parse")
        return Verdict(solved, 1.0 if solved else passed / max(1, len(checks)), checks=tuple(checks),
                       error_kind=kind, evidence=evidence, parsed=program)


_DEFINES = r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+{}\b"


_LINE_BUFFERED = "import sys as _fg_sys; _fg_sys.stdout.reconfigure(line_buffering=True)"


def _starter_tree(starter: str) -> ast.Module:
    try:
        return ast.parse(starter) if starter.strip() else ast.Module(body=[], type_ignores=[])
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _is_helper(node: ast.stmt, entry_point: str) -> bool:
    defines = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    return defines and node.name != entry_point


def starter_helpers(starter: str, entry_point: str) -> str:
    r"""The task's own helpers (and the imports they need), to run in the judge as the task's code.

    When a test calls a helper the prompt defines (HumanEval/32 ``poly``, /38 ``encode_cyclic``), the
    task's version must answer, never the program's: a program that redefines ``poly`` to return 0
    would otherwise pass. The entry point itself is left out (the program's is under test).

    >>> starter = "import math\ndef poly(xs, x):\n    return 0\ndef find(xs):\n    pass\n"
    >>> print(starter_helpers(starter, "find"))
    import math
    def poly(xs, x):
        return 0
    """
    body = _starter_tree(starter).body
    if not any(_is_helper(node, entry_point) for node in body):
        return ""
    imports = ast.Import | ast.ImportFrom
    kept = [node for node in body if _is_helper(node, entry_point)
            or (isinstance(node, imports) and getattr(node, "module", "") != "__future__")]
    return "\n".join(ast.unparse(node) for node in kept)


def complete_program(program: str, starter: str, entry_point: str) -> tuple[str, int]:
    r"""Prepare a function-task program: line-buffered prints, and the starter code's imports and helpers.

    HumanEval prompts define imports and helpers (``poly``, ``encode_cyclic``) next to the function to
    write, and the official evaluation runs prompt + completion; an agent that replies with only the
    function should not fail for a missing helper. One line goes before the program: it makes the
    program's ``print`` output line-buffered (the harness ends the program's process without flushing,
    and printed debugging output is feedback the agent asked for) and holds the starter's imports; the
    returned offset (0 or 1) lets tracebacks be renumbered. Helpers the reply does not define go after
    it (a function's globals are looked up when it runs). Only the task's own trusted starter code is
    parsed here; the reply is only searched as text.

    >>> starter = "import math\ndef f(x):\n    return x\ndef g(x):\n    '''doc'''\n"
    >>> code, offset = complete_program("def g(x):\n    return f(x)", starter, "g")
    >>> offset, code.splitlines()[0].endswith("; import math"), code.splitlines()[-2]
    (1, True, 'def f(x):')
    >>> mine = "def g(x):\n    return 1\ndef f(x):\n    return 2"
    >>> complete_program(mine, "def f(x):\n    return x", "g")[0].split("\n", 1)[1] == mine
    True
    >>> complete_program("from __future__ import annotations\ndef g(x): ...", "", "g")[1]
    0
    """
    tree = _starter_tree(starter)
    imports = [
        ast.unparse(node) for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "module", "") != "__future__"
    ]
    helpers = [
        ast.unparse(node) for node in tree.body
        if _is_helper(node, entry_point)
        and not re.search(_DEFINES.format(re.escape(node.name)), program, re.MULTILINE)
    ]
    offset = 0
    if "__future__" not in program:  # a __future__ import must stay the first statement
        program = "; ".join([_LINE_BUFFERED, *imports]) + "\n" + program
        offset = 1
    if helpers:
        program = program.rstrip() + "\n\n\n" + "\n\n\n".join(helpers) + "\n"
    return program, offset


_LINE_REFERENCES = re.compile(
    r'(File "(?:candidate|main)\.py", line |\((?:candidate|main)\.py, line |main\.py:)(\d+)'
)


def shift_lines(text: str | None, offset: int) -> str | None:
    """Renumber the program's line references after :func:`complete_program` added ``offset`` lines.

    >>> shift_lines('File "candidate.py", line 5, in f', 1)
    'File "candidate.py", line 4, in f'
    """
    if not text or not offset:
        return text
    return _LINE_REFERENCES.sub(lambda m: f"{m.group(1)}{max(1, int(m.group(2)) - offset)}", text)


def not_compiled(count: int, program: str, diagnostics: str, verb: str = "compile") -> Verdict:
    """The verdict for a program that does not compile (C/C++) or parse (Python): no test ran."""
    return Verdict(
        False, 0.0,
        checks=tuple(CheckResult(f"test {i + 1}", False, detail=f"not run: the program does not {verb}")
                     for i in range(count)),
        error_kind=COMPILE_ERROR,
        message=f"the program does not {verb}",
        evidence={"diagnostics": clip(diagnostics) or f"the program does not {verb}"},
        parsed=program,
    )


def clean_traceback(text: str | None) -> str | None:
    r"""Keep only the frames of the agent's own program (the harness's frames are noise to it).

    >>> print(clean_traceback('Traceback (most recent call last):\n'
    ...                       '  File "/opt/feedback-gym/feedback_gym_judge.py", line 9, in serve_candidate\n'
    ...                       '    result = f()\n  File "candidate.py", line 2, in f\n    return xs[9]\n'
    ...                       'IndexError: list index out of range'))
    Traceback (most recent call last):
      File "candidate.py", line 2, in f
        return xs[9]
    IndexError: list index out of range
    """
    if not text:
        return text
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("  File "):
            skipping = 'File "candidate.py"' not in line
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def show_value(value: str | None, limit: int = 500) -> str | None:
    """A value for a ``tests`` line: trailing newlines dropped, several lines indented under the label."""
    if value is None:
        return None
    value = clip(value.rstrip("\n"), limit) or ""
    if "\n" in value:
        return "\n" + "\n".join("      " + line for line in value.split("\n"))
    return value


def _got(outcome: TestOutcome) -> str | None:
    """What the program produced: its value, or the error it raised (the ``tests`` view shows this)."""
    if outcome.passed:
        return outcome.got
    if outcome.error_kind == WRONG_ANSWER:  # an assert that is not `A == B` has no value to show
        return outcome.got if outcome.got is not None else f"({outcome.message or 'an assertion failed'})"
    return f"error: {outcome.message}" if outcome.message else outcome.got


def _describe(outcome: TestOutcome) -> str | None:
    """A failed test's message, when it says more than ``got`` already does (an assert's message)."""
    message = outcome.message or ""
    if not message or message in ("wrong answer", "wrong output", "an assertion failed"):
        return None
    if outcome.error_kind != WRONG_ANSWER or outcome.got is None:
        return None  # already shown as "got"
    return message


def error_kind_of(outcomes: Sequence[Any]) -> str:
    """The verdict's error kind: the most serious kind among the failing tests.

    A checker failure outranks a compile error, which outranks a timeout, then a crash; a plain
    wrong answer is what is left.

    >>> error_kind_of([TestOutcome(False, "wrong_answer"), TestOutcome(False, "timeout")])
    'timeout'
    >>> error_kind_of([TestOutcome(True), TestOutcome(False, "wrong_answer")])
    'wrong_answer'
    """
    kinds = [o.error_kind for o in outcomes if not o.passed]
    kinds = [TIMEOUT if kind == NOT_RUN else kind for kind in kinds]  # not run: a timeout stopped it
    for wanted in (INTERNAL_ERROR, COMPILE_ERROR, TIMEOUT, RUNTIME_ERROR):
        if wanted in kinds:
            return wanted
    return WRONG_ANSWER


def format_diagnostics(compiled: CompileResult) -> str:
    """Render compiler diagnostics as ``file:line:column: severity: message`` lines."""
    return "\n".join(str(d) for d in compiled.diagnostics)
