"""The protocol suite: every backend must pass it unchanged."""

from __future__ import annotations

import threading

import pytest

from feedback_gym.errors import SandboxClosedError
from feedback_gym.sandboxes import Job, Limits, make_sandbox

from .conftest import _config


def test_python_job_gets_stdin_files_and_argv(sandbox):
    source = (
        "import sys\n"
        "data = sys.stdin.read()\n"
        "print(data.upper(), open('data/in.txt').read(), sys.argv[1:])\n"
        "print('to stderr', file=sys.stderr)\n"
    )
    result = sandbox.run(
        Job(language="python", source=source, argv=["a", "b"], stdin="hello", files={"data/in.txt": "F"})
    )
    assert result.ok, result
    assert result.stdout == "HELLO F ['a', 'b']\n"
    assert result.stderr == "to stderr\n"
    assert not result.timed_out and not result.stdout_truncated


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("import sys; sys.exit(3)", 3),
        ("raise ValueError('boom')", 1),
        ("import os; os._exit(7)", 7),
        ("import sys; sys.exit('message')", 1),
        ("pass", 0),
    ],
)
def test_exit_codes(sandbox, source, code):
    result = sandbox.run(Job(language="python", source=source))
    assert result.exit_code == code
    assert result.killed_reason is None


def test_uncaught_exception_prints_a_traceback(sandbox):
    result = sandbox.run(Job(language="python", source="def f():\n    raise ValueError('boom')\nf()\n"))
    assert result.exit_code == 1
    assert "ValueError: boom" in result.stderr and 'File "main.py", line 2' in result.stderr


def test_exec_job_and_collected_files(sandbox):
    result = sandbox.run(
        Job(argv=["sh", "-c", "echo made > out.txt; cat -"], stdin="piped", collect=["out.txt"])
    )
    assert result.ok, result
    assert result.stdout == "piped"
    assert result.files == {"out.txt": b"made\n"}


def test_missing_program_is_an_exit_code_not_an_exception(sandbox):
    result = sandbox.run(Job(argv=["/no/such/binary"]))
    assert result.exit_code == 127
    assert "cannot execute" in result.stderr


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("c", '#include <stdio.h>\nint main(){int a,b;scanf("%d %d",&a,&b);printf("%d\\n",a*b);return 0;}'),
        ("cpp", "#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a*b<<'\\n';}"),
    ],
)
def test_c_and_cpp_jobs_compile_and_run(sandbox, language, source):
    result = sandbox.run(Job(language=language, source=source, stdin="6 7"))
    assert result.ok, result
    assert result.stdout == "42\n"


def test_c_compile_error_comes_back_as_the_result(sandbox):
    result = sandbox.run(Job(language="c", source="int main(){ return x; }"))
    assert result.exit_code != 0
    assert "x" in result.stderr and "undeclared" in result.stderr


def test_output_is_capped_with_a_visible_marker(sandbox):
    limits = Limits(output_bytes=1000)
    result = sandbox.run(Job(language="python", source="print('x' * 5000)", limits=limits))
    assert result.stdout_truncated and not result.stderr_truncated
    assert result.stdout.startswith("x" * 1000)
    assert "output truncated" in result.stdout


def test_environment_is_scrubbed(sandbox):
    source = "import os, json; print(json.dumps(dict(os.environ)))"
    result = sandbox.run(Job(language="python", source=source, env={"MY_VAR": "1"}))
    import json
    import os

    env = json.loads(result.stdout)
    assert env["MY_VAR"] == "1"
    assert not any(key.endswith("_API_KEY") or key.startswith("FEEDBACK_GYM") for key in env)
    assert env["HOME"] != os.environ.get("HOME")
    assert env["HOME"] == env["TMPDIR"]


def test_run_many_keeps_job_order(sandbox):
    jobs = [
        Job(language="python", source=f"import time; time.sleep({0.05 * (5 - i)}); print({i})")
        for i in range(6)
    ]
    assert [r.stdout for r in sandbox.run_many(jobs)] == [f"{i}\n" for i in range(6)]


def test_thread_safe_under_concurrent_callers(sandbox):
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = sandbox.run(Job(language="python", source=f"print({i} * {i})")).stdout

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"{i * i}\n" for i in range(12)}


@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_close_is_idempotent_and_final(backend):
    box = make_sandbox(_config(backend, 1))
    assert box.run(Job(language="python", source="print(1)")).stdout == "1\n"
    box.close()
    box.close()
    with pytest.raises(SandboxClosedError):
        box.run(Job(language="python", source="print(1)"))


def test_fork_server_keeps_the_judge_warm(sandbox):
    """The server imports the judge once (``-I`` keeps its directory off ``sys.path``): no job compiles it."""
    source = "import sys\nprint('feedback_gym_judge' in sys.modules)"
    warm = sandbox.run(Job(language="python", source=source))
    assert warm.stdout.strip() == "True"
    path = sandbox.run(Job(language="python", source="import sys\nprint(sys.path)"))
    assert "/opt/feedback-gym" not in path.stdout
