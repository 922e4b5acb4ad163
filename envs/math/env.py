"""``MathCritique``: maths problems answered in worked steps, judged symbolically, critiqued verbally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from feedback_gym.env import FeedbackEnv, user_task_id
from feedback_gym.envs.math.critic import CritiqueFeedback
from feedback_gym.envs.math.equivalence import DEFAULT_REL_TOL, DEFAULT_TIMEOUT
from feedback_gym.envs.math.generators import generated_source
from feedback_gym.envs.math.in_place import InPlaceFeedback
from feedback_gym.envs.math.loaders import bundled_source, dataset_source, dict_task
from feedback_gym.envs.math.verifier import MathVerifier
from feedback_gym.errors import ConfigError
from feedback_gym.feedback import GENERIC_FEEDBACK_MODES, FeedbackMode
from feedback_gym.tasks import Task, TaskSource

SOURCES = ("generated", "bundled", "gsm8k", "math", "reasoning_gym:<dataset>")


def _model_critic(**kwargs: Any) -> FeedbackMode:
    from feedback_gym.envs.math.model_critic import ModelCritiqueFeedback

    return ModelCritiqueFeedback(**kwargs)


def _in_place(critic: Any = None, **kwargs: Any) -> FeedbackMode:
    """``in_place``: the first wrong line marked (no critic), or edited by a critic model (``critic=``)."""
    if critic is None:
        return InPlaceFeedback(**kwargs)
    from feedback_gym.envs.in_place_edit import InPlaceEditFeedback
    from feedback_gym.envs.math.model_critic import MATH_BRIEF

    return InPlaceEditFeedback(critic, brief=MATH_BRIEF, **kwargs)


#: The maths family's feedback modes: the generic ones plus the critics.
MATH_FEEDBACK_MODES = {
    **GENERIC_FEEDBACK_MODES,
    "critique": CritiqueFeedback,
    "in_place": _in_place,
    "model": _model_critic,
}


def make_source(
    source: str | TaskSource,
    *,
    families: Sequence[str] | None = None,
    difficulty: int | None = None,
    seed: int = 0,
    path: str | None = None,
    split: str = "test",
    limit: int | None = None,
    dataset_config: Mapping[str, Any] | None = None,
) -> TaskSource:
    """Resolve the ``source=`` argument of :class:`MathCritiqueEnv` to a task source."""
    if not isinstance(source, str):
        if isinstance(source, TaskSource):
            return source
        raise ConfigError(f"source must be one of {', '.join(SOURCES)} or a TaskSource; got {source!r}")
    if source == "generated":
        return generated_source(families, difficulty, seed)
    if source == "bundled":
        return bundled_source()
    if source in ("gsm8k", "math"):
        return dataset_source(source, path, split=split, limit=limit)
    if source.startswith("reasoning_gym:") and source.partition(":")[2]:
        from feedback_gym.envs.math.reasoning import ReasoningGymSource

        return ReasoningGymSource(
            source.partition(":")[2], seed=seed, size=limit or 500, config=dict(dataset_config or {})
        )
    raise ConfigError(f"unknown maths source {source!r}; accepted: {', '.join(SOURCES)} or a TaskSource")


class MathCritiqueEnv(FeedbackEnv):
    r"""Maths problems with worked solutions; the agent answers in steps and gets verbal critique.

    ## Description
    Problems come from a seeded generator (arithmetic word problems, fractions and percentages,
    linear equations and systems, quadratics, sequences, rates and work; difficulty 1-3), a bundled
    hand-written set, GSM8K or MATH files (or the hub when online), or any reasoning-gym dataset.
    Answers are compared symbolically (numbers exactly, expressions with sympy in a time-bounded
    worker, math-verify where installed). The default feedback is the reference-guided critic:
    it finds the first step of the agent's work that departs from the worked solution and says what
    is wrong there, without revealing the answer (a leak filter checks every critique).

    ## Observation
    The problem, then the feedback: ``critique`` (default), ``in_place`` (the previous solution
    with its first wrong line marked; with ``feedback_options={"critic": SPEC}`` a critic model
    corrects that line in place and the agent continues from the edited text, whose
    ``info["assistant_prefix"]`` a policy continues), ``model`` (a critic model over any policy spec), or the
    generic ``none``, ``binary``, ``unary``, ``score``, ``tests``, ``full``.
    ``info["critique"]`` (the same as ``info["feedback_details"]``) says what the critic found
    (status, step and line index, redactions);
    with ``model`` feedback, ``info["feedback_fallback"]`` says why the turn's critique is the
    reference-guided one instead of the model's (``None`` when it is the model's).

    ## Action
    A worked solution, one step per line, ending with ``Answer: ...`` or ``\boxed{...}``.

    ## Reward
    1.0 for a correct final answer (``reward={"success": ...}``), minus an optional per-turn
    penalty (``turn_penalty``) and an optional format penalty when no answer can be found
    (``error_penalties={"invalid_action": x}``); parts in ``info["reward_components"]``.

    ## Episode End
    Terminated when solved or on ``<give_up>``; truncated after ``max_turns`` attempts.

    ## Arguments
    ``source`` (``"generated"``, ``"bundled"``, ``"gsm8k"``, ``"math"``, ``"reasoning_gym:<name>"``
    or a TaskSource), ``families``, ``difficulty``, ``seed``, ``path``, ``split``, ``limit``,
    ``dataset_config``, ``rel_tol``, ``timeout``, ``use_math_verify``, plus ``feedback``,
    ``feedback_options`` (e.g. ``{"critic": "hf:PATH"}`` for ``model``), ``reward``, ``max_turns``,
    ``render_mode``.

    >>> env = MathCritiqueEnv(max_turns=2)
    >>> obs, info = env.reset(seed=0)
    >>> env.step(env.oracle_action())[1:3]
    (1.0, True)

    ## Version History
    - v0: initial release.
    """

    feedback_modes: ClassVar = MATH_FEEDBACK_MODES
    family: ClassVar[str] = "math"

    def __init__(
        self,
        source: str | TaskSource = "generated",
        *,
        families: Sequence[str] | None = None,
        difficulty: int | None = None,
        seed: int = 0,
        path: str | None = None,
        split: str = "test",
        limit: int | None = None,
        dataset_config: Mapping[str, Any] | None = None,
        rel_tol: float = DEFAULT_REL_TOL,
        timeout: float = DEFAULT_TIMEOUT,
        use_math_verify: bool = True,
        **kwargs: Any,
    ) -> None:
        task_source = make_source(
            source,
            families=families,
            difficulty=difficulty,
            seed=seed,
            path=path,
            split=split,
            limit=limit,
            dataset_config=dataset_config,
        )
        kwargs.setdefault("feedback", "critique")
        super().__init__(task_source, MathVerifier(rel_tol, timeout, use_math_verify), **kwargs)
        from feedback_gym.envs.math.model_critic import MATH_BRIEF
        from feedback_gym.envs.model_critic import bind_feedback

        bind_feedback(self.feedback, "math", MATH_BRIEF, list(self.feedback_modes))

    def task_from_dict(self, data: Mapping[str, Any]) -> Task:
        """Accept ``{"question", "answer", "steps"?}``, a GSM8K record, or a MATH record."""
        return dict_task(data, str(data.get("id") or user_task_id(data)))

    def extra_info(self) -> dict[str, Any]:
        """``info["critique"]``: the maths name of ``info["feedback_details"]`` (what the critic found).

        With a model critic, ``info["feedback_fallback"]`` also says whether this turn's critique is
        a substitute (the benchmark summary counts these).
        """
        details = self.feedback_details
        if not details:
            return {}
        info: dict[str, Any] = {"critique": details}
        if "fallback" in details:
            info["feedback_fallback"] = details["fallback"]
        return info
