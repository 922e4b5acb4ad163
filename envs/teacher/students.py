"""Students a teacher environment teaches: they learn from worked examples and are measured on tasks.

A student has two calls: ``learn(examples)`` takes worked examples (a task's prompt and its reference
reply, e.g. the fenced reference program or the worked maths solution), and ``attempt(prompts)``
answers task prompts. ``forget()`` starts it over (every episode does). Two students come with the
suite:

- :class:`RetrievalStudent` (the default): a nearest-neighbour learner with no model. It answers a
  prompt with the reference reply of the most similar example it was taught (word overlap), and
  "I don't know." when nothing it knows is similar enough. Deterministic and instant, so a teacher
  can be trained and tested on a CPU; what it rewards is teaching material close to the student's
  weak spots, which is what DataEnvGym's teachers learn to produce.
- :class:`InContextStudent`: any policy (``tiny-random``, ``smollm2``, ``hf:PATH``,
  ``openai:URL#MODEL``, or a :class:`~feedback_gym.policy.Policy`) that learns in context:
  the examples it was taught are put before each prompt as solved demonstrations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from feedback_gym.errors import ConfigError

#: An example: (task prompt, reference reply).
Example = tuple[str, str]
_WORDS = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
NO_ANSWER = "I don't know."


@runtime_checkable
class Student(Protocol):
    """What a teacher environment needs of a student."""

    name: str

    def forget(self) -> None:
        """Drop everything learned (a new episode starts)."""
        ...

    def learn(self, examples: Sequence[Example]) -> None:
        """Take worked examples into account for later attempts."""
        ...

    def attempt(self, prompts: Sequence[str]) -> list[str]:
        """One reply per task prompt."""
        ...


def words(text: str) -> frozenset[str]:
    """The lower-cased words and numbers of ``text`` (what similarity is measured on).

    >>> sorted(words("Solve 3x + 4 = 10, for x."))
    ['10', '3', '4', 'for', 'solve', 'x']
    """
    return frozenset(_WORDS.findall(text.lower()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two word sets (0 when both are empty).

    >>> similarity(frozenset("ab"), frozenset("bc"))
    0.3333333333333333
    """
    union = a | b
    return len(a & b) / len(union) if union else 0.0


class RetrievalStudent:
    """Answers with the reference reply of the most similar taught example (see the module docstring).

    Args:
        threshold: The least word overlap (Jaccard, 0..1) at which an example is used.
        capacity: The most examples kept (the oldest are dropped first).
    """

    name = "retrieval"

    def __init__(self, threshold: float = 0.6, capacity: int = 256) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"threshold must be in (0, 1]; got {threshold!r}")
        if not isinstance(capacity, int) or capacity < 1:
            raise ConfigError(f"capacity must be an int >= 1; got {capacity!r}")
        self.threshold = threshold
        self.capacity = capacity
        self._memory: list[tuple[frozenset[str], str]] = []

    def forget(self) -> None:
        """Empty the memory."""
        self._memory = []

    def learn(self, examples: Sequence[Example]) -> None:
        """Remember each example's words and reply."""
        self._memory.extend((words(prompt), reply) for prompt, reply in examples)
        self._memory = self._memory[-self.capacity:]

    def attempt(self, prompts: Sequence[str]) -> list[str]:
        """The best-matching remembered reply for each prompt, or "I don't know."."""
        replies = []
        for prompt in prompts:
            asked = words(prompt)
            scored = [(similarity(asked, known), reply) for known, reply in self._memory]
            best = max(scored, key=lambda item: item[0], default=(0.0, NO_ANSWER))
            replies.append(best[1] if best[0] >= self.threshold else NO_ANSWER)
        return replies


class InContextStudent:
    """A policy that learns in context: the taught examples precede each prompt as demonstrations.

    Args:
        policy: A policy spec (``tiny-random``, ``openai:URL#MODEL``, ...) or a ``Policy`` object.
        max_examples: The most demonstrations put before a prompt (the latest ones).
        policy_kwargs: Passed to ``make_policy`` with a spec (``max_new_tokens``, ``seed``...).
    """

    def __init__(self, policy: Any, max_examples: int = 4, **policy_kwargs: Any) -> None:
        from feedback_gym.policy import Policy, make_policy

        if not isinstance(max_examples, int) or max_examples < 1:
            raise ConfigError(f"max_examples must be an int >= 1; got {max_examples!r}")
        self.policy = make_policy(policy, **policy_kwargs) if isinstance(policy, str) else policy
        if not isinstance(self.policy, Policy):
            raise ConfigError(f"the student must be a policy spec or a Policy; got {type(policy).__name__}")
        self.name = f"in-context:{self.policy.name}"
        self.max_examples = max_examples
        self._examples: list[Example] = []

    def forget(self) -> None:
        """Drop the demonstrations."""
        self._examples = []

    def learn(self, examples: Sequence[Example]) -> None:
        """Keep the examples as demonstrations."""
        self._examples.extend(examples)

    def attempt(self, prompts: Sequence[str]) -> list[str]:
        """Ask the policy, each prompt preceded by the latest demonstrations."""
        shown = self._examples[-self.max_examples:]
        demos = "".join(f"Solved example {i}:\n{p}\n\nSolution:\n{r}\n\n---\n\n" for i, (p, r) in
                        enumerate(shown, start=1))
        conversations = [[{"role": "user", "content": demos + prompt}] for prompt in prompts]
        return [reply.text for reply in self.policy.act(conversations)]


def make_student(spec: str | Student = "retrieval", **kwargs: Any) -> Student:
    """``"retrieval"`` (default), any policy spec (an :class:`InContextStudent`), or a ``Student`` object.

    >>> make_student().name
    'retrieval'
    """
    if isinstance(spec, str):
        return RetrievalStudent(**kwargs) if spec == "retrieval" else InContextStudent(spec, **kwargs)
    if isinstance(spec, Student):
        return spec
    raise ConfigError(
        "student must be 'retrieval', a policy spec (tiny-random, hf:PATH, openai:URL#MODEL, ...) or an "
        f"object with name, forget(), learn(examples) and attempt(prompts); got {type(spec).__name__}"
    )
