"""Cross-episode memory (Reflexion): a reflection on each failed trial opens the task's next trial.

Reflexion's agent keeps an episodic memory of verbal reflections: after a failed trial it writes
what went wrong and what to do differently, and the next trial on the same task starts with those
reflections in its prompt; no weights change. :class:`ReflectionMemory` is that hook as a Gymnasium
wrapper, so the benchmark runner (a suite entry with ``memory``) and the GRPO trainer
(``reflection_memory``) use it the same way, and so does a user's own loop:

- ``reset`` starts the task's episode with the reflections stored for its ``task_id`` (at most
  ``max_reflections``, newest last) before the task's own prompt; ``info["reflections"]`` lists them.
- when an episode ends unsolved, the ``reflector`` writes a reflection on its transcript: a policy
  (the agent itself, as in Reflexion, or any policy spec), or ``None`` for a plain account of the last
  answer and the feedback it got. It is stored under the task's id and returned in
  ``info["reflection"]``.

The store (:class:`MemoryStore`) can be shared by many wrapped envs (the copies of a vector env), so
a reflection written in one copy opens the task's next episode in any copy. A reflector that fails
raises: a missing reflection is never silently replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from feedback_gym.conversation import continued, opening
from feedback_gym.errors import ConfigError
from feedback_gym.text import clean_text

MEMORY_HEADER = "Reflections from your earlier attempts at this task (use them; they may be wrong):"
REFLECT_PROMPT = (
    "You did not solve the task. In two or three sentences, reflect: what went wrong, and what will "
    "you do differently next time? Write only the reflection."
)
#: The longest reflection kept (characters).
MAX_REFLECTION_CHARS = 600


class MemoryStore:
    """Reflections by task id, newest last; shared by every env that should remember together.

    >>> store = MemoryStore(max_reflections=2)
    >>> for text in ("a", "b", "c"):
    ...     store.add("t", text)
    >>> store.recall("t"), store.recall("other")
    (['b', 'c'], [])
    """

    def __init__(self, max_reflections: int = 3) -> None:
        if not isinstance(max_reflections, int) or max_reflections < 1:
            raise ConfigError(f"max_reflections must be an int >= 1; got {max_reflections!r}")
        self.max_reflections = max_reflections
        self._by_task: dict[str, list[str]] = {}

    def add(self, task_id: str, reflection: str) -> None:
        """Store a reflection for ``task_id`` (the oldest goes once there are too many)."""
        kept = self._by_task.setdefault(task_id, [])
        kept.append(reflection)
        del kept[: -self.max_reflections]

    def recall(self, task_id: str) -> list[str]:
        """The reflections stored for ``task_id``."""
        return list(self._by_task.get(task_id, ()))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_task.values())


def with_reflections(observation: str, reflections: Sequence[str]) -> str:
    """The task's opening observation, preceded by the stored reflections.

    >>> print(with_reflections("Reach 24.", ["I reused a number."]))
    Reflections from your earlier attempts at this task (use them; they may be wrong):
    - I reused a number.
    <BLANKLINE>
    Reach 24.
    """
    if not reflections:
        return observation
    lines = "\n".join(f"- {' '.join(r.split())}" for r in reflections)
    return f"{MEMORY_HEADER}\n{lines}\n\n{observation}"


def plain_reflection(messages: Sequence[Mapping[str, str]]) -> str:
    """A reflection without a model: the last answer and the feedback it got, abridged.

    >>> plain_reflection([{"role": "user", "content": "Q"}, {"role": "assistant", "content": "5"},
    ...                   {"role": "user", "content": "Incorrect."}])
    'Last time I answered `5` and was told: Incorrect. I must try a different answer.'
    """
    answer = next((m["content"] for m in reversed(messages) if m["role"] == "assistant"), "")
    feedback = messages[-1]["content"] if messages and messages[-1]["role"] == "user" else ""
    short = " ".join(answer.split())[:200]
    told = " ".join(feedback.split())[:300]
    return f"Last time I answered `{short}` and was told: {told} I must try a different answer."


class ReflectionMemory(gym.Wrapper):
    """Reflexion's episodic memory around any feedback-gym env (see the module docstring).

    Args:
        env: The environment (its ``info`` must carry ``task_id`` and ``solved``).
        reflector: A policy (or spec) asked to reflect on a failed episode, or ``None`` for
            :func:`plain_reflection`.
        store: A :class:`MemoryStore` to share with other envs (a new one when ``None``).
        max_reflections: Reflections kept per task (for a new store).
    """

    def __init__(
        self, env: gym.Env, reflector: Any = None, store: MemoryStore | None = None, max_reflections: int = 3
    ) -> None:
        super().__init__(env)
        if isinstance(reflector, str):
            from feedback_gym.agents.policy import make_policy

            reflector = make_policy(reflector)
        if reflector is not None and not callable(getattr(reflector, "act", None)):
            raise ConfigError(f"reflector must be None, a policy spec or a Policy; got {reflector!r}")
        self.reflector = reflector
        self.store = store if store is not None else MemoryStore(max_reflections)
        self._messages: list[dict[str, str]] = []
        self._task_id = ""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset the env; open with the reflections stored for its task."""
        observation, info = self.env.reset(**kwargs)
        self._task_id = str(info.get("task_id", ""))
        reflections = self.store.recall(self._task_id)
        observation = clean_text(with_reflections(observation, reflections))
        self._messages = opening(observation)
        return observation, {**info, "reflections": reflections}

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env; after an unsolved end, reflect and store the reflection."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._messages = continued(self._messages, str(action), str(observation))
        if (terminated or truncated) and not info.get("solved"):
            reflection = self.reflect(self._messages)
            self.store.add(self._task_id, reflection)
            info = {**info, "reflection": reflection}
        return observation, reward, terminated, truncated, info

    def reflect(self, messages: Sequence[Mapping[str, str]]) -> str:
        """The reflector's reflection on a failed episode (an empty one is an error)."""
        if self.reflector is None:
            return plain_reflection(messages)
        reply = self.reflector.act([[*messages, {"role": "user", "content": REFLECT_PROMPT}]])[0]
        text = " ".join(str(reply.text).split())[:MAX_REFLECTION_CHARS]
        if not text:
            raise ConfigError(
                f"the reflector {getattr(self.reflector, 'name', '?')!r} wrote an empty reflection; "
                "use a policy that writes one, or reflector=None for the plain account"
            )
        return text
