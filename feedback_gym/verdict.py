"""What a verifier concludes about one action, independent of how it is shown to the agent.

A :class:`Verdict` is computed once per step; feedback modes (``feedback.py``) and reward functions
(``rewards.py``) only read it. Keeping the verdict fixed while the rendering changes is what lets the
same task be played with ``binary``, ``tests``, ``critique`` or any other feedback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from feedback_gym.tasks import Task, thaw

#: Error kinds shared by every family. Families may add their own strings.
INVALID_ACTION = "invalid_action"  # unreadable, empty, too long, or no answer/code found
GAVE_UP = "gave_up"
WRONG_ANSWER = "wrong_answer"
COMPILE_ERROR = "compile_error"
RUNTIME_ERROR = "runtime_error"
TIMEOUT = "timeout"
INTERNAL_ERROR = "internal_error"  # the checker itself failed; never the agent's fault


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check (one unit test, one constraint, one reasoning step).

    ``input``, ``expected`` and ``got`` are what a ``tests`` feedback may show; they must never hold
    the source of a hidden test. ``detail`` holds longer evidence (a traceback) for ``full`` mode.
    """

    name: str
    passed: bool
    input: str | None = None
    expected: str | None = None
    got: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A verifier's conclusion about one action.

    Attributes:
        solved: The task is solved by this action.
        score: Partial credit in [0, 1] (1.0 when solved).
        checks: Per-check results, in order.
        error_kind: ``None`` or a short machine-readable kind (see the constants in this module).
        message: A one-line explanation for the agent when the action could not be checked
            (shown by every feedback mode except ``none``).
        evidence: Raw material for the ``full`` mode and for audits: stdout, stderr, compiler
            diagnostics, the parsed answer. Must not contain hidden tests or references.
        parsed: The program or answer extracted from the action, if any.
    """

    solved: bool
    score: float
    checks: tuple[CheckResult, ...] = ()
    error_kind: str | None = None
    message: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    parsed: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.score, int | float) or not math.isfinite(self.score):
            raise ValueError(f"score must be a finite number; got {self.score!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1]; got {self.score}")
        if self.solved and self.score != 1.0:
            raise ValueError("a solved verdict must have score 1.0")
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "checks", tuple(self.checks))

    @property
    def passed(self) -> int:
        """The number of checks that passed."""
        return sum(check.passed for check in self.checks)

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        """The checks that failed, in order."""
        return tuple(check for check in self.checks if not check.passed)

    @classmethod
    def invalid(cls, message: str, **evidence: Any) -> Verdict:
        """A zero-score verdict for an action that could not be checked at all."""
        return cls(False, 0.0, error_kind=INVALID_ACTION, message=message, evidence=evidence)

    def public(self) -> dict[str, Any]:
        """A JSON-friendly summary for ``info``: enough to audit the reward, nothing hidden."""
        return {
            "solved": self.solved,
            "score": self.score,
            "error_kind": self.error_kind,
            "message": self.message,
            "checks_passed": self.passed,
            "checks_total": len(self.checks),
            "checks": [{"name": c.name, "passed": c.passed} for c in self.checks],
            "parsed": self.parsed,
            "evidence": thaw(self.evidence),
        }


@runtime_checkable
class Verifier(Protocol):
    """Turns (task, action) into a :class:`Verdict`, and knows a reference action for a task.

    ``verify`` must never raise on bad actions (return :meth:`Verdict.invalid` instead) and must
    never run model-written code in the calling process.
    """

    def verify(self, task: Task, action: str) -> Verdict:
        """Check ``action`` against ``task``."""
        ...

    def reference_action(self, task: Task) -> str:
        """Return an action that solves ``task`` (the oracle)."""
        ...
