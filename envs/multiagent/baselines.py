r"""Deterministic, model-free seat policies: floors and fixtures for the critique games.

:class:`LiteralEditor` is an editor that follows only line-level instructions of the form
``Line N: `old` ... should be `new```: it rewrites line N of the program and changes nothing else. As
the frozen editor of ``code_critique_v0`` it makes the critic's reward depend only on whether the
critique pinpoints the bug and its fix, with no model in the loop (fast, offline, reproducible);
a model editor (``make_policy("smollm2")``) is the realistic setting.

>>> conversation = [{"role": "user", "content": "[Program]\n```python\nx = 1\ny = x - 1\n```\n\n"
...                  "[Feedback]\nLine 2: `y = x - 1` is wrong; it should be `y = x + 1`."}]
>>> print(LiteralEditor().act([conversation])[0].text)
```python
x = 1
y = x + 1
```
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from feedback_gym.policy import Conversation, Reply

from .bugs import extract_program, fence

_INSTRUCTION = re.compile(r"line\s+(\d+)\s*:.*?should\s+(?:be|read)\s+`([^`\n]*)`", re.IGNORECASE)


def apply_line_instructions(program: str, feedback: str) -> str:
    r"""Rewrite the lines the feedback names (``Line N: ... should be `new```), keeping indentation.

    >>> apply_line_instructions("def f(x):\n    return x - 1\n", "Line 2: it should be `return x + 1`")
    'def f(x):\n    return x + 1\n'
    >>> apply_line_instructions("a = 1\n", "Looks fine to me.")
    'a = 1\n'
    """
    lines = program.splitlines()
    for number, replacement in _INSTRUCTION.findall(feedback):
        index = int(number) - 1
        if 0 <= index < len(lines):
            indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
            lines[index] = indent + replacement.strip()
    return "\n".join(lines) + ("\n" if program.endswith("\n") else "")


class LiteralEditor:
    """Applies the critic's ``Line N: ... should be `new``` instructions to the current program."""

    name = "literal-editor"

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        """Return the current program with the newest feedback's line instructions applied."""
        return [Reply(fence(self._edit(conversation))) for conversation in conversations]

    def _edit(self, conversation: Conversation) -> str:
        program = ""
        for message in conversation:
            content = message.get("content", "")
            if message.get("role") == "assistant" or "[Program]" in content:
                program = extract_program(content.split("[Feedback]")[0])
        feedback = conversation[-1].get("content", "") if conversation else ""
        return apply_line_instructions(program, feedback.split("[Feedback]")[-1])

    def identity(self) -> dict[str, Any]:
        """No parameters."""
        return {"policy": self.name}
