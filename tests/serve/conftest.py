"""Servers for the serve tests: real ``feedback-gym serve`` child processes on loopback ports.

Each server costs a few seconds to start (openenv-core imports gradio), so they are shared by the
whole session; each is stopped by the PID its fixture started.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("openenv.core")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def code_server():
    """CodeFeedback-v0 with reference actions exposed (the conformance checks replay them)."""
    from feedback_gym.serve.process import ServerProcess

    with ServerProcess("CodeFeedback-v0", ["--expose-oracle", "--max-sessions", "8"]) as server:
        yield server


@pytest.fixture(scope="session")
def math_server():
    """MathCritique-v0 with reference actions exposed."""
    from feedback_gym.serve.process import ServerProcess

    with ServerProcess("MathCritique-v0", ["--expose-oracle", "--max-sessions", "8"]) as server:
        yield server


def slow_server(*args: str):
    """The echo env of ``tests/serve/slow_env.py`` (it sleeps on demand) with the given limits."""
    from feedback_gym.serve.process import ServerProcess

    return ServerProcess("tests.serve.slow_env:SlowEcho-v0", list(args), cwd=REPO)
