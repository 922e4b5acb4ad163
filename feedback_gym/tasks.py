"""Tasks and the deterministic sources they come from.

A :class:`Task` is an immutable record: what the agent is shown (``prompt``), what only the verifier
may see (``reference`` and ``hidden``), and public ``metadata``. A :class:`TaskSource` hands out
tasks by index and by id; the same index always gives the same task (item = f(seed, index)).
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from feedback_gym.errors import ConfigError, InvalidTaskError, UnknownTaskError, require_int


def _freeze(value: Any) -> Any:
    """Recursively turn dicts into read-only mappings and lists into tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Undo :func:`_freeze`: read-only mappings back to dicts and tuples to lists (for JSON)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Task:
    """One task: the prompt the agent sees and the material only the verifier may read.

    Attributes:
        id: A stable identifier, unique within its source (``"countdown/0/17"``, ``"HumanEval/0"``).
        prompt: The text shown to the agent after ``reset``.
        reference: The reference solution or answer. Hidden: never in an observation or ``info``.
        hidden: Other hidden material the verifier needs (tests, worked solutions).
        metadata: Public facts about the task (source, difficulty); copied into ``info``.
    """

    id: str
    prompt: str
    reference: Any = None
    hidden: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvalidTaskError(f"a task id must be a non-empty string; got {self.id!r}")
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InvalidTaskError(f"task {self.id!r}: the prompt must be a non-empty string")
        object.__setattr__(self, "reference", _freeze(self.reference))
        object.__setattr__(self, "hidden", _freeze(dict(self.hidden)))
        object.__setattr__(self, "metadata", _freeze(dict(self.metadata)))

    def public_metadata(self) -> dict[str, Any]:
        """Return the metadata as plain, JSON-friendly data (safe to put in ``info``)."""
        return thaw(self.metadata)


@runtime_checkable
class TaskSource(Protocol):
    """Where an environment's tasks come from.

    ``size`` is the number of distinct tasks, or ``None`` for an unlimited procedural source.
    ``task(index)`` must be deterministic, and ``get(task_id)`` must return the task whose ``id`` is
    ``task_id`` (raising :class:`UnknownTaskError` otherwise).
    """

    name: str

    @property
    def size(self) -> int | None:
        """The number of tasks, or ``None`` when unlimited."""
        ...

    def task(self, index: int) -> Task:
        """Return the task at ``index``."""
        ...

    def get(self, task_id: str) -> Task:
        """Return the task with this id."""
        ...


class ListTaskSource:
    """A finite source over a fixed sequence of tasks (bundled files, loaded datasets).

    >>> src = ListTaskSource("demo", [Task("a", "say a"), Task("b", "say b")])
    >>> src.size, src.task(1).id, src.get("a").prompt
    (2, 'b', 'say a')
    """

    def __init__(self, name: str, tasks: Iterable[Task]) -> None:
        self.name = name
        self._tasks: tuple[Task, ...] = tuple(tasks)
        if not self._tasks:
            raise ConfigError(f"task source {name!r} holds no tasks")
        self._by_id: dict[str, Task] = {}
        for task in self._tasks:
            if task.id in self._by_id:
                raise ConfigError(f"task source {name!r}: duplicate task id {task.id!r}")
            self._by_id[task.id] = task

    @property
    def size(self) -> int:
        """The number of tasks."""
        return len(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks)

    def task(self, index: int) -> Task:
        """Return the task at ``index`` (wrapping around, so any integer is valid)."""
        return self._tasks[index % len(self._tasks)]

    def get(self, task_id: str) -> Task:
        """Return the task with this id."""
        try:
            return self._by_id[task_id]
        except KeyError:
            examples = ", ".join(repr(t) for t in list(self._by_id)[:3])
            raise UnknownTaskError(
                f"no task {task_id!r} in source {self.name!r} ({self.size} tasks, e.g. {examples})"
            ) from None

    def ids(self) -> list[str]:
        """Return every task id, in order."""
        return list(self._by_id)

    def subset(self, task_ids: Sequence[str]) -> ListTaskSource:
        """Return a source holding only the named tasks, in the given order."""
        return ListTaskSource(self.name, [self.get(t) for t in task_ids])


class GeneratedTaskSource:
    """An unlimited procedural source: task ``index`` is ``generate(Random(f(seed, index)), index)``.

    The source sets each task's id to ``"<name>/<seed>/<index>"`` (whatever id the generator gave),
    so that :meth:`get` can rebuild any task from its id alone.

    >>> def make(rng, index):
    ...     n = rng.randint(1, 9)
    ...     return Task(f"t/0/{index}", f"say {n}", reference=str(n))
    >>> src = GeneratedTaskSource("t", make, seed=0)
    >>> src.task(5).reference == src.task(5).reference == src.get("t/0/5").reference
    True
    """

    def __init__(
        self, name: str, generate: Callable[[random.Random, int], Task], seed: int = 0
    ) -> None:
        require_int("seed", seed, minimum=0)
        self.name = name
        self.seed = seed
        self._generate = generate

    @property
    def size(self) -> None:
        """Always ``None``: a generated source is unlimited."""
        return None

    def task_id(self, index: int) -> str:
        """Return the id of the task at ``index``."""
        return f"{self.name}/{self.seed}/{index}"

    def task(self, index: int) -> Task:
        """Generate the task at ``index`` (the same every time)."""
        if index < 0:
            raise ConfigError(f"task index must be >= 0; got {index}")
        rng = random.Random(f"{self.name}:{self.seed}:{index}")
        return replace(self._generate(rng, index), id=self.task_id(index))

    def get(self, task_id: str) -> Task:
        """Rebuild the task from an id of the form ``"<name>/<seed>/<index>"``."""
        prefix, _, index = task_id.rpartition("/")
        name, _, seed = prefix.rpartition("/")
        if name != self.name or not seed.isdigit() or not index.isdigit():
            raise UnknownTaskError(
                f"{task_id!r} is not an id of source {self.name!r}; "
                f"ids look like {self.task_id(0)!r}"
            )
        if int(seed) == self.seed:
            return self.task(int(index))
        return GeneratedTaskSource(self.name, self._generate, int(seed)).task(int(index))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file (optionally gzipped), skipping blank lines.

    Raises :class:`ConfigError` naming the file and line of the first malformed record.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    records: list[dict[str, Any]] = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{path}:{number}: not valid JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise ConfigError(f"{path}:{number}: each line must be a JSON object")
            records.append(record)
    return records


def draw_index(rng: Any, size: int | None) -> int:
    """Draw a task index with the environment's ``np_random`` (bounded for unlimited sources)."""
    upper = size if size is not None else 2**31 - 1
    return int(rng.integers(0, upper))
