"""``model`` feedback: a critic model writes the critique, under the same leak filter.

The critic is any policy spec that :func:`~feedback_gym.agents.policy.make_policy` understands:
``hf:PATH`` (a local transformers model), ``tiny-random`` or ``smollm2`` (bundled local models),
``openai:BASE_URL#MODEL`` (any OpenAI-compatible endpoint: vLLM, llama.cpp, a hosted API, or
feedback-gym's own loopback server), or a :class:`~feedback_gym.agents.policy.Policy` object. The
prompt gives the critic the problem, the reference worked solution (Feedback Friction's targeted
critique with reference access; switch off with ``with_reference=False``), the agent's attempt and,
optionally, the line the reference-guided critic found, and forbids stating the answer or any
corrected value. Whatever the model writes is then scrubbed by :class:`LeakFilter`, because a prompt
is a request, not a guarantee (LANPO). The critic's identity, the prompt version and the sampling
settings go into ``info["critique"]`` so a run can be reproduced.

A critic that fails (raises, or says nothing) is an error: whoever asked for a model's critique
gets it or hears why not. Substituting the reference-guided critique is opt-in (``fallback=True``)
and never silent: the observation ends with :data:`FALLBACK_NOTE`, ``info["feedback_fallback"]`` and
``info["critique"]["fallback"]`` give the reason, and the benchmark summary reports the share of
turns that fell back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedback_gym.envs.math.critic import critique, describe, diagnose, ordinal
from feedback_gym.envs.math.leaks import LeakFilter
from feedback_gym.envs.math.solution import steps_of, worked_text
from feedback_gym.errors import ConfigError, CriticFailedError
from feedback_gym.feedback import FeedbackContext, RenderedFeedback
from feedback_gym.verdict import Verdict

#: Bump whenever the templates below change: it is recorded with every critique.
PROMPT_VERSION = "math-critic-v1"

SYSTEM_PROMPT = (
    "You are a careful maths teacher giving feedback on a student's worked solution. "
    "Point to the first step that is wrong, say briefly what is wrong there and what the student "
    "should reconsider. Rules: never state the final answer; never state the correct value of any "
    "step; never write a corrected solution; do not copy numbers from the reference solution. "
    "Write at most four sentences."
)

USER_TEMPLATE = """Problem:
{problem}

{reference_block}Student's solution:
{attempt}

The student's final answer is not correct.{locator} Write your feedback to the student now."""

#: Appended to a fallback critique, so neither the agent nor a reader of the transcript mistakes it.
FALLBACK_NOTE = "(The critic model gave no usable critique; this is the reference-guided critique.)"

REFERENCE_BLOCK = """Reference solution (for you only: do not reveal it or any of its numbers):
{reference}

"""


def _default_options(spec: str) -> dict[str, Any]:
    """Deterministic sampling by default, so critiques are reproducible."""
    head = spec.partition(":")[0]
    if head == "openai":
        return {"temperature": 0.0, "max_tokens": 256}
    if head in ("hf", "tiny-random", "smollm2"):
        return {"temperature": 0.0, "max_new_tokens": 256}
    return {}


class ModelCritiqueFeedback:
    """``model``: a critic model's leak-filtered critique of the agent's attempt.

    Args:
        critic: A policy spec (``"hf:PATH"``, ``"openai:BASE_URL#MODEL"``, ``"smollm2"``,
            ``"tiny-random"``) or a Policy object.
        critic_options: Keyword arguments for ``make_policy`` (sampling, ``max_new_tokens``...);
            defaults to greedy decoding and 256 new tokens.
        with_reference: Show the critic the reference worked solution.
        with_location: Tell the critic which line the reference-guided critic found first wrong.
        max_chars: The longest critique kept (longer replies are cut).
        fallback: When the critic fails (endpoint down, empty reply), show the reference-guided
            critique, marked with :data:`FALLBACK_NOTE`, instead of raising
            :class:`~feedback_gym.errors.CriticFailedError`. Off by default: a model critique was
            asked for. The reason is recorded in ``info["feedback_fallback"]`` and
            ``info["critique"]["fallback"]``.
    """

    kind = "model"

    def __init__(
        self,
        critic: Any = "smollm2",
        *,
        critic_options: Mapping[str, Any] | None = None,
        with_reference: bool = True,
        with_location: bool = True,
        max_chars: int = 2000,
        fallback: bool = False,
    ) -> None:
        if max_chars < 1:
            raise ConfigError(f"max_chars must be >= 1; got {max_chars}")
        if isinstance(critic, str):
            from feedback_gym.agents.policy import make_policy

            options = {**_default_options(critic), **dict(critic_options or {})}
            self.policy = make_policy(critic, **options)
            self.spec = critic
        elif hasattr(critic, "act") and hasattr(critic, "identity"):
            self.policy = critic
            self.spec = getattr(critic, "name", type(critic).__name__)
        else:
            raise ConfigError(
                "critic must be a policy spec ('hf:PATH', 'openai:BASE_URL#MODEL', 'smollm2', 'tiny-random') "
                f"or a Policy object; got {critic!r}"
            )
        self.with_reference = with_reference
        self.with_location = with_location
        self.max_chars = max_chars
        self.fallback = fallback

    def identity(self) -> dict[str, Any]:
        """What reproduces this critic: the policy's identity, the prompt version, the options."""
        return {
            "spec": self.spec,
            "policy": self.policy.identity(),
            "prompt_version": PROMPT_VERSION,
            "with_reference": self.with_reference,
            "with_location": self.with_location,
        }

    def conversation(self, context: FeedbackContext, verdict: Verdict) -> list[dict[str, str]]:
        """The chat the critic model is asked to continue."""
        task = context.task
        reference_block = ""
        if self.with_reference:
            answer = task.reference if task.reference is not None else task.hidden.get("answer", "")
            reference_block = REFERENCE_BLOCK.format(reference=worked_text(steps_of(task), str(answer)))
        locator = ""
        if self.with_location:
            diagnosis = diagnose(task, context.action, verdict)
            if diagnosis.status == "step" and diagnosis.line_index is not None:
                where = ordinal(diagnosis.line_index)
                locator = f" The first step that departs from the reference is the student's {where} line."
            elif diagnosis.status == "no_work":
                locator = " The student shows no working."
        question = task.prompt.split("\n\n")[0] if task.prompt else ""
        user = USER_TEMPLATE.format(
            problem=question, reference_block=reference_block, attempt=context.action[:8000], locator=locator
        )
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> RenderedFeedback:
        """Ask the critic model; filter what it says; fall back to the reference critic on failure."""
        diagnosis = diagnose(context.task, context.action, verdict)
        details = {**describe(diagnosis, 0), "critic": "model", **self.identity(), "fallback": None}
        left = context.max_turns - context.turn
        suffix = "" if verdict.solved or left <= 0 else f"\n({left} attempt{'s' if left != 1 else ''} left)"
        if diagnosis.status in ("correct", "unreadable"):
            text = critique(context.task, context.action, verdict, diagnosis).text
            return RenderedFeedback(text + suffix, details)
        text, failure = "", None
        try:
            replies = self.policy.act([self.conversation(context, verdict)])
            text = (replies[0].text if replies else "").strip()[: self.max_chars]
        except Exception as err:  # noqa: BLE001 - any critic failure is an error or a disclosed fallback
            failure = err
            details["fallback"] = f"{type(err).__name__}: {err}"[:300]
        if not text and details["fallback"] is None:
            details["fallback"] = "the critic returned an empty reply"
        if details["fallback"] is not None:
            if not self.fallback:
                raise CriticFailedError(
                    f"the critic model {self.spec!r} gave no usable critique ({details['fallback']}); "
                    "pass feedback_options={'fallback': True} to show the reference-guided critique "
                    "instead, marked as such"
                ) from failure
            result = critique(context.task, context.action, verdict, diagnosis)
            details["redactions"] = result.redactions
            return RenderedFeedback(f"{result.text}\n{FALLBACK_NOTE}{suffix}", details)
        scrubbed = LeakFilter(context.task, context.action).scrub(text)
        details["redactions"] = scrubbed.redactions
        return RenderedFeedback(scrubbed.text + suffix, details)
