"""Feedback modes: the ways one :class:`~feedback_gym.verdict.Verdict` can be shown to the agent.

A mode is any callable ``(verdict, context) -> str | RenderedFeedback`` with a ``kind`` attribute.
A mode that has more to say than the text (what a critic found, why a substitute critique was used)
returns a :class:`RenderedFeedback`; the step loop puts its ``details`` in ``info["feedback_details"]``.
The generic modes here work for every family; families add their own (``critique``, ``in_place``,
``model``) by extending their environment's ``feedback_modes`` mapping. The environment picks one
with its ``feedback=`` argument; the verdict and the reward do not depend on the choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from feedback_gym.errors import ConfigError
from feedback_gym.tasks import Task
from feedback_gym.verdict import CheckResult, Verdict


@dataclass(frozen=True)
class Attempt:
    """One earlier turn of the episode: what the agent sent and what the verifier concluded."""

    action: str
    verdict: Verdict


@dataclass(frozen=True)
class FeedbackContext:
    """Everything a feedback mode may look at besides the verdict.

    ``history`` holds the earlier attempts (not the current one); ``rng`` is the environment's
    ``np_random``, so sampled phrasings are reproducible under a seed.
    """

    task: Task
    action: str
    turn: int
    max_turns: int
    history: Sequence[Attempt] = ()
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))


@dataclass(frozen=True)
class RenderedFeedback:
    """A feedback mode's output when it has details to report besides the text.

    ``text`` is what the agent sees; ``details`` (JSON-friendly, never hidden material) go to
    ``info["feedback_details"]``, so a mode keeps no per-call state for the env to read back.
    """

    text: str
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class FeedbackMode(Protocol):
    """Renders a verdict as the text the agent sees next (optionally with details for ``info``).

    Optional, read by :func:`critic_name` and :func:`mode_identity` (for an env's ``describe()``):
    a ``critic`` attribute naming the critic behind the text (``"reference"``, a model spec), and an
    ``identity()`` method returning what reproduces the mode (a critic model's settings).
    """

    kind: str

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str | RenderedFeedback:
        """Return the feedback text, or a :class:`RenderedFeedback`."""
        ...


def render_feedback(mode: FeedbackMode, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
    """Call ``mode`` and normalise its output: a plain string becomes text without details.

    >>> render_feedback(BinaryFeedback(), Verdict(True, 1.0), FeedbackContext(Task("t", "p"), "a", 1, 1))
    RenderedFeedback(text='Correct.', details={})
    """
    output = mode(verdict, context)
    if isinstance(output, RenderedFeedback):
        return output
    if isinstance(output, str):
        return RenderedFeedback(output)
    raise TypeError(
        f"feedback mode {getattr(mode, 'kind', type(mode).__name__)!r} returned "
        f"{type(output).__name__}; a mode must return str or RenderedFeedback"
    )


def _turns_left(context: FeedbackContext) -> str:
    left = context.max_turns - context.turn
    if left <= 0:
        return ""
    return f" ({left} attempt{'s' if left != 1 else ''} left)"


def _unreadable(verdict: Verdict) -> str | None:
    """The explanation shown in every mode (except ``none``) when the action could not be checked."""
    if verdict.message and not verdict.checks:
        return verdict.message
    return None


class NoFeedback:
    """``none``: the agent learns nothing, only that its answer was received."""

    kind = "none"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Return a neutral acknowledgement."""
        return "Your answer was recorded." + _turns_left(context)


class BinaryFeedback:
    """``binary``: correct or incorrect."""

    kind = "binary"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Say whether the action solved the task."""
        if verdict.solved:
            return "Correct."
        problem = _unreadable(verdict)
        text = "Incorrect." if problem is None else f"Incorrect: {problem}"
        return text + _turns_left(context)


DEFAULT_UNARY_PHRASINGS: tuple[str, ...] = (
    "Try again.",
    "That is not right. Try again.",
    "Your answer is incorrect. Please try again.",
    "Not quite. Give it another try.",
)


class UnaryFeedback:
    """``unary``: a bare request to try again, phrased from a configurable set with the env's rng.

    As in "A Simple 'Try Again'" (UFO), the agent is told nothing but that it has not solved the
    task yet; a solved task ends the episode with "Correct.".
    """

    kind = "unary"

    def __init__(self, phrasings: Sequence[str] = DEFAULT_UNARY_PHRASINGS) -> None:
        if not phrasings or not all(isinstance(p, str) and p.strip() for p in phrasings):
            raise ConfigError("unary feedback needs at least one non-empty phrasing")
        self.phrasings = tuple(phrasings)

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Return a sampled "try again" phrasing (or "Correct.")."""
        if verdict.solved:
            return "Correct."
        problem = _unreadable(verdict)
        if problem is not None:
            return f"{problem} Try again."
        return self.phrasings[int(context.rng.integers(len(self.phrasings)))]


class ScoreFeedback:
    """``score``: how many checks passed (k of n), nothing about which."""

    kind = "score"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Report k of n checks passed."""
        if verdict.solved:
            return f"Correct: all {len(verdict.checks) or 1} checks passed."
        problem = _unreadable(verdict)
        if problem is not None:
            return f"Incorrect: {problem}" + _turns_left(context)
        return (
            f"Incorrect: {verdict.passed} of {len(verdict.checks)} checks passed."
            + _turns_left(context)
        )


def describe_check(check: CheckResult, with_detail: bool) -> str:
    """Render one failed check as a few indented lines."""
    lines = [f"- {check.name}: failed"]
    if check.input is not None:
        lines.append(f"  input:    {check.input}")
    if check.expected is not None:
        lines.append(f"  expected: {check.expected}")
    if check.got is not None:
        lines.append(f"  got:      {check.got}")
    if with_detail and check.detail:
        lines.append("  " + check.detail.strip().replace("\n", "\n  "))
    return "\n".join(lines)


class TestsFeedback:
    """``tests``: the first failing checks, each with input, expected and actual values."""

    kind = "tests"
    with_detail = False

    def __init__(self, max_failures: int = 3) -> None:
        if max_failures < 1:
            raise ConfigError(f"max_failures must be >= 1; got {max_failures}")
        self.max_failures = max_failures

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """List the first failing checks."""
        if verdict.solved:
            return f"Correct: all {len(verdict.checks) or 1} checks passed."
        parts = []
        problem = verdict.message
        if problem:
            parts.append(f"Incorrect: {problem}")
        failed = verdict.failed_checks
        if verdict.checks:
            parts.append(f"{verdict.passed} of {len(verdict.checks)} checks passed.")
        if failed:
            shown = failed[: self.max_failures]
            parts.append("\n".join(describe_check(c, self.with_detail) for c in shown))
            if len(failed) > len(shown):
                parts.append(f"({len(failed) - len(shown)} more failing checks not shown)")
        parts.extend(self.extra(verdict))
        if not parts:
            parts.append("Incorrect.")
        left = _turns_left(context).strip()
        if left:
            parts.append(left)
        return "\n".join(parts)

    def extra(self, verdict: Verdict) -> list[str]:
        """Further evidence to show (nothing in ``tests`` mode)."""
        return []


class FullFeedback(TestsFeedback):
    """``full``: the ``tests`` view plus tracebacks, stderr and compiler diagnostics."""

    kind = "full"
    with_detail = True

    def extra(self, verdict: Verdict) -> list[str]:
        """Show the textual evidence the verifier collected (stderr, diagnostics, traceback)."""
        shown = []
        for key in ("diagnostics", "traceback", "stderr", "stdout", "explanation"):
            value = verdict.evidence.get(key)
            if isinstance(value, str) and value.strip():
                shown.append(f"[{key}]\n{value.strip()}")
        return shown


_SPACE_AROUND_SYMBOL = re.compile(r"\s*([^\w\s])\s*")


def answer_key(action: str, verdict: Verdict | None = None) -> str | None:
    r"""The normalised answer of one attempt, used to spot an answer the agent already gave.

    The verifier's parsed answer (the expression, the program, the boxed value) is preferred over
    the raw reply, so rewording the reasoning around the same answer still counts as a repeat.
    A one-line answer loses the spaces around symbols (``1 + 2`` is ``1+2``); a multi-line answer
    (a program) keeps its indentation and loses only trailing spaces and blank lines. An empty
    answer has no key (``None`` never repeats).

    >>> answer_key("I think <answer>3 * 8</answer>", Verdict(False, 0.0, parsed="(3 *  8) "))
    '(3*8)'
    >>> answer_key("  42 ") , answer_key("   ")
    ('42', None)
    >>> answer_key("def f(x):\n    return x  \n\n")
    'def f(x):\n    return x'
    """
    raw = str(verdict.parsed if verdict is not None and verdict.parsed else action)
    lines = [line.rstrip() for line in raw.strip().splitlines() if line.strip()]
    if len(lines) == 1:
        return _SPACE_AROUND_SYMBOL.sub(r"\1", " ".join(lines[0].split()))
    return "\n".join(lines) or None


def _show_answer(answer: str, max_chars: int) -> str:
    r"""One rejected answer as an inline snippet; a program is folded onto one line and abridged.

    >>> _show_answer("1 + 2", 40), _show_answer("def f(x):\n    return x", 40)
    ('`1 + 2`', '`def f(x): return x` (2 lines)')
    >>> _show_answer("x = 1\n" * 30, 20)
    '`x = 1 x = 1 x = ...` (30 lines)'
    """
    lines = answer.strip().splitlines()
    folded = " ".join(answer.replace("`", "'").split())
    if len(folded) > max_chars:
        folded = folded[: max_chars - 4].rstrip() + " ..."
    suffix = f" ({len(lines)} lines)" if len(lines) > 1 else ""
    return f"`{folded}`{suffix}"


def rejected_answers(
    history: Sequence[Attempt], current: str | None = None, current_verdict: Verdict | None = None
) -> list[str]:
    """The distinct wrong answers of an episode so far, in the order they were first given.

    Answers with the same :func:`answer_key` count once and are shown as first written.

    >>> earlier = [Attempt("1 + 2", Verdict(False, 0.0, parsed="1 + 2")),
    ...            Attempt("<answer>1+2</answer>", Verdict(False, 0.0, parsed="1 + 2"))]
    >>> rejected_answers(earlier, "4 * 6", Verdict(False, 0.0, parsed="4 * 6"))
    ['1 + 2', '4 * 6']
    """
    attempts = list(history)
    if current is not None:
        attempts.append(Attempt(current, current_verdict or Verdict(False, 0.0)))
    seen: dict[str, str] = {}
    for attempt in attempts:
        key = answer_key(attempt.action, attempt.verdict)
        if key is not None and not attempt.verdict.solved:
            shown = attempt.verdict.parsed or attempt.action
            seen.setdefault(key, " ".join(shown.split()) if key.count("\n") == 0 else shown.strip())
    return list(seen.values())


class RejectPreviousFeedback:
    """``reject_previous``: the base feedback plus the list of answers already tried and rejected.

    Feedback Friction found that models keep returning to answers they were told are wrong; naming
    every rejected answer explicitly is the mitigation it tested. The answers are the verifier's
    parsed answers (``Verdict.parsed``) of this episode, current one included; the base mode
    (``binary`` by default, or any generic mode name or mode object) supplies the first line.

    Args:
        base: The mode whose text comes first.
        max_listed: At most this many answers are listed (the most recent ones).
        max_answer_chars: Longer answers (programs) are abridged to this many characters.
    """

    kind = "reject_previous"

    def __init__(
        self, base: str | FeedbackMode = "binary", max_listed: int = 8, max_answer_chars: int = 120
    ) -> None:
        if base == "reject_previous":
            raise ConfigError("reject_previous cannot use itself as its base mode")
        if not isinstance(max_listed, int) or max_listed < 1:
            raise ConfigError(f"max_listed must be an int >= 1; got {max_listed!r}")
        if not isinstance(max_answer_chars, int) or max_answer_chars < 16:
            raise ConfigError(f"max_answer_chars must be an int >= 16; got {max_answer_chars!r}")
        self.base = make_feedback(base, {k: v for k, v in GENERIC_FEEDBACK_MODES.items()
                                         if k != "reject_previous"})
        self.max_listed = max_listed
        self.max_answer_chars = max_answer_chars

    @property
    def critic(self) -> str | None:
        """The base mode's critic, if it has one."""
        return critic_name(self.base)

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str | RenderedFeedback:
        """Return the base text, then every rejected answer of the episode so far.

        The base mode's details (if it reports any) are passed on unchanged.
        """
        base = render_feedback(self.base, verdict, context)
        rejected = [] if verdict.solved else rejected_answers(context.history, context.action, verdict)
        if not rejected:
            return base if base.details else base.text
        shown = rejected[-self.max_listed:]
        lines = [base.text, "These answers were already tried and are wrong:"]
        if len(rejected) > len(shown):
            hidden = len(rejected) - len(shown)
            lines.append(f"- ({hidden} earlier answer{'s' if hidden != 1 else ''} not shown)")
        lines.extend(f"- {_show_answer(key, self.max_answer_chars)}" for key in shown)
        lines.append("Do not give any of them again; give a different answer.")
        text = "\n".join(lines)
        return RenderedFeedback(text, base.details) if base.details else text


def critic_name(mode: FeedbackMode) -> str | None:
    """The critic behind ``mode``'s feedback (its optional ``critic`` attribute), or ``None``.

    >>> critic_name(BinaryFeedback()), critic_name(RejectPreviousFeedback())
    (None, None)
    """
    name = getattr(mode, "critic", None)
    return name if isinstance(name, str) else None


def mode_identity(mode: FeedbackMode) -> dict[str, Any] | None:
    """What reproduces ``mode`` (its optional ``identity()``, e.g. a critic model's settings), or ``None``."""
    identity = getattr(mode, "identity", None)
    return dict(identity()) if callable(identity) else None


#: The generic modes, by name. Values are factories so every env gets its own instance.
GENERIC_FEEDBACK_MODES: Mapping[str, Callable[..., FeedbackMode]] = {
    "none": NoFeedback,
    "binary": BinaryFeedback,
    "unary": UnaryFeedback,
    "score": ScoreFeedback,
    "tests": TestsFeedback,
    "full": FullFeedback,
    "reject_previous": RejectPreviousFeedback,
}


def make_feedback(
    spec: str | FeedbackMode, modes: Mapping[str, Callable[..., FeedbackMode]], **kwargs: Any
) -> FeedbackMode:
    """Resolve a ``feedback=`` argument (a mode name or a mode object) against ``modes``.

    >>> make_feedback("binary", GENERIC_FEEDBACK_MODES).kind
    'binary'
    >>> make_feedback("loud", GENERIC_FEEDBACK_MODES)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown feedback mode 'loud'; accepted: none, binary, ...
    """
    if isinstance(spec, str):
        try:
            factory = modes[spec]
        except KeyError:
            accepted = ", ".join(modes)
            raise ConfigError(f"unknown feedback mode {spec!r}; accepted: {accepted}") from None
        return factory(**kwargs)
    if isinstance(spec, FeedbackMode):
        return spec
    raise ConfigError(
        f"feedback must be a mode name ({', '.join(modes)}) or an object with a 'kind' "
        f"and __call__(verdict, context); got {type(spec).__name__}"
    )
