"""Scripted policies for the benchmark tests, importable by spawned workers (python:... specs)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from feedback_gym.agents.policy import Reply

WRONG = "<answer>1 + 1</answer>"


def _turn(conversation: Sequence[dict[str, str]]) -> int:
    return 1 + sum(1 for m in conversation if m["role"] == "assistant")


def _task_id(env: Any) -> str:
    return env.unwrapped.task.id


class WrongThenOracle:
    """Wrong on the first turn, the oracle action from the second: solves every task on turn 2."""

    name = "wrong-then-oracle"

    def act(self, conversations, envs=None):
        return [
            Reply(WRONG if _turn(c) == 1 else env.unwrapped.oracle_action(), prompt_tokens=10,
                  completion_tokens=5)
            for c, env in zip(conversations, envs, strict=True)
        ]

    def identity(self):
        return {"policy": self.name}


class RepeatWrong:
    """The same wrong answer every turn (differently spaced): pure feedback friction."""

    name = "repeat-wrong"

    def act(self, conversations, envs=None):
        return [Reply(WRONG if _turn(c) % 2 else "<answer>1+1</answer>") for c in conversations]

    def identity(self):
        return {"policy": self.name}


class FailOnTaskOne:
    """Raises on any conversation about task index 1; plays the oracle elsewhere."""

    name = "fail-on-task-1"

    def act(self, conversations, envs=None):
        if any(_task_id(env).endswith("/1") for env in envs):
            raise RuntimeError("this policy cannot handle task 1")
        return [Reply(env.unwrapped.oracle_action()) for env in envs]

    def identity(self):
        return {"policy": self.name}


class DieOnTaskTwo:
    """Kills its own worker process on task index 2 (a crash in native code, say)."""

    name = "die-on-task-2"

    def act(self, conversations, envs=None):
        if any(_task_id(env).endswith("/2") for env in envs):
            os._exit(3)
        return [Reply(env.unwrapped.oracle_action()) for env in envs]

    def identity(self):
        return {"policy": self.name}


class SlowOracle:
    """The oracle, taking ``delay`` seconds per call (to interrupt a run midway)."""

    name = "slow-oracle"

    def __init__(self, delay: float = 0.4) -> None:
        self.delay = delay

    def act(self, conversations, envs=None):
        time.sleep(self.delay)
        return [Reply(env.unwrapped.oracle_action()) for env in envs]

    def identity(self):
        return {"policy": self.name, "delay": self.delay}


class BrokenConstructor:
    """A policy that cannot be built."""

    name = "broken"

    def __init__(self) -> None:
        raise RuntimeError("weights not found")


class SilentCritic:
    """A critic model that says nothing (as a tiny random model often does)."""

    name = "silent-critic"

    def act(self, conversations, envs=None):
        return [Reply("   ") for _ in conversations]

    def identity(self):
        return {"policy": self.name}


class OracleAfterReflection:
    """Wrong until a trial opens with a reflection (Reflexion's memory), then the oracle; reflects itself."""

    name = "oracle-after-reflection"

    def act(self, conversations, envs=None):
        from feedback_gym.agents.memory import MEMORY_HEADER, REFLECT_PROMPT

        replies = []
        for index, conversation in enumerate(conversations):
            if conversation[-1]["content"] == REFLECT_PROMPT:
                replies.append(Reply("I reused a wrong expression; next time I will reach the target."))
            elif conversation[0]["content"].startswith(MEMORY_HEADER):
                oracle = envs[index].unwrapped.oracle_action()
                replies.append(Reply(oracle, prompt_tokens=20, completion_tokens=4))
            else:
                replies.append(Reply(WRONG, prompt_tokens=10, completion_tokens=5))
        return replies

    def identity(self):
        return {"policy": self.name}
