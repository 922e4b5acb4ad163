"""Deterministic samples for the default run; the full sweeps run under ``-m sweep``.

A sweep (every task x every program, every id x every check) costs minutes; a developer's plain
``pytest`` runs a sample of it and CI runs the whole sweep as a separate job (``docs/testing.md``).
Samples are drawn with :class:`random.Random` seeded by a fixed string, so they are the same on every
machine and every run (string seeds do not depend on ``PYTHONHASHSEED``), and they change only when
the list they are drawn from changes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import pytest

T = TypeVar("T")

#: The seed every sample is drawn with, salted by the name of what is sampled.
SEED = "feedback-gym-tests"


def sample(items: Iterable[T], k: int, *, salt: str) -> list[T]:
    """``k`` of ``items`` (all of them when there are fewer), in their original order.

    Args:
        items: what to draw from; its order is kept in the result.
        k: how many to draw.
        salt: names the sweep, so that two sweeps over the same list draw different items.
    """
    pool = list(items)
    if k >= len(pool):
        return pool
    chosen = set(random.Random(f"{SEED}/{salt}").sample(range(len(pool)), k))
    return [item for index, item in enumerate(pool) if index in chosen]


def sample_per_group(items: Iterable[T], k: int, *, group: Callable[[T], Hashable], salt: str) -> list[T]:
    """``k`` items of each group (a task family, a backend...), in their original order."""
    pool = list(items)
    groups: dict[Hashable, list[int]] = {}
    for index, item in enumerate(pool):
        groups.setdefault(group(item), []).append(index)
    chosen = {index for key, members in groups.items() for index in sample(members, k, salt=f"{salt}/{key}")}
    return [item for index, item in enumerate(pool) if index in chosen]


def sweep_params(cases: Sequence[T], sampled: Sequence[T], ids: Callable[[T], str] | None = None) -> list:
    """Parameters for every case: the sampled ones run by default, the others only under ``-m sweep``.

    A tuple case gives one value to each name of the ``parametrize`` call. The default run and the
    sweep job together run every case once.
    """
    return [
        pytest.param(
            *(case if isinstance(case, tuple) else (case,)),
            id=ids(case) if ids else None,
            marks=() if case in sampled else pytest.mark.sweep,
        )
        for case in cases
    ]


def id_family(env_id: str) -> str:
    """The family a registered id belongs to: its entry point's package under ``feedback_gym.envs``.

    ``CodeFeedback-v0`` and ``HumanEval-v0`` are both ``code``; ``CodeTryAgain-v0`` is ``retry``.
    """
    import gymnasium as gym

    entry_point = gym.spec(env_id).entry_point
    module = entry_point if isinstance(entry_point, str) else entry_point.__module__
    return module.split(":")[0].removeprefix("feedback_gym.envs.").split(".")[0]
