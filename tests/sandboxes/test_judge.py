"""The judge under attack on its time and its names: one budget, the task's helpers, bounded decoding."""

from __future__ import annotations

import time

from feedback_gym.sandboxes.harness import check_function, run_io_tests

SEVEN = [f"assert candidate({i}) == {i * 2}" for i in range(7)]


def test_an_infinite_loop_costs_one_timeout_not_one_per_test(sandbox):
    start = time.monotonic()
    report = check_function(sandbox, "def f(x):\n    while True:\n        pass\n", "f", SEVEN, timeout=1.0)
    elapsed = time.monotonic() - start
    assert [o.error_kind for o in report.outcomes] == ["timeout"] + ["not_run"] * 6
    assert "not run" in report.outcomes[1].message
    assert elapsed < 1.0 + 2.0, elapsed


def test_an_infinite_loop_at_load_costs_one_timeout(sandbox):
    start = time.monotonic()
    report = check_function(sandbox, "while True:\n    pass\n", "f", SEVEN, timeout=1.0)
    assert {o.error_kind for o in report.outcomes} == {"timeout"}
    assert time.monotonic() - start < 3.0


def test_the_tests_share_one_budget(sandbox):
    """Slow but finishing calls stop at the shared budget; the rest are reported as not run."""
    from feedback_gym.sandboxes import Limits

    program = "import time\ndef f(x):\n    time.sleep(0.4)\n    return x * 2\n"
    start = time.monotonic()
    report = check_function(sandbox, program, "f", SEVEN, timeout=1.0, limits=Limits(wall_seconds=1.0))
    kinds = [o.error_kind for o in report.outcomes]
    assert kinds[:2] == [None, None] and "not_run" in kinds, kinds
    assert time.monotonic() - start < 1.0 + 2.5


def test_a_reply_trickled_byte_by_byte_times_out_on_schedule(sandbox):
    """A per-recv timeout would be reset by each byte; the judge's deadline covers the whole reply."""
    program = (
        "import os, struct, time\n"
        "def f(x):\n"
        "    os.write(3, struct.pack('>I', 1000))\n"
        "    for _ in range(100):\n"
        "        os.write(3, b' ')\n"
        "        time.sleep(0.3)\n"
    )
    start = time.monotonic()
    report = check_function(sandbox, program, "f", SEVEN, timeout=1.0)
    assert report.outcomes[0].error_kind == "timeout", report.outcomes[0]
    assert time.monotonic() - start < 1.0 + 2.0


def test_a_hash_colliding_reply_is_decoded_within_the_deadline(sandbox):
    """Ints equal modulo 2**61 - 1 share a hash: a set of them costs the judge quadratic time to build."""
    program = (
        "import json, os, struct\n"
        "def f(x):\n"
        "    items = [{'I': str((2**61 - 1) * i)} for i in range(1, 60000)]\n"
        "    body = json.dumps({'ok': {'S': items}}).encode()\n"
        "    os.write(3, struct.pack('>I', len(body)) + body)\n"
        "    import time; time.sleep(60)\n"
    )
    start = time.monotonic()
    report = check_function(sandbox, program, "f", SEVEN[:2], timeout=2.0)
    assert not report.outcomes[0].passed
    assert time.monotonic() - start < 2.0 + 4.0


def test_the_tasks_helpers_answer_for_themselves(sandbox):
    """HumanEval/32: the test calls the prompt's ``poly``; a program's own ``poly`` must not answer for it."""
    helpers = "def poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n"
    cheat = "def poly(xs, x):\n    return 0\ndef find_zero(xs):\n    return 123.0\n"
    honest = helpers + "def find_zero(xs):\n    return -xs[0] / xs[1]\n"
    tests = ["assert abs(poly([2, 4], candidate([2, 4]))) < 1e-6"]
    assert not check_function(sandbox, cheat, "find_zero", tests, helpers=helpers).outcomes[0].passed
    assert check_function(sandbox, honest, "find_zero", tests, helpers=helpers).outcomes[0].passed
    # Without the task's helpers, the program's own answers (the old behaviour, kept for MBPP-style names).
    assert check_function(sandbox, cheat, "find_zero", tests).outcomes[0].passed


def test_a_task_can_forbid_mutating_the_arguments(sandbox):
    program = "def f(xs):\n    total = sum(xs)\n    xs.clear()\n    return total\n"
    tests = ["assert f([1, 2, 3]) == 6"]
    assert check_function(sandbox, program, "f", tests).outcomes[0].passed  # by value: invisible
    outcome = check_function(sandbox, program, "f", tests, forbid_mutation=True).outcomes[0]
    assert outcome.error_kind == "wrong_answer" and "changed its arguments" in outcome.message
    pure = "def f(xs):\n    return sum(xs)\n"
    assert check_function(sandbox, pure, "f", tests, forbid_mutation=True).outcomes[0].passed


def test_io_cases_stop_after_a_timeout(sandbox):
    from feedback_gym.sandboxes import Limits

    cases = [(str(i), str(i)) for i in range(6)]
    start = time.monotonic()
    _, outcomes = run_io_tests(sandbox, "python", "while True:\n    pass\n", cases,
                               limits=Limits(wall_seconds=1.0, cpu_seconds=1.0))
    kinds = [o.error_kind for o in outcomes]
    # Cases run as many at once as there are workers; the ones not started at the first timeout are not.
    assert kinds[0] == "timeout" and set(kinds) == {"timeout", "not_run"}, kinds
    assert kinds.count("timeout") <= 2 * sandbox.workers
    assert time.monotonic() - start < 2 * 1.0 + 2.0
