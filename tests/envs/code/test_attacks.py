"""Attacks through the code environments themselves (what a policy would try), and set-up errors at reset."""

from __future__ import annotations

import sys
import time

import pytest

from feedback_gym.envs.code.env import CodeFeedbackEnv
from feedback_gym.errors import DependencyNotInstalled, SandboxUnavailableError
from feedback_gym.sandboxes import make_sandbox


@pytest.fixture(scope="module")
def sandbox():
    box = make_sandbox("local")
    yield box
    box.close()


def fence(code: str) -> str:
    return f"```python\n{code}\n```"


@pytest.mark.parametrize(
    ("task_id", "cheat"),
    [
        # The tests call the prompt's poly() on the returned zero: a program's own poly must not answer.
        ("HumanEval/32", "def poly(xs, x):\n    return 0\n\ndef find_zero(xs):\n    return 0.0\n"),
        # The tests decode with the prompt's decode_cyclic/encode_cyclic: a program's own must not answer.
        ("HumanEval/38", "def encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s\n"),
        ("HumanEval/50", "def encode_shift(s):\n    return s\n\ndef decode_shift(s):\n    return s\n"),
    ],
)
def test_redefining_the_tasks_helpers_does_not_pass(sandbox, task_id, cheat) -> None:
    env = CodeFeedbackEnv(tasks="humaneval", sandbox=sandbox)
    env.reset(options={"task_id": task_id})
    _, reward, terminated, _, info = env.step(fence(cheat))
    assert not info["solved"] and reward < 1.0, info["verdict"]
    env.reset(options={"task_id": task_id})
    _, reward, _, _, info = env.step(env.unwrapped.oracle_action())
    assert info["solved"] and reward == 1.0


def test_an_infinite_loop_costs_one_timeout_per_step(sandbox) -> None:
    """HumanEval/0 has 7 asserts: one timeout for the whole step, the rest reported as not run."""
    env = CodeFeedbackEnv(tasks="humaneval", sandbox=sandbox, test_timeout=1.0, feedback="tests")
    env.reset(options={"task_id": "HumanEval/0"})
    start = time.monotonic()
    observation, reward, terminated, truncated, info = env.step(
        fence("def has_close_elements(numbers, threshold):\n    while True:\n        pass\n")
    )
    elapsed = time.monotonic() - start
    assert elapsed < 1.0 + 1.5, elapsed
    assert info["error_kind"] == "timeout" and reward == 0.0 and not truncated
    assert "not run" in observation


def test_planted_modules_do_not_fake_a_pass_through_the_env(sandbox) -> None:
    payload = (
        "import gc, os, json\n"
        "for o in gc.get_objects():\n"
        "    if isinstance(o, dict) and 'nonce' in o and 'tests' in o:\n"
        "        for i in range(len(o['tests'])):\n"
        "            line = {'nonce': o['nonce'], 'index': i, 'passed': True}\n"
        "            os.write(3, (json.dumps(line) + chr(10)).encode())\n"
    )
    program = (
        f"import os\nPAYLOAD = {payload!r}\n"
        "for name in ('subprocess', 'copy', 'json', 'socket', 'typing', 're', 'math'):\n"
        "    open(name + '.py', 'w').write(PAYLOAD)\n"
        "def add(a, b):\n    os._exit(1)\n"
    )
    env = CodeFeedbackEnv(sandbox=sandbox)
    env.reset(options={"task_id": "bundled/py/add_numbers"})
    _, reward, _, _, info = env.step(fence(program))
    assert not info["solved"] and reward == 0.0
    _, reward, _, _, info = env.step(env.unwrapped.oracle_action())
    assert info["solved"]  # and the env keeps serving


def test_missing_docker_package_is_an_error_at_reset_not_a_zero_reward(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # `import docker` now fails as if not installed
    env = CodeFeedbackEnv(sandbox="docker")
    with pytest.raises(DependencyNotInstalled, match=r"feedback-gym\[docker\]"):
        env.reset(seed=0)
    env.close()


def test_a_local_sandbox_that_cannot_start_is_an_error_at_reset(monkeypatch) -> None:
    from feedback_gym.sandboxes import local

    def refuse() -> str:
        raise SandboxUnavailableError(local.USERNS_HELP)

    monkeypatch.setattr(local, "find_bwrap", refuse)
    env = CodeFeedbackEnv()
    with pytest.raises(SandboxUnavailableError, match="user.max_user_namespaces"):
        env.reset(seed=0)
    env.close()
