"""A tiny env for the server's safety tests: it echoes, and sleeps when told to (a stuck step)."""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from feedback_gym.text import text_space


class SlowEchoEnv(gym.Env[str, str]):
    """``step("sleep S")`` sleeps S seconds; any other action is echoed back. Never ends by itself."""

    def __init__(self) -> None:
        self.observation_space: spaces.Text = text_space(1000)
        self.action_space: spaces.Text = text_space(100_000)
        self._turn = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self._turn = 0
        return "say something", {"turn": 0}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self._turn += 1
        if isinstance(action, str) and action.startswith("sleep "):
            time.sleep(float(action.split()[1]))
        return f"echo: {str(action)[:100]}", 0.0, False, False, {"turn": self._turn}


if "SlowEcho-v0" not in gym.registry:
    gym.register("SlowEcho-v0", entry_point="tests.serve.slow_env:SlowEchoEnv")
