"""The equivalence battery: equal pairs, unequal pairs, and adversarial strings."""

from __future__ import annotations

import threading
import time

import pytest

from feedback_gym.envs.math.equivalence import answers_equal, normalize_answer, shared_worker
from feedback_gym.envs.math.extraction import extract_answer

EQUAL = [
    ("42", "42"),
    ("42.0", "42"),
    ("1,000", "1000"),
    ("1{,}000", "1000"),
    ("$1,234.50", "1234.5"),
    ("0.5", r"\frac{1}{2}"),
    (r"\dfrac{3}{4}", "0.75"),
    (r"\tfrac{3}{4}", "3/4"),
    ("1.5e3", "1500"),
    (r"1.5 \times 10^{3}", "1500"),
    ("x = 2", "2"),
    ("y=-7", "-7"),
    (r"\boxed{12}", "12"),
    (r"12\text{ apples}", "12"),
    ("12 apples", "12"),
    ("45^\\circ", "45"),
    ("25\\%", "25"),
    (r"\sqrt{8}", r"2\sqrt{2}"),
    (r"\frac{\sqrt{3}}{2}", r"\sqrt{3}/2"),
    (r"\frac{1}{\sqrt{2}}", r"\frac{\sqrt{2}}{2}"),
    (r"2\pi", r"\pi \cdot 2"),
    ("3.14159265", r"\pi"),
    ("2(x+1)", "2x + 2"),
    ("x^2 - 1", "(x-1)(x+1)"),
    (r"\{1, 2\}", r"\{2, 1\}"),
    ("3, -1", "-1, 3"),
    ("(1, 2)", "(1,2)"),
    ("(-4, 9)", "(-4,9)"),
    (r"\left( 1, \frac{1}{2} \right)", "(1, 0.5)"),
    ("-1.5, 3", r"3, -\frac{3}{2}"),
    ("(1,2]", "(1, 2]"),
    (r"\text{Monday}", "monday"),
]

UNEQUAL = [
    ("41", "42"),
    ("0.33", r"\frac{1}{3}"),
    ("3.14", r"\pi"),
    ("(2, 1)", "(1, 2)"),
    (r"\{1, 2\}", r"\{1, 3\}"),
    ("1, 2", "1, 2, 3"),
    ("2", "(2, 3)"),
    ("x^2 + 1", "(x+1)^2"),
    ("-2", "2"),
    ("1000", "100"),
    ("1/2", "2"),
    ("2^{100000}", "2"),
    ("(1,2]", "[1,2)"),
    ("apples", "12"),
]

ADVERSARIAL = [
    "10**10**10",
    "9" * 100_000,
    "(" * 5000 + "1" + ")" * 5000,
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "x" * 401,
    r"\frac{" * 300 + "1" + "}{2}" * 300,
    "\x00\x01\ud800",
    "1/0",
    "nan",
    "inf",
    r"\boxed{\boxed{\boxed{",
    "2^{2^{2^{2^{2^{2^{2}}}}}}",
]


@pytest.mark.parametrize(("candidate", "reference"), EQUAL)
def test_equal_pairs(candidate: str, reference: str) -> None:
    result = answers_equal(candidate, reference)
    assert result.equal, result


@pytest.mark.parametrize(("candidate", "reference"), UNEQUAL)
def test_unequal_pairs(candidate: str, reference: str) -> None:
    result = answers_equal(candidate, reference)
    assert not result.equal, result


@pytest.mark.parametrize("candidate", ADVERSARIAL)
def test_adversarial_strings_are_bounded_and_never_equal(candidate: str) -> None:
    started = time.monotonic()
    result = answers_equal(candidate, "1", timeout=3.0)
    assert not result.equal
    assert time.monotonic() - started < 15


def test_power_tower_is_killed_off_the_main_thread() -> None:
    """The deadline is a pipe read, not a signal, so it holds in a worker thread too."""
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        outcome["result"] = answers_equal("10^{10^{10}}", "1", timeout=1.0)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert outcome["result"].equal is False  # type: ignore[union-attr]
    assert outcome["seconds"] < 10
    # the worker was replaced and still answers correctly afterwards
    assert answers_equal("2x+2", "2(x+1)").equal


def test_worker_restarts_after_being_killed() -> None:
    assert answers_equal(r"\sqrt{4}x", "2x").equal
    worker = shared_worker()
    first = worker.pid
    worker.close()
    assert worker.pid is None
    assert answers_equal(r"\sqrt{9}", "3.0").equal  # numeric: needs no worker
    assert answers_equal(r"\sqrt{9}y", "3y").equal
    assert worker.pid is not None and worker.pid != first


def test_normalize_strips_wrappers() -> None:
    assert normalize_answer(r"$\boxed{x = \dfrac{1}{2}}$.") == r"\frac{1}{2}"


@pytest.mark.parametrize(
    ("text", "answer", "method"),
    [
        (r"so $\boxed{\frac{1}{2}}$", r"\frac{1}{2}", "boxed"),
        ("<answer> 7 </answer>", "7", "tag"),
        ("blah\n#### 1,234", "1,234", "hashes"),
        ("The final answer is 12.", "12", "stated"),
        ("Answer: x = 3", "x = 3", "stated"),
        ("first 3, then 4", "4", "last_number"),
    ],
)
def test_extraction(text: str, answer: str, method: str) -> None:
    found = extract_answer(text)
    assert found is not None and (found.text, found.method) == (answer, method)


def test_extraction_of_nothing() -> None:
    assert extract_answer("I do not know") is None


def test_worker_dies_with_its_parent() -> None:
    """A worker busy on a hostile expression must not outlive its limit when its parent is gone."""
    import os
    import subprocess
    import sys
    import textwrap

    import psutil

    script = textwrap.dedent(
        """
        import os, sys, threading
        from feedback_gym.envs.math.equivalence import answers_equal, shared_worker
        assert answers_equal("2x", "x+x").equal
        print(shared_worker().pid, flush=True)
        threading.Thread(target=answers_equal, args=("10^{10^{10}}", "1"), kwargs={"timeout": 3}).start()
        import time; time.sleep(1.0)
        os._exit(0)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    worker_pid = int(out.stdout.strip())
    assert worker_pid != os.getpid()
    deadline = time.monotonic() + 180  # the bound is CPU seconds; a loaded machine stretches wall time
    while time.monotonic() < deadline and psutil.pid_exists(worker_pid):
        try:
            if psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    alive = psutil.pid_exists(worker_pid) and psutil.Process(worker_pid).status() != psutil.STATUS_ZOMBIE
    assert not alive
