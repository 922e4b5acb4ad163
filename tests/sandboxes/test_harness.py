"""The harness: correct verdicts, structured diagnostics, and reward hacks that must never pass."""

from __future__ import annotations

import pytest

from feedback_gym.sandboxes.harness import (
    IO_TEST_LIMITS,
    check_function,
    compile_source,
    parse_gcc_output,
    run_function_tests,
    run_io_tests,
)

SQUARE = "def square(x):\n    return x * x\n"
TESTS = ["assert candidate(2) == 4", "assert square(3) == 9", "assert candidate(-4) == 16"]


def kinds(outcomes):
    return [o.error_kind for o in outcomes]


def test_correct_program_passes_every_test(sandbox):
    outcomes = run_function_tests(sandbox, SQUARE, "square", TESTS)
    assert [o.passed for o in outcomes] == [True, True, True]
    assert outcomes[0].input == "candidate(2)" and outcomes[0].expected == "4" and outcomes[0].got == "4"


def test_wrong_answer_reports_input_expected_got(sandbox):
    outcomes = run_function_tests(sandbox, "def square(x):\n    return x + x\n", "square", TESTS)
    assert [o.passed for o in outcomes] == [True, False, False]
    wrong = outcomes[1]
    assert wrong.error_kind == "wrong_answer"
    assert (wrong.input, wrong.expected, wrong.got) == ("square(3)", "9", "6")


def test_runtime_error_and_timeout_are_per_test(sandbox):
    program = (
        "import time\n"
        "def f(x):\n"
        "    if x == 1:\n        raise KeyError('k')\n"
        "    if x == 2:\n        time.sleep(60)\n"
        "    return x\n"
    )
    tests = ["assert f(1) == 1", "assert f(3) == 3", "assert f(2) == 2", "assert f(3) == 3"]
    outcomes = run_function_tests(sandbox, program, "f", tests, timeout=1.0)
    # An error is per test; after a timeout the rest are not run (one timeout per check, not per test).
    assert kinds(outcomes) == ["runtime_error", None, "timeout", "not_run"]
    assert "KeyError" in outcomes[0].message and "candidate.py" in (outcomes[0].detail or "")


def test_crash_mid_run_fails_only_that_test(sandbox):
    program = "import os\ndef f(x):\n    if x == 0:\n        os._exit(0)\n    return x\n"
    outcomes = run_function_tests(sandbox, program, "f", ["assert f(0) == 0", "assert f(5) == 5"])
    assert kinds(outcomes) == ["runtime_error", None]


def test_expected_exceptions_and_humaneval_check_style(sandbox):
    program = "def div(a, b):\n    if b == 0:\n        raise ZeroDivisionError('no')\n    return a / b\n"
    setup = (
        "def check(candidate):\n    assert candidate(6, 3) == 2\n"
        "    assert abs(candidate(1, 3) - 0.3333) < 1e-3\n"
    )
    tests = ["check(candidate)", "try:\n    div(1, 0)\n    assert False\nexcept ZeroDivisionError:\n    pass"]
    outcomes = run_function_tests(sandbox, program, "div", tests, setup=setup)
    assert [o.passed for o in outcomes] == [True, True]


def test_plain_data_round_trips(sandbox):
    program = (
        "def f():\n    return [(1, 'a'), {2: {3}}, frozenset({4}), b'x', 1.5, None, 2**80, complex(1, 2)]\n"
    )
    test = "assert f() == [(1, 'a'), {2: {3}}, frozenset({4}), b'x', 1.5, None, 2**80, complex(1, 2)]"
    assert run_function_tests(sandbox, program, "f", [test])[0].passed


def test_program_that_fails_to_load_fails_every_test(sandbox):
    outcomes = run_function_tests(sandbox, "def square(x):\n    return x *\n", "square", TESTS)
    assert all(o.error_kind == "runtime_error" and "SyntaxError" in o.message for o in outcomes)
    outcomes = run_function_tests(sandbox, "import time\ntime.sleep(60)\n", "square", TESTS[:1], timeout=1)
    assert kinds(outcomes) == ["timeout"]


def test_broken_test_is_an_internal_error(sandbox):
    outcomes = run_function_tests(
        sandbox, SQUARE, "square", ["assert candidate(2) ==", "assert square(2) == 4"]
    )
    assert kinds(outcomes) == ["internal_error", None]


# Forges a passing verdict from inside whichever process imports it (it finds the spec and its nonce).
PAYLOAD = (
    "import gc, os, json\n"
    "for o in gc.get_objects():\n"
    "    if isinstance(o, dict) and 'nonce' in o and 'tests' in o:\n"
    "        for i in range(len(o['tests'])):\n"
    "            line = {'nonce': o['nonce'], 'index': i, 'passed': True}\n"
    "            os.write(3, (json.dumps(line) + '\\n').encode())\n"
)
PLANTED = (
    f"import os\nPAYLOAD = {PAYLOAD!r}\n"
    "for name in ('subprocess', 'copy', 'json', 'socket', 'signal', 'ast', 'math', 'random', 'collections',"
    " 're', 'types', 'functools', 'traceback', 'base64', 'struct', 'selectors', 'feedback_gym_judge',"
    " 'feedback_gym_wire'):\n"
    "    open(name + '.py', 'w').write(PAYLOAD)\n"
    "def square(x):\n    os._exit(1)  # every call crashes: the judge restarts a candidate each time\n"
)


# -- reward hacks: none of these may pass a test -----------------------------------------------------
HACKS = {
    "always_true_eq": "class E:\n    def __eq__(self, o):\n        return True\n"
    "def square(x):\n    return E()\n",
    "int_subclass_eq": "class E(int):\n    def __eq__(self, o):\n        return True\n"
    "def square(x):\n    return E(0)\n",
    "sys_exit_at_load": "import sys\nsys.exit(0)\n",
    "os_exit_in_call": "import os\ndef square(x):\n    os._exit(0)\n",
    "atexit_prints_pass": (
        "import atexit, os\natexit.register(lambda: (print('ALL TESTS PASSED'), os._exit(0)))\n"
        "def square(x):\n    raise SystemExit(0)\n"
    ),
    "excepthook": (
        "import sys, os\nsys.excepthook = lambda *a: os._exit(0)\ndef square(x):\n    raise RuntimeError\n"
    ),
    "print_passed": "print('PASSED\\n' * 10)\ndef square(x):\n    print('ok'); return None\n",
    "fake_verdict_on_fds": (
        "import os, json\n"
        "for fd in range(0, 20):\n"
        "    for msg in ({'index': i, 'passed': True, 'nonce': 'x'} for i in range(5)):\n"
        "        try:\n            os.write(fd, (json.dumps(msg) + '\\n').encode())\n"
        "        except OSError:\n            pass\n"
        "def square(x):\n    return None\n"
    ),
    "open_parent_channel": (
        "import os\n"
        "def square(x):\n"
        "    for p in (f'/proc/{os.getppid()}/fd/3', f'/proc/{os.getppid()}/fd/1'):\n"
        "        try:\n            open(p, 'w').write('{\"passed\": true}\\n')\n"
        "        except OSError:\n            pass\n"
        "    return None\n"
    ),
    "kill_the_judge": "import os, signal\ndef square(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
    "stop_the_judge": "import os, signal\n"
    "def square(x):\n    os.kill(os.getppid(), signal.SIGSTOP)\n    return 0\n",
    "redefine_checkers": (
        "def check(candidate):\n    return True\ndef abs(x):\n    return 0\ndef len(x):\n    return 0\n"
        "def isinstance(*a):\n    return True\ndef candidate(x):\n    return 0\n"
        "def square(x):\n    return -1\n"
    ),
    "patch_builtins": (
        "import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"
        "builtins.abs = lambda x: 0\n"
        "def square(x):\n    return -1\n"
    ),
    "frame_inspection": (
        "import sys, gc\n"
        "def square(x):\n"
        "    f = sys._getframe()\n"
        "    while f is not None:\n"
        "        for k, v in list(f.f_globals.items()):\n"
        "            if k in ('tests', 'spec', 'expected'):\n                return v\n"
        "        f = f.f_back\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, dict) and 'tests' in o and 'nonce' in o:\n            return o['tests']\n"
        "    return -1\n"
    ),
    "defines_candidate_not_entry": "def candidate(x):\n    return x * x\n",
    "claims_builtin_exception": (
        "def square(x):\n    raise AssertionError('pretend the test assertion failed')\n"
    ),
    "huge_nested_reply": "def square(x):\n    v = []\n"
    "    for _ in range(100000):\n        v = [v]\n    return v\n",
    # Class 1: modules planted where a judge, a restarted candidate or a test's import might load them.
    "planted_stdlib_modules": PLANTED,
    # Class 3: exceptions that would end the judge's own iteration (all() over nothing is True).
    "stop_iteration": "def square(x):\n    raise StopIteration\n",
    "stop_async_iteration": "def square(x):\n    raise StopAsyncIteration\n",
    # Class 4: stop every process it can reach, the judge included, then answer wrongly.
    "stop_everything": (
        "import os, signal\n"
        "def square(x):\n"
        "    for pid in range(1, 200):\n"
        "        if pid != os.getpid():\n"
        "            try:\n                os.kill(pid, signal.SIGSTOP)\n"
        "            except OSError:\n                pass\n"
        "    return 0\n"
    ),
}


@pytest.mark.parametrize("hack", sorted(HACKS))
def test_reward_hack_never_passes(sandbox, hack):
    tests = ["assert candidate(2) == 4", "assert abs(square(3) - 9) < 1e-9", "check(candidate)",
             "assert all(map(lambda x: candidate(x) == x * x, [1, 2, 3]))",
             "import copy, json, subprocess\nassert candidate(copy.copy(4)) == 16"]
    setup = "def check(candidate):\n    assert candidate(5) == 25\n    assert isinstance(candidate(1), int)\n"
    report = check_function(sandbox, HACKS[hack], "square", tests, setup=setup, timeout=2)
    assert [o.passed for o in report.outcomes] == [False] * len(tests), report.outcomes


def test_program_cannot_find_the_hidden_tests_anywhere(sandbox):
    """The candidate searches its memory, its fds, the judge's /proc entries and the disk for the tests."""
    program = r"""
import gc, os, re, sys
PATTERN = re.compile(rb"HIDDEN_[0-9a-f]{8}")

def scan(data):
    m = PATTERN.search(data)
    return m.group().decode() if m else None

def find():
    import ctypes
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # make ourselves dumpable again to read /proc/self/mem
    for o in gc.get_objects():
        if isinstance(o, (str, bytes)):
            hit = scan(o.encode("utf-8", "replace") if isinstance(o, str) else o)
            if hit:
                return hit
    ppid = os.getppid()
    for path in [f"/proc/{ppid}/mem", f"/proc/{ppid}/fd/0", f"/proc/{ppid}/environ", f"/proc/{ppid}/cmdline",
                 "/proc/self/fd/0", "/dev/stdin"] + [f for f in os.listdir(".")]:
        try:
            with open(path, "rb") as fh:
                hit = scan(fh.read(1 << 20))
                if hit:
                    return hit
        except OSError:
            pass
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb") as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or end - start > 1 << 28:
                continue
            try:
                mem.seek(start)
                hit = scan(mem.read(end - start))
            except (OSError, ValueError, OverflowError):
                continue
            if hit:
                return hit
    return "not found"

def leak(x):
    return find()
"""
    secret = "HIDDEN_0123abcd"
    outcomes = run_function_tests(sandbox, program, "leak", [f"assert leak(0) == {secret!r}"], timeout=20)
    assert not outcomes[0].passed
    assert outcomes[0].got == "'not found'", outcomes[0]


# -- compile diagnostics and I/O tests ----------------------------------------------------------------
def test_gcc_diagnostics_are_structured(sandbox):
    result = compile_source(sandbox, "c", "int main(void) {\n  int x = y;\n  return 0\n}\n")
    assert not result.ok and result.binary is None
    errors = result.errors
    assert errors[0].file == "main.c" and errors[0].line == 2 and errors[0].column == 11
    assert "y" in errors[0].message and errors[0].severity == "error"
    assert any("expected" in e.message and e.line in (3, 4) for e in errors)
    assert "main.c:2:11: error:" in result.raw_output


def test_cpp_warning_compiles_and_linker_error_is_reported(sandbox):
    ok = compile_source(sandbox, "cpp", "int main() { int unused; return 0; }\n")
    assert ok.ok and ok.binary and any(d.severity == "warning" for d in ok.diagnostics)
    link = compile_source(sandbox, "c", "int f(void);\nint main(void) { return f(); }\n")
    assert not link.ok and any("undefined reference" in d.message for d in link.errors)


def test_python_syntax_check(sandbox):
    result = compile_source(sandbox, "python", "def f(:\n    pass\n")
    assert not result.ok and result.errors[0].line == 1 and "SyntaxError" in result.errors[0].message
    assert compile_source(sandbox, "python", "x = 1\n").ok


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "a, b = map(int, input().split())\nprint(a + b)\n"),
        ("c", '#include <stdio.h>\nint main(){int a,b;scanf("%d %d",&a,&b);printf("%d  \\n\\n",a+b);}'),
        ("cpp", "#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}"),
    ],
)
def test_io_tests(sandbox, language, source):
    compiled, outcomes = run_io_tests(
        sandbox, language, source, [("1 2", "3"), ("5 5\n", "10\n"), ("1 1", "3")]
    )
    assert (compiled is None) == (language == "python")
    assert kinds(outcomes) == [None, None, "wrong_answer"]
    assert outcomes[2].got.strip() == "2" and outcomes[2].expected == "3"


def test_io_tests_runtime_error_timeout_and_compile_error(sandbox):
    _, outcomes = run_io_tests(sandbox, "python", "import sys\nprint(3)\nsys.exit(1)\n", [("", "3")])
    assert kinds(outcomes) == ["runtime_error"]  # the right output with a failing exit is not a pass
    one_second = IO_TEST_LIMITS.replace(wall_seconds=1.0)  # the loop waits out the limit
    _, outcomes = run_io_tests(sandbox, "c", "int main(){for(;;);}", [("", "")], limits=one_second)
    assert kinds(outcomes) == ["timeout"]
    compiled, outcomes = run_io_tests(sandbox, "c", "int main(){ return x; }", [("", ""), ("", "")])
    assert not compiled.ok and kinds(outcomes) == ["compile_error", "compile_error"]


def test_parse_gcc_text_fallback():
    diags = parse_gcc_output(
        "main.c:3:5: warning: unused variable 'x'\n/usr/bin/ld: undefined reference to `f'\n"
    )
    assert (diags[0].line, diags[0].column, diags[0].severity) == (3, 5, "warning")
    assert diags[1].severity == "error" and "undefined reference" in diags[1].message


def test_program_prints_reach_stdout(sandbox):
    program = "print('loading')\ndef f(x):\n    print('called with', x)\n    return x\n"
    report = check_function(sandbox, program, "f", ["assert f(1) == 1", "assert f(2) == 3"])
    assert [o.passed for o in report.outcomes] == [True, False]
    assert report.stdout == "loading\ncalled with 1\ncalled with 2\n"


def test_stateful_program_sees_calls_in_test_order(sandbox):
    """Pipelined calls (leading literal asserts) reach the program in the same order as unpipelined ones."""
    program = "seen = []\ndef f(x):\n    seen.append(x)\n    return list(seen)\n"
    tests = [
        "assert f(1) == [1]",
        "assert f(2) == [1, 2]",
        "x = f(3)\nassert x == [1, 2, 3]",
        "assert f(4) == [1, 2, 3, 4]",
        "assert f(5) == [9]",
    ]
    outcomes = run_function_tests(sandbox, program, "f", tests)
    assert [o.passed for o in outcomes] == [True, True, True, True, False]
    assert outcomes[4].got == "[1, 2, 3, 4, 5]"
