"""Benchmark suites: named, versioned, fixed lists of (environment, arguments, tasks, seeds).

A suite is what makes two leaderboard rows comparable: the same ids with the same arguments
(feedback mode and turn budget included), the same task subset and the same seeds. Never change a
published suite in place; add ``quick-v1`` instead. Entries name environment ids as strings, so a
suite can list ids whose family is not installed: :meth:`Suite.check_registered` says which ones
are missing before any episode is played.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from feedback_gym.errors import ConfigError

#: The two modes an episode is played in: the multi-turn episode itself, and its compute-matched
#: control (best-of-n single-turn samples, n = the multi-turn budget).
MULTI_TURN = "multi_turn"
BEST_OF_N = "best_of_n"
MODES = (MULTI_TURN, BEST_OF_N)


@dataclass(frozen=True)
class SuiteEntry:
    """One environment configuration of a suite and the episodes to play on it.

    Args:
        env_id: a registered id, e.g. ``"Countdown-v0"``.
        kwargs: arguments for ``gym.make`` (feedback mode, turn budget, difficulty ...).
        tasks: task indices (ints, ``reset(options={"task_index": i})``) or task ids (strs).
        seeds: reset seeds; every task is played once per seed.
        control: whether to also play the best-of-n single-turn control on this entry.
        label: the name shown in reports; defaults to the id plus its feedback mode.
        memory: Reflexion's cross-episode memory (see :mod:`feedback_gym.agents.memory`):
            ``{"trials": n, "reflector": "self" | None | SPEC, "max_reflections": k}``. Each task is
            played up to ``n`` times in a row until solved, each new trial opened by the reflections
            on the failed ones (written by the policy under test when ``"self"``). ``None``: no memory.
    """

    env_id: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    tasks: tuple[int, ...] | tuple[str, ...] = (0,)
    seeds: tuple[int, ...] = (0,)
    control: bool = True
    label: str = ""
    memory: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ConfigError(f"a suite entry needs an env_id string; got {self.env_id!r}")
        if not isinstance(self.kwargs, Mapping):
            raise ConfigError(f"{self.env_id}: kwargs must be a dict; got {type(self.kwargs).__name__}")
        tasks, seeds = tuple(self.tasks), tuple(self.seeds)
        if not tasks or not (all(_is_int(t) for t in tasks) or all(isinstance(t, str) for t in tasks)):
            raise ConfigError(f"{self.env_id}: tasks must be a non-empty list of ints or strs; got {tasks}")
        if not seeds or not all(_is_int(s) for s in seeds):
            raise ConfigError(f"{self.env_id}: seeds must be a non-empty list of ints; got {seeds}")
        object.__setattr__(self, "kwargs", dict(self.kwargs))
        if self.memory is not None:
            object.__setattr__(self, "memory", check_memory(self.env_id, self.memory))
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "seeds", seeds)
        if not self.label:
            feedback = self.kwargs.get("feedback")
            label = self.env_id + (f"[{feedback}]" if feedback else "")
            if self.memory is not None:
                label += f"[reflexion x{self.memory['trials']}]"
            object.__setattr__(self, "label", label)

    def episodes(self, modes: Iterable[str] = MODES) -> Iterator[EpisodeSpec]:
        """Every episode of this entry, control episodes included when asked for and enabled."""
        for mode in modes:
            if mode == BEST_OF_N and not self.control:
                continue
            for seed in self.seeds:
                for task in self.tasks:
                    memory = dict(self.memory) if self.memory is not None and mode == MULTI_TURN else None
                    yield EpisodeSpec(self.label, self.env_id, dict(self.kwargs), task, seed, mode, memory)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (what ``summary.json`` records and :meth:`from_dict` reads)."""
        data = {"env_id": self.env_id, "kwargs": dict(self.kwargs), "tasks": list(self.tasks),
                "seeds": list(self.seeds), "control": self.control, "label": self.label}
        if self.memory is not None:
            data["memory"] = dict(self.memory)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SuiteEntry:
        """Read an entry written by :meth:`to_dict` (``tasks`` may also be ``{"range": n}``)."""
        known = {"env_id", "kwargs", "tasks", "seeds", "control", "label", "memory"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown suite entry keys {sorted(unknown)}; accepted: {sorted(known)}")
        tasks = data.get("tasks", (0,))
        if isinstance(tasks, Mapping) and set(tasks) == {"range"}:
            tasks = tuple(range(int(tasks["range"])))
        return cls(
            env_id=data.get("env_id", ""),
            kwargs=data.get("kwargs", {}),
            tasks=tuple(tasks),
            seeds=tuple(data.get("seeds", (0,))),
            control=bool(data.get("control", True)),
            label=str(data.get("label", "")),
            memory=data.get("memory"),
        )


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to play: everything a worker needs, and the key that makes resuming possible."""

    label: str
    env_id: str
    kwargs: dict[str, Any]
    task: int | str
    seed: int
    mode: str = MULTI_TURN
    memory: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """A unique, stable name for this episode within a suite.

        >>> EpisodeSpec("Countdown-v0[tests]", "Countdown-v0", {}, 3, 0).key
        'Countdown-v0[tests]|task=3|seed=0|multi_turn'
        """
        return f"{self.label}|task={self.task}|seed={self.seed}|{self.mode}"

    def reset_options(self) -> dict[str, Any]:
        """The ``reset(options=...)`` that selects this episode's task."""
        return {"task_id": self.task} if isinstance(self.task, str) else {"task_index": self.task}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (sent to workers, written to ``episodes.jsonl``)."""
        data = {"label": self.label, "env_id": self.env_id, "kwargs": self.kwargs, "task": self.task,
                "seed": self.seed, "mode": self.mode}
        if self.memory is not None:
            data["memory"] = self.memory
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EpisodeSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(data["label"], data["env_id"], dict(data["kwargs"]), data["task"], data["seed"],
                   data.get("mode", MULTI_TURN), data.get("memory"))


@dataclass(frozen=True)
class Suite:
    """A named, versioned list of :class:`SuiteEntry`."""

    name: str
    entries: tuple[SuiteEntry, ...]
    description: str = ""

    def __post_init__(self) -> None:
        entries = tuple(self.entries)
        if not entries:
            raise ConfigError(f"suite {self.name!r} has no entries")
        labels = [e.label for e in entries]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ConfigError(f"suite {self.name!r} has duplicate entry labels {duplicates}; label them")
        object.__setattr__(self, "entries", entries)

    def episodes(self, control: bool = True) -> list[EpisodeSpec]:
        """Every episode of the suite, in a fixed order (multi-turn first, then the controls)."""
        modes = MODES if control else (MULTI_TURN,)
        return [spec for mode in modes for entry in self.entries for spec in entry.episodes((mode,))]

    def env_ids(self) -> list[str]:
        """The distinct environment ids the suite needs, in order."""
        return list(dict.fromkeys(entry.env_id for entry in self.entries))

    def missing_ids(self, registered: Iterable[str] | None = None) -> list[str]:
        """The ids this suite needs that are not registered (in Gymnasium's registry by default)."""
        if registered is None:
            import gymnasium

            import feedback_gym  # noqa: F401  (registers the ids)

            registered = gymnasium.registry
        known = set(registered)
        return [env_id for env_id in self.env_ids() if env_id not in known]

    def check_registered(self, registered: Iterable[str] | None = None) -> None:
        """Raise :class:`ConfigError` naming every id of the suite that this installation lacks.

        >>> suite = Suite("demo", (SuiteEntry("Countdown-v0"), SuiteEntry("Nope-v0")))
        >>> suite.check_registered(["Countdown-v0"])
        Traceback (most recent call last):
        ...
        feedback_gym.errors.ConfigError: suite 'demo' needs environment ids that are not registered \
in this installation: Nope-v0 (registered feedback-gym ids: see `feedback-gym list`)
        """
        missing = self.missing_ids(registered)
        if missing:
            raise ConfigError(
                f"suite {self.name!r} needs environment ids that are not registered in this installation: "
                f"{', '.join(missing)} (registered feedback-gym ids: see `feedback-gym list`)"
            )

    def with_env_kwargs(self, overrides: Mapping[str, Any]) -> Suite:
        """The same suite with ``overrides`` added to the kwargs of every entry whose env takes them.

        This is how ``--sandbox docker`` reaches the code and tool envs and leaves Countdown alone
        (see :func:`env_takes`); the changed kwargs are part of the run's identity and of its summary.
        """
        unknown = sorted(set(overrides) - {"sandbox", *FEEDBACK_ENV_ARGUMENTS})
        if unknown:
            raise ConfigError(f"cannot override {unknown} across a suite; accepted: sandbox, "
                              f"{', '.join(FEEDBACK_ENV_ARGUMENTS)}")
        entries = []
        for entry in self.entries:
            accepted = {k: v for k, v in overrides.items() if env_takes(entry.env_id, k)}
            entries.append(replace(entry, kwargs={**entry.kwargs, **accepted}))
        return replace(self, entries=tuple(entries))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"name": self.name, "description": self.description,
                "entries": [entry.to_dict() for entry in self.entries]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suite:
        """Read a suite written by :meth:`to_dict` (a user's own suite file)."""
        if not isinstance(data, Mapping) or "name" not in data or "entries" not in data:
            raise ConfigError("a suite file is a JSON object with 'name' and 'entries' (a list of entries)")
        return cls(str(data["name"]), tuple(SuiteEntry.from_dict(e) for e in data["entries"]),
                   str(data.get("description", "")))


#: The constructor arguments every :class:`~feedback_gym.env.FeedbackEnv` takes.
FEEDBACK_ENV_ARGUMENTS = ("feedback", "feedback_options", "reward", "max_turns", "render_mode")


def env_entry_point(env_id: str) -> Any:
    """The class (or factory function) a registered id builds, imported but not called."""
    import gymnasium

    import feedback_gym  # noqa: F401  (registers the ids)

    if env_id not in gymnasium.registry:
        raise ConfigError(f"{env_id!r} is not a registered environment id (see `feedback-gym list`)")
    entry_point = gymnasium.spec(env_id).entry_point
    if isinstance(entry_point, str):
        module_name, _, attribute = entry_point.partition(":")
        entry_point = getattr(importlib.import_module(module_name), attribute)
    return entry_point


def env_takes(env_id: str, argument: str) -> bool:
    """Whether a registered env takes ``argument``, read from what its class declares.

    ``sandbox`` goes to the families that run code (``uses_sandbox``); the shared loop's arguments
    (:data:`FEEDBACK_ENV_ARGUMENTS`) to every :class:`~feedback_gym.env.FeedbackEnv`. An id built
    by a factory function (the multi-agent seats) declares nothing, so it takes none of them.

    >>> env_takes("Countdown-v0", "max_turns"), env_takes("Countdown-v0", "sandbox")
    (True, False)
    """
    from feedback_gym.env import FeedbackEnv

    entry_point = env_entry_point(env_id)
    if not (isinstance(entry_point, type) and issubclass(entry_point, FeedbackEnv)):
        return False
    if argument == "sandbox":
        return entry_point.uses_sandbox
    return argument in FEEDBACK_ENV_ARGUMENTS


def sandbox_backend(env_id: str, kwargs: Mapping[str, Any]) -> Any:
    """The ``sandbox=`` an entry's env gets: the entry's, else the registered one, else the default."""
    import gymnasium

    from feedback_gym.sandboxes.config import DEFAULT_BACKEND

    return kwargs.get("sandbox", gymnasium.spec(env_id).kwargs.get("sandbox", DEFAULT_BACKEND))


MEMORY_KEYS = ("trials", "reflector", "max_reflections")


def check_memory(env_id: str, memory: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a suite entry's ``memory`` and fill in its defaults.

    >>> check_memory("Countdown-v0", {"trials": 3})
    {'trials': 3, 'reflector': 'self', 'max_reflections': 3}
    >>> check_memory("Countdown-v0", {"trials": 0})
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: Countdown-v0: memory trials must be an int >= 2; got 0
    """
    if not isinstance(memory, Mapping):
        raise ConfigError(f"{env_id}: memory must be a dict with {', '.join(MEMORY_KEYS)}; got {memory!r}")
    unknown = set(memory) - set(MEMORY_KEYS)
    if unknown:
        raise ConfigError(
            f"{env_id}: unknown memory keys {sorted(unknown)}; accepted: {', '.join(MEMORY_KEYS)}"
        )
    checked = {"trials": memory.get("trials", 3), "reflector": memory.get("reflector", "self"),
               "max_reflections": memory.get("max_reflections", 3)}
    if not _is_int(checked["trials"]) or checked["trials"] < 2:
        raise ConfigError(f"{env_id}: memory trials must be an int >= 2; got {checked['trials']!r}")
    if not _is_int(checked["max_reflections"]) or checked["max_reflections"] < 1:
        raise ConfigError(
            f"{env_id}: memory max_reflections must be an int >= 1; got {checked['max_reflections']!r}"
        )
    if checked["reflector"] is not None and not isinstance(checked["reflector"], str):
        raise ConfigError(f"{env_id}: memory reflector must be 'self', a policy spec or None")
    return checked


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tasks(n: int) -> tuple[int, ...]:
    return tuple(range(n))


# ---------------------------------------------------------------------------------------- the suites
# Entries name the final ids of every family; an id whose family is not installed makes the suite
# fail before any episode with a message naming it (see Suite.check_registered).

SMOKE_V0 = Suite(
    "smoke-v0",
    (
        SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 3}, _tasks(4)),
        SuiteEntry("Countdown-v0", {"feedback": "unary", "max_turns": 3}, _tasks(4)),
    ),
    "Countdown only, 8 tasks: seconds with a baseline policy; for CI and trying the runner.",
)

QUICK_V0 = Suite(
    "quick-v0",
    (
        SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 3}, _tasks(3)),
        SuiteEntry("CodeFeedback-v0", {"feedback": "tests", "max_turns": 3}, _tasks(3)),
        SuiteEntry("CppCompilerFeedback-v0", {"feedback": "full", "max_turns": 3}, _tasks(3)),
        SuiteEntry("MathCritique-v0", {"max_turns": 3}, _tasks(3)),
        SuiteEntry("MathTryAgain-v0", {"max_turns": 3}, _tasks(3)),
        SuiteEntry("CodeTryAgain-v0", {"max_turns": 3}, _tasks(3)),
        SuiteEntry("ToolUse-v0", {"max_tool_calls": 3, "max_turns": 5}, _tasks(3), control=False),
    ),
    "One small configuration per family, 3 tasks each, 3 turns (5 replies with tools): minutes on 2 cores.",
)

CORE_V0 = Suite(
    "core-v0",
    (
        SuiteEntry("Countdown-v0", {"feedback": "binary", "max_turns": 4, "difficulty": 2}, _tasks(50)),
        SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 4, "difficulty": 2}, _tasks(50)),
        SuiteEntry("CodeFeedback-v0", {"feedback": "binary", "max_turns": 4}, _tasks(50)),
        SuiteEntry("CodeFeedback-v0", {"feedback": "tests", "max_turns": 4}, _tasks(50)),
        SuiteEntry("CodeFeedback-v0", {"feedback": "full", "max_turns": 4}, _tasks(50)),
        SuiteEntry("CppCompilerFeedback-v0", {"feedback": "full", "max_turns": 4}, _tasks(30)),
        SuiteEntry("HumanEval-v0", {"feedback": "full", "max_turns": 4}, _tasks(164)),
        SuiteEntry("MathCritique-v0", {"max_turns": 4}, _tasks(50)),
        SuiteEntry("MathInPlace-v0", {"max_turns": 4}, _tasks(50)),
        SuiteEntry("MathTryAgain-v0", {"max_turns": 4}, _tasks(50)),
        SuiteEntry("CodeTryAgain-v0", {"max_turns": 4}, _tasks(50)),
        SuiteEntry("ToolUse-v0", {}, _tasks(50), control=False),
    ),
    "Every family and its main feedback modes, 30-164 tasks each, 4 turns: the full leaderboard.",
)

REFLEXION_V0 = Suite(
    "reflexion-v0",
    (
        SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 2}, _tasks(10),
                   control=False, memory={"trials": 3, "reflector": "self"}),
        SuiteEntry("CodeFeedback-v0", {"feedback": "tests", "max_turns": 2}, _tasks(10),
                   control=False, memory={"trials": 3, "reflector": "self"}),
    ),
    "Reflexion: each task up to 3 trials of 2 turns, each trial opened by the policy's own reflections "
    "on the failed ones; success by trial in the summary.",
)

#: Every built-in suite by name.
SUITES: dict[str, Suite] = {suite.name: suite for suite in (SMOKE_V0, QUICK_V0, CORE_V0, REFLEXION_V0)}


def get_suite(name: str | Path) -> Suite:
    """A built-in suite by name, or a user's suite from a ``.json`` file.

    >>> get_suite("smoke-v0").name
    'smoke-v0'
    >>> get_suite("quick")
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown suite 'quick'; built-in suites: smoke-v0, quick-v0, core-v0, \
reflexion-v0 (or a path to a suite .json file)
    """
    text = str(name)
    if text in SUITES:
        return SUITES[text]
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        try:
            return Suite.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as err:
            raise ConfigError(f"suite file {path} is not valid JSON: {err}") from None
    raise ConfigError(
        f"unknown suite {text!r}; built-in suites: {', '.join(SUITES)} (or a path to a suite .json file)"
    )


def describe_suites(suites: Sequence[Suite] | None = None) -> str:
    """One line per suite: name, entries, episodes, description (for ``--list-suites``)."""
    lines = []
    for suite in suites or list(SUITES.values()):
        episodes = len(suite.episodes(control=False))
        count = f"{len(suite.entries)} entries, {episodes} episodes"
        lines.append(f"{suite.name:<10} {count}: {suite.description}")
    return "\n".join(lines)
