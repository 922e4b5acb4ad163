"""The shape of a code task, and the builders that turn records of each schema into one.

A code task is a :class:`~feedback_gym.tasks.Task` whose public ``metadata`` says how to run it and
whose ``hidden`` mapping holds the tests:

- ``style="function"`` (Python only): the program defines ``entry_point``; each test is a snippet
  of trusted Python (``assert candidate(2) == 4``) run against it, after an optional ``setup``.
- ``style="io"`` (Python, C or C++): the program reads stdin and writes stdout; each case is a pair
  ``(stdin, expected_stdout)``, compared after trimming trailing whitespace on each line.

``metadata["visible_tests"]`` lists the tests that may be shown in the prompt (a task's own examples);
everything in ``hidden`` stays out of every observation and of ``info``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from feedback_gym.errors import InvalidTaskError
from feedback_gym.tasks import Task

LANGUAGES = ("python", "c", "cpp")
STYLES = ("function", "io")
LANGUAGE_NAMES = {"python": "Python", "c": "C", "cpp": "C++"}


def _strings(value: Any, what: str, task_id: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidTaskError(f"task {task_id!r}: {what} must be a list of strings")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidTaskError(f"task {task_id!r}: every entry of {what} must be a non-empty string")
    return list(value)


def _cases(value: Any, task_id: str) -> list[tuple[str, str]]:
    """Accept cases as ``[stdin, stdout]`` pairs or ``{"input", "output"}`` dicts."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InvalidTaskError(f"task {task_id!r}: 'cases' must be a non-empty list of cases")
    cases = []
    for case in value:
        if isinstance(case, Mapping) and "input" in case and "output" in case:
            pair = (case["input"], case["output"])
        elif isinstance(case, Sequence) and not isinstance(case, str) and len(case) == 2:
            pair = (case[0], case[1])
        else:
            raise InvalidTaskError(
                f"task {task_id!r}: each case must be [stdin, stdout] or {{'input', 'output'}}"
            )
        if not all(isinstance(p, str) for p in pair):
            raise InvalidTaskError(f"task {task_id!r}: case input and output must be strings")
        cases.append(pair)
    return cases


def code_task(
    task_id: str,
    prompt: str,
    *,
    language: str = "python",
    style: str = "function",
    reference: str | None = None,
    entry_point: str | None = None,
    tests: Sequence[str] = (),
    setup: str = "",
    cases: Sequence[Any] = (),
    visible: int = 0,
    source: str = "user",
    difficulty: str | None = None,
    forbid_mutation: bool = False,
    extra_metadata: Mapping[str, Any] | None = None,
) -> Task:
    r"""Validate the parts of a code task and assemble the :class:`Task`.

    ``visible`` says how many of the first tests (or cases) are the task's own public examples;
    environments may show them in the prompt. ``forbid_mutation`` (function tasks): a call that
    changes one of its arguments fails its test (arguments reach the program by value, so without it
    a mutation is invisible to the tests).

    >>> t = code_task("t/1", "Write add(a, b).", entry_point="add", reference="def add(a, b):\n"
    ...               "    return a + b", tests=["assert candidate(1, 2) == 3"])
    >>> t.metadata["style"], t.metadata["num_tests"], "tests" in t.metadata
    ('function', 1, False)
    """
    if language not in LANGUAGES:
        raise InvalidTaskError(f"task {task_id!r}: language must be one of {LANGUAGES}; got {language!r}")
    if style not in STYLES:
        raise InvalidTaskError(f"task {task_id!r}: style must be one of {STYLES}; got {style!r}")
    if reference is not None and not isinstance(reference, str):
        raise InvalidTaskError(f"task {task_id!r}: the reference solution must be a string")
    if not isinstance(setup, str):
        raise InvalidTaskError(f"task {task_id!r}: 'setup' must be a string of Python code")
    hidden: dict[str, Any] = {}
    metadata: dict[str, Any] = {"source": source, "language": language, "style": style}
    if style == "function":
        if language != "python":
            raise InvalidTaskError(f"task {task_id!r}: function-style tasks are Python only; use style='io'")
        if not isinstance(entry_point, str) or not entry_point.isidentifier():
            raise InvalidTaskError(f"task {task_id!r}: a function task needs an 'entry_point' identifier")
        test_list = _strings(tests, "'tests'", task_id)
        if not test_list:
            raise InvalidTaskError(f"task {task_id!r}: a function task needs at least one test")
        hidden.update(tests=test_list, setup=setup)
        metadata.update(entry_point=entry_point, num_tests=len(test_list))
        if not isinstance(forbid_mutation, bool):
            raise InvalidTaskError(f"task {task_id!r}: 'forbid_mutation' must be true or false")
        if forbid_mutation:
            metadata["forbid_mutation"] = True
        metadata["visible_tests"] = test_list[: max(0, visible)]
    else:
        case_list = _cases(cases, task_id)
        hidden.update(cases=[list(c) for c in case_list])
        metadata.update(num_tests=len(case_list))
        metadata["visible_tests"] = [list(c) for c in case_list[: max(0, visible)]]
    if difficulty is not None:
        metadata["difficulty"] = difficulty
    metadata.update(dict(extra_metadata or {}))
    return Task(task_id, prompt, reference=reference, hidden=hidden, metadata=metadata)


def hidden_tests(task: Task) -> list[str]:
    """The function tests of ``task`` (empty for io tasks)."""
    return list(task.hidden.get("tests", ()))


def hidden_cases(task: Task) -> list[tuple[str, str]]:
    """The stdin/stdout cases of ``task`` (empty for function tasks)."""
    return [(c[0], c[1]) for c in task.hidden.get("cases", ())]


def bundled_record_to_task(record: Mapping[str, Any], source: str) -> Task:
    """Build a task from a record of this project's bundled JSONL files.

    Fields: ``id``, ``prompt``, ``language``, ``style``, ``solution``, ``difficulty``, and either
    ``entry_point`` + ``tests`` (+ ``setup``, ``forbid_mutation``) or ``cases``; optional ``visible``
    and ``tags``.
    """
    task_id = str(record.get("id", ""))
    try:
        return code_task(
            task_id,
            record["prompt"],
            language=record.get("language", "python"),
            style=record.get("style", "function"),
            reference=record.get("solution"),
            entry_point=record.get("entry_point"),
            tests=record.get("tests", ()),
            setup=record.get("setup", ""),
            forbid_mutation=record.get("forbid_mutation", False),
            cases=record.get("cases", ()),
            visible=int(record.get("visible", 0)),
            source=source,
            difficulty=record.get("difficulty"),
            extra_metadata={"tags": list(record.get("tags", []))} if record.get("tags") else None,
        )
    except KeyError as err:
        raise InvalidTaskError(f"bundled task {task_id!r} lacks the field {err.args[0]!r}") from None
