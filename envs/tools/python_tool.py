"""The python tool: the agent's code runs in the sandbox, never in the environment's process.

State persists across calls within an episode the way a notebook's does, without keeping a process
alive between steps: every call is one fresh sandbox job that first replays the episode's earlier
*successful* cells with their output silenced, then runs the new cell and shows only its output
(and, as in a REPL, the value of a final expression). A new episode starts with no cells, so nothing
leaks from one episode to the next. The cost is that earlier cells run again: keep them cheap, and
note that a cell whose result is random may give a different value when replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.sandboxes.base import KILLED_SANDBOX, ExecResult, Job, Limits, Sandbox

MAX_CODE_CHARS = 20_000
#: The exit status of the driver when an earlier cell fails on replay.
REPLAY_FAILED = 3
DEFAULT_LIMITS = Limits(wall_seconds=10.0, cpu_seconds=10.0, memory_mb=1024, output_bytes=32 * 1024)

#: Runs inside the sandbox as ``main.py``: replays ``cells.json`` and shows the last cell's output.
DRIVER = r'''
import ast, json, linecache, os, sys, traceback

cells = json.load(open("cells.json", encoding="utf-8"))
namespace = {"__name__": "__main__", "__builtins__": __builtins__}


def run(index, source, show_value):
    name = f"<cell {index}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    tree = ast.parse(source, name, "exec")
    last = None
    if show_value and tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(last, name, "eval"), namespace)
        if value is not None:
            print(repr(value))


real = sys.stdout, sys.stderr
sys.stdout = sys.stderr = open(os.devnull, "w")
for index, source in enumerate(cells[:-1], start=1):
    try:
        run(index, source, False)
    except SystemExit as err:
        if err.code not in (None, 0):
            sys.stdout, sys.stderr = real
            print(f"earlier cell {index} exited with status {err.code} when replayed", file=sys.stderr)
            sys.exit(3)
    except BaseException as err:
        sys.stdout, sys.stderr = real
        print(f"earlier cell {index} failed when replayed ({type(err).__name__}: {err}); "
              "its state is lost", file=sys.stderr)
        sys.exit(3)
sys.stdout, sys.stderr = real
try:
    run(len(cells), cells[-1], True)
except SystemExit as err:
    if err.code not in (None, 0):
        raise
except BaseException as err:
    sys.stdout.flush()
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith("<cell")]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(err), err)
    sys.stderr.write("".join(lines))
    sys.exit(1)
sys.stdout.flush()
os.write(3, b"ok")  # the cell ran to its end (an exit code alone could come from os._exit in a cell)
'''


class PythonTool:
    """The ``python`` tool: per-episode cells, each call one sandbox job (see the module docstring).

    ``sandbox_factory`` is called on the first call only, so an episode that never runs code never
    starts a sandbox.
    """

    def __init__(self, sandbox_factory: Callable[[], Sandbox], limits: Limits = DEFAULT_LIMITS) -> None:
        self._factory = sandbox_factory
        self._sandbox: Sandbox | None = None
        self.limits = limits
        self.cells: list[str] = []

    def reset(self) -> None:
        """Forget every cell: the next episode starts from a clean interpreter."""
        self.cells = []

    def forget_sandbox(self) -> None:
        """Drop the sandbox (its owner closed it); the next call makes a new one."""
        self._sandbox = None

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox, created on first use."""
        if self._sandbox is None:
            self._sandbox = self._factory()
        return self._sandbox

    def execute(self, code: str) -> ExecResult:
        """Run ``code`` after replaying the earlier successful cells; keep it if it succeeds."""
        job = Job(
            language="python",
            source=DRIVER,
            files={"cells.json": json.dumps([*self.cells, code])},
            limits=self.limits,
            channel=True,
        )
        result = self.sandbox.run(job)
        if result.ok and result.channel == b"ok":
            self.cells.append(code)
        return result

    def python(self, code: str) -> str:
        r"""Run Python 3 code in a sandbox and return what it prints.

        Variables, functions and imports from earlier successful calls in this episode are kept.
        The value of a final expression is shown, as in a notebook. No network, no files outside
        the working directory, about 10 seconds per call.

        Args:
            code: The Python source to run, e.g. "import statistics\nprint(statistics.median([3, 1, 2]))".
        """
        if not code.strip():
            raise ToolError("the code is empty")
        if len(code) > MAX_CODE_CHARS:
            raise ToolError(f"the code is longer than {MAX_CODE_CHARS} characters")
        result = self.execute(code)
        text = render_execution(result, self.limits)
        if not result.ok:
            raise ToolError(text)
        if result.channel != b"ok":
            ended = "the process ended before the code finished; nothing from this call is kept"
            raise ToolError(f"{text}\n{ended}")
        return text


def render_execution(result: ExecResult, limits: Limits) -> str:
    r"""What the agent sees of one run: output, then the error or the reason it was stopped.

    >>> render_execution(ExecResult(0, stdout="4\n"), DEFAULT_LIMITS)
    '4'
    >>> print(render_execution(ExecResult(1, stdout="a\n", stderr="NameError: x"), DEFAULT_LIMITS))
    a
    NameError: x
    >>> render_execution(ExecResult(-9, timed_out=True, killed_reason="timeout"), DEFAULT_LIMITS)
    '(no output)\nthe code ran longer than 10 s and was stopped'
    """
    if result.killed_reason == KILLED_SANDBOX:
        raise ToolError(f"the sandbox could not run the code ({result.message or 'no details'}); try again")
    parts = [p.rstrip("\n") for p in (result.stdout, result.stderr) if p.strip()]
    if result.timed_out:
        parts.append(f"the code ran longer than {limits.wall_seconds:g} s and was stopped")
    elif result.killed_reason:
        detail = f": {result.message}" if result.message else ""
        parts.append(f"the code was stopped ({result.killed_reason}{detail})")
    elif not result.ok and not result.stderr.strip():
        parts.append(f"the code exited with status {result.exit_code}")
    if result.ok and not parts:
        return "(no output)"
    if not result.ok and not result.stdout.strip():
        parts.insert(0, "(no output)")
    return "\n".join(parts)
