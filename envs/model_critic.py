"""``model`` feedback for every family: a critic model writes the critique, under a leak filter.

The critic is any policy spec that :func:`~feedback_gym.policy.make_policy` understands:
``hf:PATH`` (a local transformers model), ``tiny-random`` or ``smollm2`` (bundled local models),
``openai:BASE_URL#MODEL`` (any OpenAI-compatible endpoint: vLLM, llama.cpp, a hosted API, or
feedback-gym's own loopback server), or a :class:`~feedback_gym.policy.Policy` object.

What differs between families is said by a :class:`CriticBrief`: how the problem and the task's
reference read for the critic (a worked solution, a reference program, a Countdown expression, a
tool plan and its answer), what evidence of the attempt it sees (the failing tests, the compiler's
diagnostics), which rules its system prompt states, what a turn shows when no critic is needed
(solved, unreadable), and the leak filter its reply passes through (the reference is given to the
critic privately: a prompt is a request, not a guarantee, LANPO). The mode itself
(:class:`ModelCritiqueFeedback`) is the same for every family; an environment binds its family's
brief when it is built (:func:`bind_feedback`), so a critic object made for one family and handed
to another gets that family's reference rendered properly, or is refused when it cannot fit.

A critic that fails (raises, or says nothing) is an error: whoever asked for a model's critique gets
it or hears why not. Substituting the family's deterministic feedback is opt-in (``fallback=True``)
and never silent: the observation ends with :data:`FALLBACK_NOTE`, the details say why, and the
benchmark summary reports the share of turns that fell back.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from feedback_gym.envs.math.leaks import _merge, _squeeze  # the maths filter's span helpers
from feedback_gym.errors import ConfigError, CriticFailedError
from feedback_gym.feedback import FeedbackContext, FeedbackMode, RenderedFeedback, render_feedback
from feedback_gym.tasks import Task
from feedback_gym.verdict import INVALID_ACTION, Verdict

#: Appended to a fallback critique, so neither the agent nor a reader of the transcript mistakes it.
FALLBACK_NOTE = (
    "(The critic model gave no usable critique; this is the environment's own feedback instead: "
    "the reference-guided critique on maths, the test results on code.)"
)
REDACTED = "[...]"

REFERENCE_BLOCK = """{title} (for you only: do not reveal it or any of its parts):
{reference}

"""

USER_TEMPLATE = """Problem:
{problem}

{reference_block}{attempt_title}:
{attempt}

{evidence}{closing} Write your feedback now."""


class Scrub(Protocol):
    """A leak filter bound to one task and attempt: text in, ``(filtered text, redactions)`` out."""

    def __call__(self, text: str) -> tuple[str, int]:
        """Return the filtered text and how many spans were redacted."""
        ...


class CriticBrief(Protocol):
    """What a family tells a critic model, and how the critic's reply is filtered.

    Attributes:
        family: The family's name (``"math"``, ``"code"``, ``"countdown"``, ``"tools"``).
        prompt_version: Recorded with every critique; bump when the brief's text changes.
        system_prompt: The critic's instructions (what to point at, what never to write).
    """

    family: str
    prompt_version: str
    system_prompt: str

    def problem(self, task: Task) -> str:
        """The problem as the critic reads it."""
        ...

    def reference(self, task: Task) -> tuple[str, str]:
        """``(title, text)`` of the task's reference for the critic (never shown to the agent)."""
        ...

    def evidence(self, verdict: Verdict, context: FeedbackContext) -> str:
        """What the critic sees of the verdict (failing tests, tool output); may be empty."""
        ...

    def settled(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]] | None:
        """The text (and details) of a turn that needs no critic (solved, unreadable), else ``None``."""
        ...

    def fallback(self, verdict: Verdict, context: FeedbackContext) -> str:
        """The family's deterministic feedback, shown (marked) when an asked-for fallback happens."""
        ...

    def leak_filter(self, task: Task, action: str) -> Scrub:
        """The filter every critic reply on ``action`` passes through."""
        ...


class EvidenceBrief:
    """A brief whose evidence is the family's own deterministic feedback (code's and Countdown's ``full``).

    The critic reads the task's prompt and what ``evidence_mode`` shows the agent, under
    ``evidence_title``; a solved or unreadable turn is settled with that text, and so is a fallback.
    Subclasses set the attributes and write ``reference`` and ``leak_filter``.
    """

    family: str
    prompt_version: str
    system_prompt: str
    evidence_title: str

    def __init__(self, evidence_mode: FeedbackMode) -> None:
        self._evidence = evidence_mode

    def problem(self, task: Task) -> str:
        """The task's prompt."""
        return task.prompt

    def evidence(self, verdict: Verdict, context: FeedbackContext) -> str:
        """The family's feedback text, under its title."""
        return f"{self.evidence_title}:\n" + self.fallback(verdict, context)

    def settled(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]] | None:
        """Solved, or nothing could be read: the family's feedback, without asking the critic."""
        if verdict.solved or verdict.error_kind == INVALID_ACTION:
            return self.fallback(verdict, context), {"status": "settled"}
        return None

    def fallback(self, verdict: Verdict, context: FeedbackContext) -> str:
        """The family's feedback, without an "(N attempts left)" line (the critique adds its own)."""
        quiet = dataclasses.replace(context, max_turns=context.turn)
        return render_feedback(self._evidence, verdict, quiet).text


def default_critic_options(spec: str) -> dict[str, Any]:
    """Deterministic sampling by default, so critiques are reproducible.

    >>> default_critic_options("openai:http://127.0.0.1:8000/v1#m")
    {'temperature': 0.0, 'max_tokens': 256}
    >>> default_critic_options("tiny-random")
    {'temperature': 0.0, 'max_new_tokens': 256}
    """
    head = spec.partition(":")[0]
    if head == "openai":
        return {"temperature": 0.0, "max_tokens": 256}
    if head in ("hf", "tiny-random", "smollm2"):
        return {"temperature": 0.0, "max_new_tokens": 256}
    return {}


def make_critic_policy(critic: Any, critic_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """A policy spec or object as ``(policy, spec)``; anything else is refused with what is accepted."""
    if isinstance(critic, str):
        from feedback_gym.policy import make_policy

        options = {**default_critic_options(critic), **dict(critic_options or {})}
        return make_policy(critic, **options), critic
    if hasattr(critic, "act") and hasattr(critic, "identity"):
        return critic, str(getattr(critic, "name", type(critic).__name__))
    raise ConfigError(
        "critic must be a policy spec ('hf:PATH', 'openai:BASE_URL#MODEL', 'smollm2', 'tiny-random') "
        f"or a Policy object; got {critic!r}"
    )


def turns_left_suffix(verdict: Verdict, context: FeedbackContext) -> str:
    r"""``"\\n(N attempts left)"`` while the episode goes on, else empty."""
    left = context.max_turns - context.turn
    if verdict.solved or left <= 0:
        return ""
    return f"\n({left} attempt{'s' if left != 1 else ''} left)"


class ModelCritiqueFeedback:
    """``model``: a critic model's leak-filtered critique of the agent's attempt, for any family.

    Args:
        critic: A policy spec (``"hf:PATH"``, ``"openai:BASE_URL#MODEL"``, ``"smollm2"``,
            ``"tiny-random"``) or a Policy object.
        brief: The family's :class:`CriticBrief`; ``None`` lets the environment bind its own.
        critic_options: Keyword arguments for ``make_policy`` (sampling, ``max_new_tokens``...);
            defaults to greedy decoding and 256 new tokens.
        with_reference: Show the critic the task's reference (privately).
        with_location: Let the brief add what its deterministic checker located (maths: the line).
        max_chars: The longest critique kept (longer replies are cut).
        fallback: When the critic fails (endpoint down, empty reply), show the family's
            deterministic feedback, marked with :data:`FALLBACK_NOTE`, instead of raising
            :class:`~feedback_gym.errors.CriticFailedError`.
    """

    kind = "model"

    def __init__(
        self,
        critic: Any = "smollm2",
        *,
        brief: CriticBrief | None = None,
        critic_options: Mapping[str, Any] | None = None,
        with_reference: bool = True,
        with_location: bool = True,
        max_chars: int = 2000,
        fallback: bool = False,
    ) -> None:
        if not isinstance(max_chars, int) or max_chars < 1:
            raise ConfigError(f"max_chars must be an int >= 1; got {max_chars!r}")
        self.policy, self.spec = make_critic_policy(critic, critic_options)
        self.brief = brief
        self._brief_given = brief is not None
        self.with_reference = with_reference
        self.with_location = with_location
        self.max_chars = max_chars
        self.fallback = fallback

    # -------------------------------------------------------------------- binding to a family

    def bind(self, brief: CriticBrief) -> None:
        """Take the environment's family brief, unless one was given explicitly for another family."""
        if self._brief_given and self.brief is not None and self.brief.family != brief.family:
            raise ConfigError(
                f"this model critic was built for the {self.brief.family} family; the environment is "
                f"{brief.family}: build it without brief= (the environment binds its own) or pass "
                f"feedback='model'"
            )
        self.brief = brief

    def _bound(self) -> CriticBrief:
        if self.brief is None:
            raise ConfigError(
                "this model critic is not bound to a family; pass it as an environment's feedback= "
                "(the environment binds its brief) or give brief="
            )
        return self.brief

    @property
    def critic(self) -> str:
        """The critic's name for ``env.describe()``: ``model:`` and the policy spec."""
        return f"model:{self.spec}"

    def identity(self) -> dict[str, Any]:
        """What reproduces this critic: the policy's identity, the prompt version, the options."""
        brief = self.brief
        return {
            "spec": self.spec,
            "policy": self.policy.identity(),
            "family": brief.family if brief is not None else None,
            "prompt_version": brief.prompt_version if brief is not None else None,
            "with_reference": self.with_reference,
            "with_location": self.with_location,
        }

    # -------------------------------------------------------------------- the critique

    def conversation(self, context: FeedbackContext, verdict: Verdict) -> list[dict[str, str]]:
        """The chat the critic model is asked to continue."""
        brief = self._bound()
        reference_block = ""
        if self.with_reference:
            title, text = brief.reference(context.task)
            if text:
                reference_block = REFERENCE_BLOCK.format(title=title, reference=text)
        evidence = brief.evidence(verdict, context) if self.with_location else ""
        user = USER_TEMPLATE.format(
            problem=brief.problem(context.task),
            reference_block=reference_block,
            attempt_title="The agent's reply",
            attempt=context.action[:8000],
            evidence=f"{evidence.strip()}\n\n" if evidence.strip() else "",
            closing="The reply does not solve the problem yet.",
        )
        return [{"role": "system", "content": brief.system_prompt}, {"role": "user", "content": user}]

    def ask(self, conversation: Sequence[Mapping[str, str]]) -> tuple[str, str | None, BaseException | None]:
        """One critic call: ``(text, failure reason, exception)``; an empty reply is a failure."""
        try:
            replies = self.policy.act([conversation])
            text = (replies[0].text if replies else "").strip()[: self.max_chars]
        except Exception as err:  # noqa: BLE001 - any critic failure is an error or a disclosed fallback
            return "", f"{type(err).__name__}: {err}"[:300], err
        if not text:
            return "", "the critic returned an empty reply", None
        return text, None, None

    def failed(self, what: str, failure: str, error: BaseException | None) -> str:
        """Raise :class:`CriticFailedError` for a failed critic call, unless a fallback was asked for.

        Returns the reason (for ``details["fallback"]``) when the family's feedback is to be shown.
        """
        if not self.fallback:
            raise CriticFailedError(
                f"the critic model {self.spec!r} gave no usable {what} ({failure}); "
                "pass feedback_options={'fallback': True} to show the environment's own feedback "
                "(the reference-guided critique on maths) instead, marked as such"
            ) from error
        return failure

    def critique(self, verdict: Verdict, context: FeedbackContext) -> tuple[str, dict[str, Any]]:
        """The filtered critique (without the turns-left line) and its details."""
        brief = self._bound()
        settled = brief.settled(verdict, context)
        details: dict[str, Any] = {"critic": "model", **self.identity(), "fallback": None, "redactions": 0}
        if settled is not None:
            text, extra = settled
            return text, {**details, **extra}
        found = getattr(brief, "details", None)
        if callable(found):
            details = {**found(verdict, context), **details}
        text, failure, error = self.ask(self.conversation(context, verdict))
        if failure is not None:
            details["fallback"] = self.failed("critique", failure, error)
            return f"{brief.fallback(verdict, context)}\n{FALLBACK_NOTE}", details
        scrubbed, redactions = brief.leak_filter(context.task, context.action)(text)
        details["redactions"] = redactions
        return scrubbed, details

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
        """Ask the critic model and filter what it says (the details go to ``info["feedback_details"]``)."""
        text, details = self.critique(verdict, context)
        return RenderedFeedback(text + turns_left_suffix(verdict, context), details)


# ------------------------------------------------------------------------ leak filters for text


class SecretTextFilter:
    r"""Redacts secret strings (compared without whitespace) and, optionally, whole code blocks.

    A critique must point at the problem, not hand over the fix: a reference program's lines, a
    Countdown solution, or any fenced code block (a corrected program) are replaced by ``[...]``.

    >>> f = SecretTextFilter(["(3 + 5) * 2"], min_chars=4)
    >>> f("Try (3+5)*2 instead.")
    ('Try [...] instead.', 1)
    >>> SecretTextFilter([], code_blocks=True)("Use ```python\nreturn a + b\n``` here.")
    ('Use [...] here.', 1)
    """

    def __init__(self, secrets: Sequence[str], *, min_chars: int = 12, code_blocks: bool = False) -> None:
        squeezed = {"".join(s.split()) for s in secrets}
        self.secrets = sorted((s for s in squeezed if len(s) >= min_chars), key=len, reverse=True)
        self.code_blocks = code_blocks

    def __call__(self, text: str) -> tuple[str, int]:
        """Return ``text`` with every secret span replaced, and the number of spans."""
        spans: list[tuple[int, int]] = []
        if self.code_blocks:
            spans += [m.span() for m in re.finditer(r"```.*?(?:```|$)", text, re.DOTALL)]
        if self.secrets:
            squeezed, index = _squeeze(text)
            for secret in self.secrets:
                for match in re.finditer(re.escape(secret), squeezed):
                    spans.append((index[match.start()], index[match.end() - 1] + 1))
        merged = _merge(spans)
        out, last = [], 0
        for start, end in merged:
            out += [text[last:start], REDACTED]
            last = end
        out.append(text[last:])
        return "".join(out), len(merged)


def chain(*filters: Scrub) -> Scrub:
    """Apply leak filters one after another, adding their redaction counts."""

    def scrub(text: str) -> tuple[str, int]:
        total = 0
        for each in filters:
            text, count = each(text)
            total += count
        return text, total

    return scrub


def answer_filter(task: Task, action: str, answer: str) -> Scrub:
    """The maths leak filter aimed at one answer: the value, its forms, and its text."""
    from dataclasses import replace

    from feedback_gym.envs.math.leaks import LeakFilter

    shadow = replace(task, reference=answer, hidden={})
    leak = LeakFilter(shadow, action)

    def scrub(text: str) -> tuple[str, int]:
        result = leak.scrub(text)
        return result.text, result.redactions

    return scrub


# ------------------------------------------------------------------------ binding to an env


def bind_feedback(
    mode: FeedbackMode, family: str, brief: CriticBrief | None, accepted: Sequence[str]
) -> None:
    """Fit a feedback object to the environment's family, or refuse it with what fits.

    A mode made for particular families says so with a ``families`` attribute (the maths
    reference-guided critic: ``("math",)``); one that takes the family's critic brief has ``bind``.
    """
    families = getattr(mode, "families", None)
    if families is not None and family not in families:
        raise ConfigError(
            f"the {getattr(mode, 'kind', type(mode).__name__)!r} feedback ({type(mode).__name__}) works for "
            f"the {', '.join(families)} family, not {family}; accepted here: {', '.join(accepted)} "
            "(or an object with kind and __call__(verdict, context))"
        )
    binder = getattr(mode, "bind", None)
    if callable(binder):
        if brief is None:
            raise ConfigError(f"the {family} family has no critic brief; accepted: {', '.join(accepted)}")
        binder(brief)


def model_feedback(brief: CriticBrief) -> Any:
    """The ``model`` entry of a family's ``feedback_modes``: a model critic reading ``brief``."""

    def make(critic: Any = "smollm2", **kwargs: Any) -> ModelCritiqueFeedback:
        return ModelCritiqueFeedback(critic, brief=brief, **kwargs)

    return make
