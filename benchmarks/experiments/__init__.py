"""Experiments that train on the suite and measure the gain on held-out tasks (``feedback-gym experiment``).

One readable file per experiment (``learns_v0.py``, ``unary_feedback_v0.py``,
``textual_vs_binary_v0.py``) builds an :class:`~feedback_gym.benchmarks.experiments.spec.Experiment`;
:mod:`~feedback_gym.benchmarks.experiments.runner` trains, evaluates and writes results.json,
:mod:`~feedback_gym.benchmarks.experiments.report` draws the curves and writes report.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from feedback_gym.errors import ConfigError

if TYPE_CHECKING:
    from feedback_gym.benchmarks.experiments.spec import Experiment

#: Experiment name -> the module that defines it (imported on use: it needs nothing heavy, but stays lazy).
EXPERIMENTS = {
    "learns-v0": "feedback_gym.benchmarks.experiments.learns_v0",
    "unary-feedback-v0": "feedback_gym.benchmarks.experiments.unary_feedback_v0",
    "textual-vs-binary-v0": "feedback_gym.benchmarks.experiments.textual_vs_binary_v0",
}


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``."""
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; accepted: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(EXPERIMENTS[name]).EXPERIMENT
