"""The python tool runs in the local sandbox, keeps state within an episode and nothing across them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedback_gym.envs.tools.python_tool import PythonTool
from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.sandboxes import Limits, Sandbox, make_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = make_sandbox("local")
    yield box
    box.close()


@pytest.fixture
def tool(sandbox: Sandbox) -> PythonTool:
    return PythonTool(lambda: sandbox, limits=Limits(wall_seconds=2.0, cpu_seconds=2.0, memory_mb=512))


def test_state_persists_and_only_the_new_cell_prints(tool: PythonTool) -> None:
    assert tool.python("x = 20\nprint('defined x')") == "defined x"
    assert tool.python("def f(n):\n    return n + x\nf(1)") == "21"
    assert tool.python("import statistics\nstatistics.mean([x, f(2)])") == "21"
    assert tool.python("y = 5") == "(no output)"
    assert tool.cells[-1] == "y = 5" and len(tool.cells) == 4


def test_errors_show_a_traceback_of_the_cell_and_are_not_kept(tool: PythonTool) -> None:
    tool.python("a = 1")
    with pytest.raises(ToolError) as caught:
        tool.python("print('before')\nb = a / 0")
    text = str(caught.value)
    assert text.startswith("before\nTraceback")
    assert 'File "<cell 2>", line 2' in text and "ZeroDivisionError: division by zero" in text
    assert "main.py" not in text and "exec(" not in text  # the driver's frames are hidden
    with pytest.raises(ToolError, match="NameError: name 'b' is not defined"):
        tool.python("b")
    with pytest.raises(ToolError, match="SyntaxError"):
        tool.python("def (")
    assert tool.cells == ["a = 1"]
    assert tool.python("a + 1") == "2"


def test_code_runs_outside_the_environment_process(tool: PythonTool, tmp_path: Path) -> None:
    assert int(tool.python("import os\nos.getpid()")) != os.getpid()
    probe = tmp_path / "written-by-the-agent"
    with pytest.raises(ToolError):
        tool.python(f"open({str(probe)!r}, 'w').write('x')\nprint(open({str(probe)!r}).read())")
    assert not probe.exists()


def test_runaway_code_is_stopped(tool: PythonTool) -> None:
    with pytest.raises(ToolError, match="longer than 2 s|stopped"):
        tool.python("while True:\n    pass")
    assert tool.cells == []


def test_reset_forgets_every_cell(tool: PythonTool) -> None:
    tool.python("secret = 42")
    tool.reset()
    with pytest.raises(ToolError, match="NameError"):
        tool.python("secret")


def test_empty_and_huge_code_is_refused(tool: PythonTool) -> None:
    with pytest.raises(ToolError, match="empty"):
        tool.python("   ")
    with pytest.raises(ToolError, match="longer than"):
        tool.python("x = 1\n" * 5000)


def test_the_sandbox_is_created_lazily() -> None:
    made = []
    tool = PythonTool(lambda: made.append(1) or make_sandbox("local"))
    assert made == []
    tool.reset()
    assert made == []


def test_exits_do_not_poison_the_session(tool: PythonTool) -> None:
    tool.python("a = 1")
    assert tool.python("import sys\nprint('bye')\nsys.exit(0)") == "bye"
    assert tool.python("a + 1") == "2"  # the exiting cell replays without stopping the rest
    with pytest.raises(ToolError, match="exited with status 3|status 3"):
        tool.python("import sys\nsys.exit(3)")
    with pytest.raises(ToolError, match="ended before the code finished"):
        tool.python("import os\nos._exit(0)")  # ends the process before the driver's end
    assert tool.cells == ["a = 1", "import sys\nprint('bye')\nsys.exit(0)", "a + 1"]
    assert tool.python("a * 10") == "10"
