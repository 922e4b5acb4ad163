"""The public API for writing one's own feedback mode: everything a mode needs, from one module.

A feedback mode is any object with a ``kind`` (a short name for ``info["feedback_kind"]``) and
``__call__(verdict, context)`` returning the text, or a :class:`RenderedFeedback` (the text and
JSON-friendly ``details`` that go to ``info["feedback_details"]``). Pass it as ``feedback=`` to any
environment (``gym.make("MathCritique-v0", feedback=MyMode())``); the verdict, the reward and ``info`` stay
what they are, only the text the agent reads changes. See ``docs/feedback-modes.md`` and
``examples/custom_feedback_mode.py``.

What a mode reads:

- :class:`Verdict`: ``solved``, ``score``, ``checks`` (:class:`CheckResult`: name, passed, input,
  expected, got, detail), ``error_kind``, ``message``, ``evidence`` (diagnostics, traceback, stderr),
  ``parsed`` (the answer the verifier read).
- :class:`FeedbackContext`: the ``task`` (:class:`Task`, with its hidden material: never quote it),
  the ``action``, ``turn``/``max_turns``, the ``history`` of earlier :class:`Attempt` s, and ``rng``
  (the env's generator, for reproducible phrasings).

Helpers a mode may build on: :func:`render_feedback` (call any mode, get a ``RenderedFeedback``),
:func:`describe_check` (one failed check as text), :func:`turns_left`,
:func:`rejected_answers`/:func:`answer_key` (the episode's wrong answers), :func:`make_feedback` and
:data:`GENERIC_FEEDBACK_MODES` (wrap or delegate to a built-in mode by name). For maths, the
reference-guided critic's parts: :func:`diagnose` (where a worked solution departs from the
reference, as a :class:`Diagnosis`), :func:`steps_of` (a task's worked-solution :class:`Step` s),
:func:`arithmetic_slip`, and :class:`LeakFilter` (redacts answer-revealing values from any text).
The maths helpers are imported on first use, so this module stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from feedback_gym.feedback import (
    GENERIC_FEEDBACK_MODES,
    Attempt,
    FeedbackContext,
    FeedbackMode,
    RenderedFeedback,
    _turns_left,
    answer_key,
    describe_check,
    make_feedback,
    rejected_answers,
    render_feedback,
)
from feedback_gym.tasks import Task
from feedback_gym.verdict import CheckResult, Verdict

if TYPE_CHECKING:
    from feedback_gym.envs.math.critic import Diagnosis, arithmetic_slip, diagnose
    from feedback_gym.envs.math.leaks import LeakFilter
    from feedback_gym.envs.math.solution import Step, steps_of

#: Public name -> the module that defines it (imported on first access).
_MATH_HELPERS = {
    "Diagnosis": "feedback_gym.envs.math.critic",
    "diagnose": "feedback_gym.envs.math.critic",
    "arithmetic_slip": "feedback_gym.envs.math.critic",
    "Step": "feedback_gym.envs.math.solution",
    "steps_of": "feedback_gym.envs.math.solution",
    "LeakFilter": "feedback_gym.envs.math.leaks",
}


#: The ``" (n attempts left)"`` suffix the built-in modes end a wrong attempt's feedback with.
turns_left = _turns_left


def __getattr__(name: str) -> Any:
    """Import the maths helpers when first asked for (PEP 562)."""
    module = _MATH_HELPERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "GENERIC_FEEDBACK_MODES",
    "Attempt",
    "CheckResult",
    "Diagnosis",
    "FeedbackContext",
    "FeedbackMode",
    "LeakFilter",
    "RenderedFeedback",
    "Step",
    "Task",
    "Verdict",
    "answer_key",
    "arithmetic_slip",
    "describe_check",
    "diagnose",
    "make_feedback",
    "rejected_answers",
    "render_feedback",
    "steps_of",
    "turns_left",
]
