"""An adapter that turns any reasoning-gym dataset into a feedback-gym task source.

reasoning-gym (optional extra ``reasoning``) generates procedural reasoning tasks offline from a seed
and scores answers with each dataset's own ``score_answer``; this module keeps both: task ``i`` of the
source is entry ``i`` of the dataset, and the verifier scores with that dataset's ``score_answer``
(rebuilding the dataset from the seed, size and config recorded in the hidden part of the task).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from feedback_gym.envs.math.solution import math_task
from feedback_gym.errors import ConfigError, UnknownTaskError, missing_dependency, require_int
from feedback_gym.tasks import Task

INSTRUCTIONS = "Think step by step, then give your final answer in <answer>...</answer>."


@lru_cache(maxsize=32)
def _dataset(name: str, seed: int, size: int, config: str) -> Any:
    try:
        import reasoning_gym
    except ImportError:
        raise missing_dependency("reasoning_gym", "reasoning") from None
    try:
        return reasoning_gym.create_dataset(name, seed=seed, size=size, **json.loads(config))
    except (KeyError, ValueError, TypeError) as err:
        raise ConfigError(f"reasoning-gym could not build dataset {name!r}: {err}") from None


class ReasoningGymSource:
    """Tasks from reasoning-gym dataset ``name`` (``size`` entries, seeded), ids ``rg-<name>/<seed>/<i>``.

    Args:
        name: A reasoning-gym dataset name (``"basic_arithmetic"``, ``"gsm_symbolic"``, ...).
        seed: The dataset seed.
        size: The number of entries.
        config: Extra dataset config fields, passed to ``reasoning_gym.create_dataset``.
    """

    def __init__(
        self, name: str, seed: int = 0, size: int = 500, config: dict[str, Any] | None = None
    ) -> None:
        require_int("size", size, minimum=1)
        self.name = f"rg-{name}"
        self.dataset_name = name
        self.seed = seed
        self._size = size
        self._config = json.dumps(config or {}, sort_keys=True)
        self.dataset = _dataset(name, seed, size, self._config)

    @property
    def size(self) -> int:
        """The number of entries."""
        return self._size

    def task(self, index: int) -> Task:
        """Task ``index`` (wrapping around)."""
        index %= self._size
        entry = self.dataset[index]
        hidden = {
            "reasoning_gym": {
                "dataset": self.dataset_name,
                "seed": self.seed,
                "size": self._size,
                "config": self._config,
                "index": index,
            }
        }
        return math_task(
            f"{self.name}/{self.seed}/{index}",
            str(entry["question"]),
            str(entry["answer"]),
            source="reasoning-gym",
            metadata={"dataset": self.dataset_name},
            extra_hidden=hidden,
            instructions=INSTRUCTIONS,
        )

    def get(self, task_id: str) -> Task:
        """Rebuild a task from its id."""
        prefix, _, index = task_id.rpartition("/")
        if prefix != f"{self.name}/{self.seed}" or not index.isdigit() or int(index) >= self._size:
            raise UnknownTaskError(
                f"{task_id!r} is not an id of source {self.name!r} (e.g. {self.name}/{self.seed}/0)"
            )
        return self.task(int(index))


def score_answer(task: Task, answer: str) -> float:
    """Score ``answer`` with the reasoning-gym dataset the task came from (0..1)."""
    info = task.hidden["reasoning_gym"]
    dataset = _dataset(info["dataset"], int(info["seed"]), int(info["size"]), str(info["config"]))
    try:
        score = float(dataset.score_answer(answer, dataset[int(info["index"])]))
    except Exception:  # noqa: BLE001 - a scorer choking on a strange answer scores it 0
        return 0.0
    return score if 0.0 <= score <= 1.0 else 0.0

