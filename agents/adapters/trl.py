"""TRL adapter: train on any feedback-gym environment with ``trl.GRPOTrainer``.

Three ways in, from most to least interactive:

- **Multi-turn, tool calling** — :func:`environment_factory` returns a class for
  ``GRPOTrainer(environment_factory=...)``. TRL makes one instance per rollout, calls
  ``reset(**dataset_row)``, exposes the public methods as tools (``submit(answer)``: one attempt,
  answered with the environment's feedback; ``give_up()``), and scores the rollout with
  ``get_reward()`` (the episode's return). Needs a model whose chat template supports tool calls.
- **Single-turn** — :func:`reward_function` returns a reward function with TRL's calling
  convention (``prompts, completions, **dataset_columns -> list[float]``): each completion is
  played as the first action of an episode on the row's task.
- **Data** — :func:`task_dataset` exports tasks as a ``datasets.Dataset`` with a ``prompt`` column
  (conversational) and a ``task_id`` column, which both of the above use to put every member of a
  GRPO group on the same task.

Example::

    from trl import GRPOConfig, GRPOTrainer
    from feedback_gym.agents.adapters.trl import environment_factory, task_dataset

    trainer = GRPOTrainer(
        model="Qwen/Qwen3-0.6B",
        environment_factory=environment_factory("Countdown-v0", max_turns=3, feedback="tests"),
        train_dataset=task_dataset("Countdown-v0", 512),
        args=GRPOConfig(max_tool_calling_iterations=3),
    )
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym

from feedback_gym.conversation import opening
from feedback_gym.env import GIVE_UP_ACTION
from feedback_gym.errors import ConfigError, missing_dependency, require_int

#: Feedback longer than this many characters is cut (with a marker) before it goes back to the model.
MAX_FEEDBACK_CHARS = 8000


class FeedbackGymEnvironment:
    """One feedback-gym episode seen through TRL's ``environment_factory`` contract.

    Subclasses made by :func:`environment_factory` set ``env_id`` and ``env_kwargs``. Every public
    method except ``reset`` and ``get_reward`` is a tool the model may call.
    """

    env_id: ClassVar[str] = ""
    env_kwargs: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        if not self.env_id:
            raise ConfigError("use environment_factory(env_id) to make an environment class for TRL")
        self._env = gym.make(self.env_id, **self.env_kwargs)
        self._rewards: list[float] = []
        self._done = True
        self._solved = False

    def reset(
        self, prompt: Any = None, task_id: str | None = None, seed: int | None = None, **row: Any
    ) -> str | None:
        """Start an episode on the row's task; return the task text unless the prompt already holds it.

        ``task_id`` (from :func:`task_dataset`) selects the task, so every member of a GRPO group
        plays the same one; without it ``seed`` draws one.
        """
        options = {"task_id": task_id} if task_id else None
        observation, _ = self._env.reset(seed=None if seed is None else int(seed), options=options)
        self._rewards, self._done, self._solved = [], False, False
        return None if _prompt_has_text(prompt) else str(observation)

    def submit(self, answer: str) -> str:
        """Submit one attempt at the task and get the environment's feedback on it.

        Args:
            answer: The complete attempt, in the form the task asks for (a program in a code
                block, an expression in <answer> tags, a final answer).

        Returns:
            The feedback on the attempt, followed by a note when the episode is over.
        """
        return self._act(answer)

    def give_up(self) -> str:
        """Give up on the task and end the episode (the reward so far is kept).

        Returns:
            A confirmation that the episode is over.
        """
        return self._act(GIVE_UP_ACTION)

    def get_reward(self) -> float:
        """The episode's return: the sum of the rewards of every attempt (0.0 if none was made)."""
        return float(sum(self._rewards))

    def _act(self, action: str) -> str:
        if self._done:
            return "The episode is over; no more attempts are accepted."
        observation, reward, terminated, truncated, info = self._env.step(action)
        self._rewards.append(float(reward))
        self._solved = self._solved or bool(info.get("solved"))
        self._done = bool(terminated or truncated)
        feedback = _cut(str(observation))
        if self._done:
            ending = "solved" if self._solved else "not solved"
            feedback += f"\n\n[The episode is over: {ending}.]"
        return feedback

    def __del__(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            env.close()


def environment_factory(env_id: str, **env_kwargs: Any) -> type[FeedbackGymEnvironment]:
    """A class for ``GRPOTrainer(environment_factory=...)`` playing ``env_id`` (kwargs go to ``gym.make``)."""
    if env_id not in gym.registry:
        raise ConfigError(f"unknown environment id {env_id!r}; see `feedback-gym list`")
    name = re.sub(r"\W", "", env_id.replace("-", "_")) + "Environment"
    return type(name, (FeedbackGymEnvironment,), {"env_id": env_id, "env_kwargs": dict(env_kwargs)})


def reward_function(env_id: str, **env_kwargs: Any) -> Callable[..., list[float]]:
    """A single-turn reward function for ``GRPOTrainer(reward_funcs=...)``.

    Each completion is the first action of an episode on its row's task (the ``task_id`` column of
    :func:`task_dataset`); the reward is what the environment pays for it.
    """
    if env_id not in gym.registry:
        raise ConfigError(f"unknown environment id {env_id!r}; see `feedback-gym list`")
    env = gym.make(env_id, **env_kwargs)

    def reward(
        prompts: Sequence[Any], completions: Sequence[Any], task_id: Sequence[str] | None = None, **_: Any
    ) -> list[float]:
        if task_id is None:
            raise ConfigError(
                "the dataset needs a 'task_id' column (see feedback_gym.agents.adapters.trl.task_dataset)"
            )
        rewards = []
        for completion, task in zip(completions, task_id, strict=True):
            env.reset(options={"task_id": task})
            rewards.append(float(env.step(completion_text(completion))[1]))
        return rewards

    reward.__name__ = re.sub(r"\W", "_", env_id) + "_reward"
    reward.__doc__ = f"The reward {env_id} pays for each completion as a first attempt at the row's task."
    return reward


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or the assistant messages of a conversational one.

    >>> completion_text([{"role": "assistant", "content": "42"}])
    '42'
    >>> completion_text("x = 1")
    'x = 1'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        parts = [
            str(m.get("content") or "")
            for m in completion
            if isinstance(m, Mapping) and m.get("role") == "assistant"
        ]
        return "\n".join(parts)
    return str(completion)


def task_rows(env_id: str, num_tasks: int, seed: int = 0, **env_kwargs: Any) -> list[dict[str, Any]]:
    """``num_tasks`` distinct tasks of ``env_id`` as rows ``{"prompt": [user message], "task_id"}``.

    Tasks are drawn with reset seeds ``seed, seed + 1, ...``; repeated draws are skipped, so a small
    task set yields fewer rows than asked for rather than duplicates.
    """
    require_int("num_tasks", num_tasks, minimum=1)
    env = gym.make(env_id, **env_kwargs)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        for offset in range(num_tasks * 4):
            observation, info = env.reset(seed=seed + offset)
            if info["task_id"] in seen:
                continue
            seen.add(info["task_id"])
            rows.append(
                {"prompt": opening(str(observation)), "task_id": str(info["task_id"])}
            )
            if len(rows) == num_tasks:
                break
    finally:
        env.close()
    return rows


def task_dataset(env_id: str, num_tasks: int, seed: int = 0, **env_kwargs: Any) -> Any:
    """:func:`task_rows` as a ``datasets.Dataset`` (the format ``GRPOTrainer`` reads)."""
    try:
        from datasets import Dataset
    except ImportError:
        raise missing_dependency("datasets", "trl") from None
    return Dataset.from_list(task_rows(env_id, num_tasks, seed, **env_kwargs))


def _prompt_has_text(prompt: Any) -> bool:
    if isinstance(prompt, str):
        return bool(prompt.strip())
    if isinstance(prompt, Sequence) and prompt and isinstance(prompt[-1], Mapping):
        return bool(str(prompt[-1].get("content") or "").strip())
    return False


def _cut(text: str) -> str:
    if len(text) <= MAX_FEEDBACK_CHARS:
        return text
    return text[:MAX_FEEDBACK_CHARS] + f"\n[... {len(text) - MAX_FEEDBACK_CHARS} more characters cut]"
