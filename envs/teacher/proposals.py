"""A teacher's proposed tasks: read them, refuse the ones that leak, and write tasks as proposals.

Validation itself (the proposed reference must pass the task's own checks) is the student family's
environment playing the reference as an action: for code that runs in the sandbox, as every program
does. This module only does what needs no execution.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from feedback_gym.tasks import Task, thaw

#: The most tasks one teacher reply may propose.
MAX_PROPOSALS = 4
_FENCED_JSON = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)
_WHOLE_FENCE = re.compile(r"^```(?:json)?[ \t]*\n(.*)\n```$", re.DOTALL)


def parse_proposals(action: str) -> tuple[list[dict[str, Any]], str | None]:
    r"""The proposed task records in ``action`` (a JSON object or list, bare or in a fenced block).

    Returns ``(records, problem)``; ``problem`` says what is wrong when nothing could be read.

    >>> parse_proposals('```json\n{"question": "1+1?", "answer": "2"}\n```')
    ([{'question': '1+1?', 'answer': '2'}], None)
    >>> parse_proposals("three tasks")[1]
    'no JSON task found: reply with a JSON object (one task) or a list of up to 4 tasks'
    """
    data = _first_json(action)
    if data is None:
        return [], ("no JSON task found: reply with a JSON object (one task) or a list of up to "
                    f"{MAX_PROPOSALS} tasks")
    records = data if isinstance(data, list) else [data]
    if not records or not all(isinstance(r, dict) for r in records):
        return [], "every proposed task must be a JSON object in the family's schema"
    if len(records) > MAX_PROPOSALS:
        return [], f"at most {MAX_PROPOSALS} tasks per reply; got {len(records)}"
    return records, None


def _first_json(action: str) -> Any:
    """The JSON value of the reply: all of it, its one fenced block (which may quote fences), or a block."""
    text = action.strip()
    whole = _WHOLE_FENCE.match(text)
    candidates = [whole.group(1)] if whole else []
    candidates += [text, *reversed(_FENCED_JSON.findall(text))]
    starts = [i for i in (text.find("["), text.find("{")) if i >= 0]
    if starts:
        candidates.append(text[min(starts):max(text.rfind("]"), text.rfind("}")) + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def leak(task: Task) -> str | None:
    """Why ``task``'s prompt gives its answer away, or ``None``.

    A short reference (an answer) leaks when it stands in the prompt as a whole token; a program leaks
    when any of its substantial lines (10+ characters, not its signature or an import) is in the prompt.

    >>> leak(Task("t", "What is 6 * 7? It is 42.", reference="42"))
    "the answer '42' is in the prompt"
    >>> leak(Task("t", "What is 6 * 7?", reference="42")) is None
    True
    """
    reference = str(task.reference or task.hidden.get("answer") or "").strip()
    if not reference:
        return None
    prompt = _squash(task.prompt)
    lines = [line.strip() for line in reference.splitlines() if line.strip()]
    if len(lines) == 1 and len(reference) <= 60:
        answer = _squash(reference)
        if re.search(rf"(?<![\w.]){re.escape(answer)}(?!\w|\.\d)", prompt):
            return f"the answer {reference!r} is in the prompt"
        return None
    for line in lines:
        boilerplate = line.startswith(("def ", "class ", "#include", "int main", "import ", "from "))
        if len(line) >= 10 and not boilerplate:
            if _squash(line) in prompt:
                return f"a line of the reference solution is in the prompt: {line[:60]!r}"
    return None


def duplicates(texts: Sequence[str], held_out: Mapping[str, str]) -> str | None:
    """The id of a held-out task whose prompt is one of ``texts`` (whitespace and case aside), or ``None``.

    ``texts`` are the proposed task's prompt and the text fields of its record: a family may wrap a
    question in instructions, so a verbatim copy of a held-out prompt can hide in either.

    >>> duplicates(["Solve 2x = 4.", "2"], {"math/1": "solve  2x = 4."})
    'math/1'
    """
    mine = {_squash(text) for text in texts}
    return next((task_id for task_id, prompt in held_out.items() if _squash(prompt) in mine), None)


def task_record(task: Task, prompt: str) -> dict[str, Any]:
    """``task`` written back in its family's user schema, with ``prompt`` as its prompt (the oracle's move).

    Maths: ``question``/``answer``/``steps``; code: the bundled schema (``prompt``, ``solution`` and
    ``entry_point`` + ``tests`` or ``cases``).
    """
    hidden = thaw(task.hidden)
    metadata = task.public_metadata()
    if "steps" in hidden or "answer" in hidden:
        return {"question": prompt, "answer": str(task.reference), "steps": hidden.get("steps", [])}
    if "tests" in hidden or "cases" in hidden:
        record = {"prompt": prompt, "solution": str(task.reference),
                  "language": metadata.get("language", "python"), "style": metadata.get("style", "function")}
        if "tests" in hidden:
            record.update(entry_point=metadata.get("entry_point"), tests=hidden["tests"],
                          setup=hidden.get("setup", ""))
        else:
            record["cases"] = hidden["cases"]
        return record
    raise ValueError(f"task {task.id!r} is in no schema the teacher's oracle can write (maths or code)")
