"""``TaskTeacher-v0``: propose practice tasks for a student; be paid by how much the student improves.

After DataEnvGym: the environment holds a student and a held-out set of tasks from one family (maths
or code by default); the agent is the teacher. Each reply proposes tasks in the family's own schema;
every proposal is validated by the family's environment (its reference must pass the task's own
checks, for code in the sandbox), refused when its prompt gives the answer away or copies a held-out
task, and the valid ones are taught to the student. The student is then measured on the held-out set,
and the teacher earns the improvement.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym

from feedback_gym.env import FeedbackEnv
from feedback_gym.errors import (
    CheckerFailedError,
    ConfigError,
    FeedbackGymError,
    MissingReferenceError,
    require_int,
)
from feedback_gym.feedback import GENERIC_FEEDBACK_MODES
from feedback_gym.tasks import GeneratedTaskSource, Task
from feedback_gym.verdict import INTERNAL_ERROR, INVALID_ACTION, CheckResult, Verdict

from .proposals import MAX_PROPOSALS, duplicates, leak, parse_proposals, task_record
from .students import Student, make_student

#: What a proposal looks like, per family (by the student env's class name).
SCHEMA_HINTS = {
    "MathCritiqueEnv": '{"question": "...", "answer": "...", "steps": [{"text": "... = 12", "value": "12", '
                       '"hint": "what the step computes"}]} (steps optional)',
    "CodeFeedbackEnv": '{"prompt": "...", "entry_point": "f", "tests": ["assert candidate(1) == 2"], '
                       '"solution": "def f(x): ..."} or {"prompt": "...", "cases": [["stdin", "stdout"]], '
                       '"solution": "..."}',
}
PRACTICE_PREFIX = "Practice problem. "


def normalized_gain(before: float, after: float) -> float:
    """How much of the room for improvement was gained, in [0, 1] (Hake's gain; a loss counts as 0).

    >>> normalized_gain(0.25, 0.625), normalized_gain(0.5, 0.25), normalized_gain(1.0, 1.0)
    (0.5, 0.0, 1.0)
    """
    if before >= 1.0:
        return 1.0 if after >= 1.0 else 0.0
    return max(0.0, (after - before) / (1.0 - before))


class TeacherVerifier:
    """Validates proposals, teaches the valid ones, and measures the student on the held-out tasks."""

    def __init__(self, student_env: str, student_env_kwargs: Mapping[str, Any], student: Student) -> None:
        self.student_env = student_env
        self.student = student
        self._env = gym.make(student_env, **{**student_env_kwargs, "max_turns": 1})
        self._before: dict[str, float] = {}
        self._solved: dict[str, list[bool]] = {}

    @property
    def family(self) -> FeedbackEnv:
        """The student family's environment (unwrapped), used to build, check and judge tasks."""
        return self._env.unwrapped

    def held_out(self, task: Task) -> list[Task]:
        """The held-out tasks of a teaching task."""
        tasks = []
        for index in task.hidden["indices"]:
            self._env.reset(options={"task_index": int(index)})
            tasks.append(self.family.task)
        return tasks

    def measure(self, task: Task) -> list[bool]:
        """Whether the student solves each held-out task, first attempt, now."""
        tasks = self.held_out(task)
        replies = self.student.attempt([self.family.format_prompt(t) for t in tasks])
        solved = []
        for held, reply in zip(tasks, replies, strict=True):
            self._env.reset(options={"task_id": held.id})
            info = self._env.step(reply)[4]
            if info.get("error_kind") == INTERNAL_ERROR:
                raise CheckerFailedError(f"the student env's checker failed on {held.id}")
            solved.append(bool(info["solved"]))
        return solved

    def begin(self, task: Task) -> list[bool]:
        """A new episode: the student forgets, and its score before teaching is measured."""
        self.student.forget()
        solved = self.measure(task)
        self._before[task.id] = sum(solved) / len(solved)
        self._solved[task.id] = solved
        return solved

    def check(
        self, record: Mapping[str, Any], held_out: Mapping[str, str]
    ) -> tuple[tuple[str, str] | None, str]:
        """``((prompt, reference reply), "valid")`` for a good proposal, else ``(None, why not)``."""
        try:
            proposed = self.family.task_from_dict(record)
        except (FeedbackGymError, ValueError, TypeError, KeyError) as err:
            return None, f"not a task of this family: {err}"
        copied = duplicates([proposed.prompt, *(v for v in record.values() if isinstance(v, str))], held_out)
        problem = leak(proposed) or (f"copies held-out task {copied}" if copied else None)
        if problem:
            return None, problem
        try:
            self._env.reset(options={"task": dict(record)})
            reference = self.family.oracle_action()
        except MissingReferenceError:
            return None, "it has no reference solution/answer"
        except (FeedbackGymError, ValueError, TypeError) as err:
            return None, f"not a task of this family: {err}"
        info = self._env.step(reference)[4]
        if info.get("error_kind") == INTERNAL_ERROR:
            raise CheckerFailedError("the student env's checker failed while validating a proposal")
        if not info["solved"]:
            return None, f"its own reference does not pass its checks ({info.get('error_kind')})"
        return (self.family.format_prompt(self.family.task), reference), "valid"

    def verify(self, task: Task, action: str) -> Verdict:
        """Validate the proposals, teach the valid ones, measure the student again."""
        records, problem = parse_proposals(action)
        if problem:
            return Verdict(False, 0.0, error_kind=INVALID_ACTION, message=problem)
        held = self.held_out(task)
        prompts = {t.id: t.prompt for t in held}
        checks, examples = [], []
        for number, record in enumerate(records, start=1):
            example, why = self.check(record, prompts)
            detail = None if example else why
            checks.append(CheckResult(f"proposal {number}", example is not None, detail=detail))
            if example is not None:
                examples.append(example)
        self.student.learn(examples)
        solved = self.measure(task)
        before, after = self._before.get(task.id, 0.0), sum(solved) / len(solved)
        for held_task, passed in zip(held, solved, strict=True):
            checks.append(CheckResult(f"student on held-out task {held_task.id}", passed))
        message = (f"{len(examples)} of {len(records)} proposals were valid and taught; the student now "
                   f"solves {sum(solved)} of {len(solved)} held-out tasks (before teaching: "
                   f"{round(before * len(solved))}).")
        return Verdict(
            all(solved), normalized_gain(before, after), checks=tuple(checks),
            error_kind=None if examples else INVALID_ACTION, message=message, parsed=action,
            evidence={"before": before, "after": after, "valid_proposals": len(examples)},
        )

    def reference_action(self, task: Task) -> str:
        """The privileged oracle: a practice copy of each held-out task, with its reference."""
        records = [task_record(t, PRACTICE_PREFIX + t.prompt) for t in self.held_out(task)]
        return "```json\n" + json.dumps(records[:MAX_PROPOSALS], indent=1) + "\n```"

    def close(self) -> None:
        """Close the student family's environment."""
        self._env.close()


class TaskTeacherEnv(FeedbackEnv):
    """Teach a student by proposing tasks; the reward is the student's measured improvement.

    ## Description
    A teacher environment after DataEnvGym. The environment holds a *student* and, per episode, a
    held-out set of ``held_out`` tasks of the student family (``student_env``, e.g. ``MathCritique-v0``
    or ``CodeFeedback-v0``). The agent is the teacher: each reply proposes up to 4 tasks in that
    family's user-task schema. A proposal is taught only when it is valid: the family's own
    environment builds it, plays its reference as an action and checks it solves it (code runs in the
    sandbox, never here); its prompt must not contain its answer (or a line of its reference program);
    and it must not copy a held-out prompt verbatim. The student then attempts every held-out task once.

    ## Observation
    Text. After ``reset``: the family's schema, the rules, and the student's weak spots (which held-out
    tasks it fails, by id and public labels; never their answers). After each ``step``: which proposals
    were refused and why, and how many held-out tasks the student now solves.

    ## Action
    Text: a JSON object (one task) or a list of up to 4, bare or in a ```json block.

    ## Reward
    ``info["score"]`` is the normalized gain of the student on the held-out set since the episode began,
    ``(after - before) / (1 - before)`` (0 when it got worse); the default ``reward="fraction"`` pays each
    step the gain's improvement over the best so far, so an episode's return is the best gain reached.

    ## Episode End
    ``terminated`` when the student solves every held-out task; ``truncated`` after ``max_turns`` replies.

    ## Arguments
    - ``student_env`` (default ``"MathCritique-v0"``) and ``student_env_kwargs``: the family.
    - ``student``: ``"retrieval"`` (default; a nearest-neighbour student, no model), a policy spec such as
      ``"tiny-random"`` or ``"openai:URL#MODEL"`` (an in-context student), or a ``Student`` object;
      ``student_kwargs`` go to it.
    - ``held_out``: held-out tasks per episode (default 4). ``seed``: which ones each index draws.
    - ``feedback`` (default ``"full"``), ``reward`` (default ``"fraction"``), ``max_turns`` (default 3).

    ## Version History
    - v0: initial release.
    """

    feedback_modes: ClassVar = GENERIC_FEEDBACK_MODES

    def __init__(
        self,
        student_env: str = "MathCritique-v0",
        *,
        student_env_kwargs: Mapping[str, Any] | None = None,
        student: str | Student = "retrieval",
        student_kwargs: Mapping[str, Any] | None = None,
        held_out: int = 4,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        require_int("held_out", held_out, 1, 32)
        if not isinstance(student_env, str) or student_env not in gym.registry:
            raise ConfigError(f"student_env must be a registered id (see `feedback-gym list`); "
                              f"got {student_env!r}")
        self.held_out_size = held_out
        self._baseline: list[bool] = []
        verifier = TeacherVerifier(student_env, dict(student_env_kwargs or {}),
                                   make_student(student, **dict(student_kwargs or {})))
        if not isinstance(verifier.family, FeedbackEnv):
            verifier.close()
            raise ConfigError(f"student_env must be a single-agent feedback-gym env; got {student_env!r}")
        source = GeneratedTaskSource(f"teach-{student_env}", self._teaching_task, seed=seed)
        kwargs.setdefault("feedback", "full")
        kwargs.setdefault("reward", "fraction")
        kwargs.setdefault("max_turns", 3)
        super().__init__(source, verifier, **kwargs)

    def _teaching_task(self, rng: random.Random, index: int) -> Task:
        """Teaching task ``index``: a held-out set of the family's tasks, drawn from ``rng``."""
        indices = sorted({rng.randrange(10**6) for _ in range(self.held_out_size * 2)})[: self.held_out_size]
        student_env = self.verifier.student_env
        return Task(f"teach/{index}", f"Teach a student {student_env} tasks.", hidden={"indices": indices},
                    metadata={"student_env": student_env})

    def begin_episode(self, task: Task) -> None:
        """The student starts over and is measured on the held-out tasks (the gain's baseline)."""
        self._baseline = self.verifier.begin(task)

    def format_prompt(self, task: Task) -> str:
        """The rules, the schema, and where the student stands now (measured at ``reset``)."""
        solved = self._baseline
        held = self.verifier.held_out(task)
        failing = [f"- {t.id} {_labels(t)}" for t, ok in zip(held, solved, strict=True) if not ok]
        family = type(self.verifier.family).__mro__
        hint = next((SCHEMA_HINTS[c.__name__] for c in family if c.__name__ in SCHEMA_HINTS),
                    "a task in the family's user-task schema (see its documentation)")
        parts = [
            f"You are a teacher. A student is learning {self.verifier.student_env} tasks; it is tested on "
            f"{len(held)} held-out tasks, and your reward is how much it improves on them.",
            f"Propose practice tasks, up to {MAX_PROPOSALS} per reply, as a JSON object or list: {hint}",
            "Each task is checked: its reference must pass its own checks, its prompt must not contain the "
            "answer, and copies of held-out tasks are refused. The valid ones are taught to the student.",
            f"The student solves {sum(solved)} of {len(held)} held-out tasks now."
            + ("\nIt fails on:\n" + "\n".join(failing) if failing else ""),
        ]
        if self.max_turns > 1:
            parts.append(f"You have up to {self.max_turns} replies.")
        return "\n\n".join(parts)

    def close(self) -> None:
        """Close the student family's environment."""
        self.verifier.close()
        super().close()


def _labels(task: Task) -> str:
    """A held-out task's public labels (family, difficulty, tags): what a teacher may target."""
    meta = task.public_metadata()
    shown = {k: meta[k] for k in ("family", "difficulty", "tags", "language", "style") if meta.get(k)}
    return json.dumps(shown) if shown else ""
