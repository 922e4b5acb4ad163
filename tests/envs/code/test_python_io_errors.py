"""A stdin/stdout Python program that raises: the user sees their own frames and the exception itself.

``full`` feedback shows the traceback without the sandbox server's frame; ``tests`` feedback names the
exception (its last line), not only the exit code. Both backends run the same fork server.
"""

from __future__ import annotations

import gymnasium as gym

import feedback_gym  # noqa: F401 - registers the ids

RAISING = "```python\ndef half(n):\n    return 1 / n\nx = input()\nprint(half(0))\n```"
NOT_PARSING = "```python\nx = input(\nprint(x)\n```"



def _first_feedback(each_backend, mode: str, reply: str) -> str:
    env = gym.make("CodeFeedback-v0", feedback=mode, sandbox=each_backend)
    env.reset(options={"task_id": "bundled/py-io/sum-two"})
    obs = env.step(reply)[0]
    env.close()
    return obs


def test_full_traceback_holds_only_the_programs_frames(each_backend) -> None:
    obs = _first_feedback(each_backend, "full", RAISING)
    assert "forkserver" not in obs and "run_python" not in obs
    traceback = obs[obs.index("Traceback (most recent call last):"):]
    frames = [line.strip() for line in traceback.splitlines() if line.strip().startswith("File ")]
    assert frames == ['File "main.py", line 4, in <module>', 'File "main.py", line 2, in half']
    assert "ZeroDivisionError: division by zero" in traceback


def test_tests_feedback_names_the_exception_not_only_the_exit_code(each_backend) -> None:
    obs = _first_feedback(each_backend, "tests", RAISING)
    assert "got:      error: ZeroDivisionError: division by zero (exited with code 1)" in obs
    assert "Traceback" not in obs  # the traceback itself is for `full`


def test_a_program_that_does_not_parse_is_still_told_where(each_backend) -> None:
    obs = _first_feedback(each_backend, "full", NOT_PARSING)
    assert "forkserver" not in obs and "SyntaxError" in obs and "main.py" in obs
