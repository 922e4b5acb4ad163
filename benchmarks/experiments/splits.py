"""Train, validation and held-out tasks that never share a task, and the wrapper that keeps an env inside one.

A procedural env hands out an unlimited stream of tasks, and two indices can produce the same task
(Countdown with three small numbers repeats itself). Splitting by index would then leak held-out
tasks into training. So the split is by *content*: a task's bucket is a hash of its prompt (the
prompt states everything the task is: the numbers and the target, the question), and the same
prompt always lands in the same split, whatever index produced it. Held-out success is therefore
measured on prompts the trainer never saw.

:class:`TaskSplit` lists the task ids of each split (the first ``size`` distinct prompts of each
bucket range, in index order); :class:`PlayOnly` makes an env draw only from one list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from feedback_gym.errors import ConfigError

#: Buckets (of 100) per split: 80 % of all prompts may be trained on, 10 % tune, 10 % are held out.
SPLIT_BUCKETS = {"train": range(0, 80), "validation": range(80, 90), "heldout": range(90, 100)}

SPLIT_METHOD = (
    "by content: sha256(prompt) mod 100 -> train 0-79, validation 80-89, held-out 90-99; "
    "identical prompts always share a split, so no held-out prompt is ever trained on"
)


def bucket(prompt: str) -> int:
    """The split bucket (0..99) of a prompt; stable across runs, machines and Python versions.

    >>> bucket("Using the numbers [1, 2, 3], write an expression that equals 6.")
    68
    """
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big") % 100


@dataclass(frozen=True)
class TaskSplit:
    """The task ids of the train, validation and held-out splits of one env configuration."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    heldout: tuple[str, ...]
    overlap: int
    """Prompts found in more than one split (0 by construction; recomputed, not assumed)."""

    @classmethod
    def build(
        cls, env: gym.Env, sizes: dict[str, int], max_scan: int = 200_000
    ) -> TaskSplit:
        """Scan the env's task source by index until each split holds ``sizes[name]`` distinct prompts."""
        unknown = set(sizes) - set(SPLIT_BUCKETS)
        if unknown:
            raise ConfigError(f"unknown splits {sorted(unknown)}; accepted: {', '.join(SPLIT_BUCKETS)}")
        source = env.unwrapped.source
        chosen: dict[str, list[str]] = {name: [] for name in SPLIT_BUCKETS}
        prompts: dict[str, set[str]] = {name: set() for name in SPLIT_BUCKETS}
        limit = source.size if source.size is not None else max_scan
        for index in range(limit):
            if all(len(chosen[n]) >= sizes.get(n, 0) for n in SPLIT_BUCKETS):
                break
            task = source.task(index)
            name = next(n for n, buckets in SPLIT_BUCKETS.items() if bucket(task.prompt) in buckets)
            if len(chosen[name]) < sizes.get(name, 0) and task.prompt not in prompts[name]:
                chosen[name].append(task.id)
                prompts[name].add(task.prompt)
        short = {n: len(chosen[n]) for n in SPLIT_BUCKETS if len(chosen[n]) < sizes.get(n, 0)}
        if short:
            raise ConfigError(
                f"the task source {source.name!r} has too few distinct prompts for the split sizes "
                f"{sizes} (found only {short} after scanning {limit} indices)"
            )
        names = list(SPLIT_BUCKETS)
        overlap = sum(
            len(prompts[a] & prompts[b]) for i, a in enumerate(names) for b in names[i + 1 :]
        )
        return cls(tuple(chosen["train"]), tuple(chosen["validation"]), tuple(chosen["heldout"]), overlap)

    def ids(self, name: str) -> tuple[str, ...]:
        """The task ids of split ``name`` (``train``, ``validation`` or ``heldout``)."""
        if name not in SPLIT_BUCKETS:
            raise ConfigError(f"unknown split {name!r}; accepted: {', '.join(SPLIT_BUCKETS)}")
        return getattr(self, name)


class PlayOnly(gym.Wrapper):
    """Make every drawn task one of ``task_ids``: ``reset(seed=s)`` plays ``task_ids[s % len]``.

    The GRPO trainer and the rollout draw tasks by reset seed; this maps each seed onto the
    allowed list, so a trainer wrapped in ``PlayOnly(env, split.train)`` never meets a held-out
    task, and an evaluation with seeds ``0..n-1`` plays each listed task exactly once. An explicit
    ``task_id`` or ``task`` in ``options`` is refused: it would step outside the list.
    """

    def __init__(self, env: gym.Env, task_ids: Sequence[str]) -> None:
        super().__init__(env)
        if not task_ids:
            raise ConfigError("PlayOnly needs at least one task id")
        self.task_ids = tuple(task_ids)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset onto the listed task the seed selects (a random one when no seed is given)."""
        if options and ({"task_id", "task", "task_index"} & set(options)):
            raise ConfigError("PlayOnly chooses the task itself; do not pass task_id/task/task_index")
        if seed is None:
            index = int(self.env.unwrapped.np_random.integers(len(self.task_ids)))
        else:
            index = int(seed) % len(self.task_ids)
        return self.env.reset(seed=seed, options={**(options or {}), "task_id": self.task_ids[index]})
