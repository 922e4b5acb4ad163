"""What an experiment is: arms (trainer and env settings) of one model, seeds, a budget, a held-out suite.

An experiment file (``learns_v0.py``...) builds one :class:`Experiment` and a ``judge`` that turns
its ``results.json`` into a verdict beside the paper's claim. Specs are versioned by name
(``-v0``): change what an arm trains on or how it is evaluated, and the name gets a new version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from feedback_gym.errors import ConfigError, require_int, require_positive_number


@dataclass(frozen=True)
class Claim:
    """The published result an experiment tests the direction of (``research/papers.md`` §3)."""

    anchor: str
    """Its row in papers.md §3 (``A1``, ``C1``)."""
    paper: str
    text: str
    """The claim, with the paper's numbers verbatim."""
    setting: str
    """The paper's setting (models, data), to set beside ours."""


@dataclass(frozen=True)
class Arm:
    """One trainer configuration: the env settings it trains with and a one-line description."""

    name: str
    description: str
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Merged over the experiment's ``env_kwargs`` for training (e.g. ``feedback``, ``max_turns``)."""


@dataclass(frozen=True)
class Scale:
    """How much compute a run spends: steps, batch, seeds, evaluation size.

    ``token_budget`` (generated tokens per arm and seed) ends an arm before ``steps`` once its
    rollouts have sampled that many tokens, so arms whose episodes differ in length are compared
    at equal generation cost.
    """

    steps: int
    eval_every: int
    seeds: tuple[int, ...]
    tasks_per_step: int
    group_size: int
    max_new_tokens: int
    heldout_tasks: int
    learning_rate: float
    validation_tasks: int = 32
    train_tasks: int = 2000
    eval_samples: int = 1
    token_budget: int | None = None
    micro_batch_size: int = 8
    temperature: float = 0.5
    minutes: str = ""
    """What the scale costs (measured), for the docs."""

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad value."""
        for name in ("steps", "eval_every", "tasks_per_step", "max_new_tokens", "heldout_tasks",
                     "validation_tasks", "train_tasks", "eval_samples", "micro_batch_size"):
            require_int(f"scale: {name}", getattr(self, name), minimum=1)
        # Two or more: the group mean is each episode's baseline.
        require_int("scale: group_size", self.group_size, minimum=2)
        if not isinstance(self.seeds, tuple) or not self.seeds:
            raise ConfigError(f"scale: seeds must be a non-empty list of ints; got {self.seeds!r}")
        for seed in self.seeds:
            require_int("scale: each seed", seed, minimum=0)
        require_positive_number("scale: learning_rate", self.learning_rate)
        require_positive_number("scale: temperature", self.temperature)
        if self.token_budget is not None:
            require_int("scale: token_budget (or None)", self.token_budget, minimum=1)


#: A judge reads results.json (as a dict) and returns the verdict: status, summary, comparisons.
Judge = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Experiment:
    """A named, versioned experiment: the same model trained under each arm, evaluated on held-out tasks.

    Every arm starts from ``model`` and trains on the train split of ``env`` (with ``env_kwargs``
    and the arm's own settings); every kept checkpoint plays the held-out split under
    ``eval_env_kwargs``, the same for all arms, and reports success@1 (solved on the first attempt)
    and success@k (solved within the eval env's ``max_turns``).
    """

    name: str
    question: str
    claim: Claim
    env: str
    env_kwargs: Mapping[str, Any]
    arms: tuple[Arm, ...]
    eval_env_kwargs: Mapping[str, Any]
    scales: Mapping[str, Scale]
    judge: Judge
    can_show: str
    """What the default CPU scale can and cannot show."""
    model: str = "smollm2"

    def scale(self, name: str, **overrides: Any) -> Scale:
        """The named scale with ``overrides`` (``steps=4``) applied and validated."""
        if name not in self.scales:
            raise ConfigError(f"{self.name} has no scale {name!r}; accepted: {', '.join(self.scales)}")
        unknown = set(overrides) - set(Scale.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"unknown scale settings {sorted(unknown)}; accepted: {', '.join(Scale.__dataclass_fields__)}"
            )
        scale = replace(self.scales[name], **{k: v for k, v in overrides.items() if v is not None})
        scale.validate()
        return scale

    def arm(self, name: str) -> Arm:
        """The arm called ``name``."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        names = ", ".join(a.name for a in self.arms)
        raise ConfigError(f"{self.name} has no arm {name!r}; accepted: {names}")

    def train_env_kwargs(self, arm: Arm) -> dict[str, Any]:
        """The env settings ``arm`` trains with."""
        return {**self.env_kwargs, **arm.env_kwargs}

    def eval_k(self) -> int:
        """The k of success@k: the eval env's turn budget."""
        return int(self.eval_env_kwargs.get("max_turns", 1))
