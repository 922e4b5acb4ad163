"""The tool-use task record: a question, its answer, and the oracle's tool-call sequence.

One schema serves the bundled hand-written set (``data/handwritten.jsonl``), the generators and
users' own tasks (``reset(options={"task": {...}})``)::

    {"id": "...", "question": "...", "answer": 42 | "text" | ["text", "alias"],
     "answer_type": "number" | "text", "tolerance": 0.005, "database": "shop" | "/path/db.sqlite",
     "oracle": [{"tool": "sql", "arguments": {...}}, ..., {"tool": "submit", "arguments": {"answer": "42"}}],
     "key_facts": [1283, 1664], "metadata": {...}}

``oracle`` may omit the final submit (it is added). ``key_facts`` are the numbers a useful tool
call reveals on the way (used by the optional step-level reward); they default to none.

The answer and the oracle's calls are the task's ``reference`` (``{"answer", "oracle"}``): the
reference solution, hidden from the agent like any other. ``hidden`` holds what the checker needs
besides (answer type, tolerance, key facts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from feedback_gym.envs.tools.calls import SUBMIT_TOOL
from feedback_gym.errors import InvalidTaskError
from feedback_gym.tasks import ListTaskSource, Task, read_jsonl

DATA_DIR = Path(__file__).resolve().parent / "data"
HANDWRITTEN = DATA_DIR / "handwritten.jsonl"
ANSWER_TYPES = ("number", "text")


def format_answer(answer: Any) -> str:
    """The canonical text of an answer (what the oracle submits).

    >>> format_answer(12.0), format_answer(0.5), format_answer(["rain gauge", "gauge"])
    ('12', '0.5', 'rain gauge')
    """
    if isinstance(answer, list | tuple):
        return format_answer(answer[0])
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer)


def make_tool_task(
    task_id: str,
    question: str,
    answer: Any,
    *,
    oracle: Sequence[Mapping[str, Any]] = (),
    answer_type: str | None = None,
    tolerance: float = 0.0,
    database: str | None = None,
    key_facts: Sequence[float] = (),
    metadata: Mapping[str, Any] | None = None,
) -> Task:
    """Build and validate a tool-use :class:`Task` (the submit call is appended to the oracle)."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidTaskError(f"task {task_id!r}: 'question' must be a non-empty string")
    if answer is None or answer == "" or answer == []:
        raise InvalidTaskError(f"task {task_id!r}: needs an 'answer'")
    numeric = isinstance(answer, int | float) and not isinstance(answer, bool)
    kind = answer_type or ("number" if numeric else "text")
    if kind not in ANSWER_TYPES:
        raise InvalidTaskError(f"task {task_id!r}: answer_type must be one of {ANSWER_TYPES}; got {kind!r}")
    if kind == "number":
        try:
            answer = float(answer)
        except (TypeError, ValueError):
            message = f"task {task_id!r}: a number answer must be numeric; got {answer!r}"
            raise InvalidTaskError(message) from None
    if not isinstance(tolerance, int | float) or tolerance < 0:
        raise InvalidTaskError(f"task {task_id!r}: tolerance must be a number >= 0")
    calls = [_check_call(task_id, call) for call in oracle]
    if not calls or calls[-1]["tool"] != SUBMIT_TOOL:
        calls.append({"tool": SUBMIT_TOOL, "arguments": {"answer": format_answer(answer)}})
    tools = sorted({c["tool"] for c in calls if c["tool"] != SUBMIT_TOOL})
    return Task(
        id=task_id,
        prompt=question.strip(),
        reference={"answer": answer, "oracle": calls},
        hidden={
            "answer_type": kind,
            "tolerance": float(tolerance),
            "key_facts": [float(f) for f in key_facts],
        },
        metadata={**dict(metadata or {}), "database": database, "tools": tools},
    )


def _check_call(task_id: str, call: Any) -> dict[str, Any]:
    if not isinstance(call, Mapping) or not isinstance(call.get("tool"), str):
        raise InvalidTaskError(f"task {task_id!r}: each oracle step must be {{'tool': str, 'arguments': {{}}}}")  # noqa: E501
    arguments = call.get("arguments", {})
    if not isinstance(arguments, Mapping):
        raise InvalidTaskError(f"task {task_id!r}: oracle arguments must be an object")
    return {"tool": call["tool"], "arguments": json.loads(json.dumps(dict(arguments)))}


def task_from_record(data: Mapping[str, Any], default_id: str) -> Task:
    """Build a task from a record in the module docstring's schema."""
    if not isinstance(data, Mapping):
        raise InvalidTaskError(f"a tool-use task must be a dict; got {type(data).__name__}")
    question = data.get("question", data.get("prompt"))
    if question is None or "answer" not in data:
        raise InvalidTaskError(f"a tool-use task needs 'question' and 'answer'; got keys {sorted(data)}")
    unknown = set(data) - {"id", "question", "prompt", "answer", "answer_type", "tolerance", "database",
                           "oracle", "key_facts", "metadata"}
    if unknown:
        raise InvalidTaskError(f"unknown keys in a tool-use task: {sorted(unknown)}")
    return make_tool_task(
        str(data.get("id") or default_id),
        question,
        data["answer"],
        oracle=data.get("oracle") or (),
        answer_type=data.get("answer_type"),
        tolerance=data.get("tolerance", 0.0),
        database=data.get("database"),
        key_facts=data.get("key_facts") or (),
        metadata={"source": "user", **dict(data.get("metadata") or {})},
    )


def handwritten_source(path: str | Path = HANDWRITTEN) -> ListTaskSource:
    """The bundled hand-written tasks."""
    records = read_jsonl(path)
    tasks = []
    for number, record in enumerate(records):
        record = {**record, "metadata": {"source": "handwritten", **record.get("metadata", {})}}
        tasks.append(task_from_record(record, f"tools-handwritten/{number}"))
    return ListTaskSource("tools-handwritten", tasks)
