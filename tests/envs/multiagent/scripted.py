"""Scripted seat policies and a tiny code family for the multi-agent tests.

The scripted policies make every reward of the critique games predictable: a gullible solver flips
between a right and a wrong answer exactly when a critique says ``VERDICT: incorrect``, so a critic's
improvement (+1, -1 or 0) is known in advance.

``tiny_code_family`` stands in for the code family in the tests of the game logic: its verifier
judges a program by comparing its AST with the reference (nothing is executed), which is enough to
know whether an edit undid the injected bug.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Any

from feedback_gym.agents.policy import Conversation, Reply
from feedback_gym.env import FeedbackEnv
from feedback_gym.envs.multiagent.bugs import extract_program, fence
from feedback_gym.envs.multiagent.rewards import parse_critic_verdict
from feedback_gym.tasks import ListTaskSource, Task
from feedback_gym.verdict import INVALID_ACTION, WRONG_ANSWER, CheckResult, Verdict

#: A Countdown answer that is never right: 0 is never one of the given numbers.
WRONG = "<answer>0</answer>"


class Scripted:
    """A policy whose reply is ``fn(conversation, env_handle)``."""

    def __init__(self, name: str, fn: Callable[[Conversation, Any], str]) -> None:
        self.name = name
        self.fn = fn

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        handles = list(envs) if envs is not None else [None] * len(conversations)
        return [Reply(self.fn(c, h)) for c, h in zip(conversations, handles, strict=True)]

    def identity(self) -> dict[str, Any]:
        return {"policy": self.name}


def _last(conversation: Conversation, role: str) -> str | None:
    return next((m["content"] for m in reversed(conversation) if m["role"] == role), None)


def gullible_solver(start_right: bool, wrong: str = WRONG) -> Scripted:
    """Answers right (or ``wrong``) first; switches answer whenever a critique says VERDICT: incorrect."""

    def reply(conversation: Conversation, handle: Any) -> str:
        right = handle.oracle_action()
        previous = _last(conversation, "assistant")
        if previous is None:
            return right if start_right else wrong
        told_wrong = parse_critic_verdict(_last(conversation, "user") or "") is False
        if not told_wrong:
            return previous
        return wrong if previous == right else right

    return Scripted(f"gullible-{'right' if start_right else 'wrong'}", reply)


def says(text: str) -> Scripted:
    """A critic (or any seat) that always replies ``text``."""
    return Scripted(f"says:{text[:20]}", lambda conversation, handle: text)


TINY_PROGRAMS = {
    "tiny/add_one": ("Write add_one(x) returning x plus one.", "def add_one(x):\n    return x + 1\n"),
    "tiny/is_sorted": (
        "Write is_sorted(xs): True when xs is in non-decreasing order.",
        "def is_sorted(xs):\n    for i in range(len(xs) - 1):\n        if xs[i] > xs[i + 1]:\n"
        "            return False\n    return True\n",
    ),
    "tiny/count_positive": (
        "Write count_positive(xs): how many items of xs are > 0.",
        "def count_positive(xs):\n    n = 0\n    for x in xs:\n        if x > 0:\n            n += 1\n"
        "    return n\n",
    ),
}


class AstMatchVerifier:
    """Solved when the program's AST equals the reference's. Parses only; executes nothing."""

    def verify(self, task: Task, action: str) -> Verdict:
        try:
            got = ast.dump(ast.parse(extract_program(action)))
        except (SyntaxError, ValueError):
            return Verdict(False, 0.0, error_kind=INVALID_ACTION, message="the program does not parse")
        same = got == ast.dump(ast.parse(task.reference))
        check = CheckResult("matches the specification", same)
        return Verdict(same, 1.0 if same else 0.0, checks=(check,), error_kind=None if same else WRONG_ANSWER)

    def reference_action(self, task: Task) -> str:
        return fence(task.reference)


def tiny_code_family() -> FeedbackEnv:
    """A three-task Python family judged by :class:`AstMatchVerifier`."""
    tasks = [Task(tid, prompt, reference=ref) for tid, (prompt, ref) in TINY_PROGRAMS.items()]
    return FeedbackEnv(ListTaskSource("tiny", tasks), AstMatchVerifier(), feedback="tests")
