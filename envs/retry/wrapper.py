"""``RetryUntilSolved``: turn any single-turn verifiable text environment into a multi-turn retry one.

The wrapped environment needs only the plain Gymnasium contract plus two habits: it reports
``info["solved"]`` (and ideally ``info["score"]`` in [0, 1]) after its step, and ``reset(seed=s)``
with the same ``options`` gives the same task again. Each retry replays the task that way, so the
retry env knows nothing of the environment's internals: it works on feedback-gym families run with
``max_turns=1`` (``Countdown-v0``, ``MathCritique-v0``), on a reasoning-gym dataset behind a small
env, and on a user's own env.

``RetryUntilSolved`` is a :class:`~feedback_gym.env.FeedbackEnv` whose verifier
(:class:`ReplayVerifier`) is the wrapped env, replayed: the step loop, the guards against empty and
over-long actions, the rewards, the metrics, ``render`` and the ``info`` keys are the shared ones.
Between attempts it shows feedback in one of the generic modes (``unary``, ``binary``,
``reject_previous``, ``score``, ``none``, ...) or ``env``, which passes on the wrapped environment's
own feedback text (a maths critique, an in-place edit, test results), so every feedback variant
composes with the turn budget.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from feedback_gym.env import FeedbackEnv
from feedback_gym.errors import ConfigError
from feedback_gym.feedback import (
    GENERIC_FEEDBACK_MODES,
    FeedbackContext,
    FeedbackMode,
    RenderedFeedback,
)
from feedback_gym.rewards import RewardConfig
from feedback_gym.tasks import Task, draw_index
from feedback_gym.text import MAX_OBSERVATION_CHARS, charset, text_space
from feedback_gym.verdict import CheckResult, Verdict

#: The evidence keys of a replayed attempt: the wrapped env's feedback text and its details.
ENV_FEEDBACK = "env_feedback"
ENV_FEEDBACK_DETAILS = "env_feedback_details"
#: Keys of the wrapped env's ``info`` that describe its own one-turn episode, not the retry episode.
INNER_EPISODE_KEYS = ("episode_metrics", "episode")


class EnvFeedback:
    """``env``: pass on the wrapped environment's own feedback for the attempt (its observation).

    This is how a family's ``critique`` or ``in_place`` feedback, or a user env's own messages,
    reach the agent inside a retry episode; the wrapped env's feedback details come along.
    """

    kind = "env"

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str | RenderedFeedback:
        """Return the wrapped environment's feedback (or a plain verdict when it has none)."""
        text = verdict.evidence.get(ENV_FEEDBACK)
        if isinstance(text, str) and text.strip():
            return RenderedFeedback(text, dict(verdict.evidence.get(ENV_FEEDBACK_DETAILS) or {}))
        if verdict.solved:
            return "Correct."
        if verdict.message and not verdict.checks:  # never reached the env: the reply was unreadable
            return f"Incorrect: {verdict.message} Try again."
        return "Incorrect. Try again."


RETRY_FEEDBACK_MODES = {**GENERIC_FEEDBACK_MODES, "env": EnvFeedback}


def verdict_from_info(info: Mapping[str, Any]) -> Verdict:
    """Rebuild a :class:`Verdict` from what a single-turn env reported in ``info``.

    ``info["solved"]`` is required; ``info["score"]`` is used when it is a finite number (clipped to
    [0, 1]); a feedback-gym env's ``info["verdict"]`` also gives check names, the parsed answer and
    the error kind, which the repetition and regression rewards and metrics use.

    >>> verdict_from_info({"solved": False, "score": 0.5}).score
    0.5
    >>> v = verdict_from_info({"solved": False, "verdict": {"parsed": "3*8", "error_kind": "wrong_answer",
    ...                        "checks": [{"name": "t1", "passed": True}]}})
    >>> v.parsed, v.error_kind, v.passed
    ('3*8', 'wrong_answer', 1)
    >>> verdict_from_info({"score": 1.0})
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: RetryUntilSolved needs the wrapped env to report info['solved'] \
after a step; got keys ['score']
    """
    if "solved" not in info:
        raise ConfigError(
            "RetryUntilSolved needs the wrapped env to report info['solved'] after a step; "
            f"got keys {sorted(info)}"
        )
    solved = bool(info["solved"])
    raw = info.get("score")
    if solved:
        score = 1.0
    elif isinstance(raw, int | float | np.number) and not isinstance(raw, bool) and math.isfinite(raw):
        score = min(1.0, max(0.0, float(raw)))
    else:
        score = 0.0
    public = info.get("verdict") if isinstance(info.get("verdict"), Mapping) else {}
    checks = tuple(
        CheckResult(str(c.get("name")), bool(c.get("passed")))
        for c in public.get("checks") or ()
        if isinstance(c, Mapping)
    )
    parsed = public.get("parsed", info.get("parsed"))
    error_kind = public.get("error_kind", info.get("error_kind"))
    message = public.get("message")
    return Verdict(
        solved,
        score,
        checks=checks,
        error_kind=error_kind if isinstance(error_kind, str) else None,
        message=message if isinstance(message, str) else None,
        parsed=parsed if isinstance(parsed, str) else None,
    )


def _union_text_space(inner: spaces.Space[Any]) -> spaces.Text:
    """A Text space holding everything the inner space holds and everything the wrapper writes."""
    if not isinstance(inner, spaces.Text):
        raise ConfigError(
            "RetryUntilSolved wraps text environments: the observation space must be "
            f"gymnasium.spaces.Text; got {type(inner).__name__}"
        )
    chars = charset() + "".join(sorted(set(inner.character_set) - set(charset())))
    return text_space(max(inner.max_length + 200, MAX_OBSERVATION_CHARS), chars)


class ReplayVerifier:
    """Judges an attempt by stepping the wrapped single-turn env, replaying its task first if needed.

    :meth:`start` resets the wrapped env onto an episode's task (a seed and reset options) and
    records its prompt; each :meth:`verify` after the first resets it again with the same seed and
    options, checks that it shows the same prompt, and steps it with the attempt.
    """

    def __init__(self, env: gym.Env[str, str]) -> None:
        self.env = env
        self.seed = 0
        self.options: dict[str, Any] | None = None
        self.prompt: object = None
        self.info: dict[str, Any] = {}
        self._fresh = False

    def start(self, seed: int, options: dict[str, Any] | None) -> tuple[object, dict[str, Any]]:
        """Reset the wrapped env onto the task of ``seed`` and ``options``; return its prompt and info."""
        self.seed, self.options = seed, copy.deepcopy(options)
        self.prompt, info = self.env.reset(seed=seed, options=copy.deepcopy(options))
        self.info = dict(info)
        self._fresh = True
        return self.prompt, self.info

    def verify(self, task: Task, action: str) -> Verdict:
        """Step the wrapped env with ``action`` on the episode's task; read its verdict from ``info``."""
        if not self._fresh:
            self._replay()
        self._fresh = False
        observation, inner_reward, _, _, info = self.env.step(action)
        self.info = {**info, "inner_reward": float(inner_reward)}
        verdict = verdict_from_info(info)
        details = info.get("feedback_details")
        evidence = {
            ENV_FEEDBACK: observation if isinstance(observation, str) else "",
            ENV_FEEDBACK_DETAILS: dict(details) if isinstance(details, Mapping) else {},
        }
        return Verdict(verdict.solved, verdict.score, checks=verdict.checks, error_kind=verdict.error_kind,
                       message=verdict.message, evidence=evidence, parsed=verdict.parsed)

    def reference_action(self, task: Task) -> str:
        """The wrapped env's own ``oracle_action()`` (feedback-gym envs have one)."""
        oracle = getattr(self.env.unwrapped, "oracle_action", None)
        if not callable(oracle):
            raise ConfigError(
                f"the wrapped environment ({type(self.env.unwrapped).__name__}) has no oracle_action(); "
                "RetryUntilSolved can only replay one it has"
            )
        return str(oracle())

    def _replay(self) -> None:
        """Reset the wrapped env onto the episode's task again, and check that it is the same task."""
        observation, _ = self.env.reset(seed=self.seed, options=copy.deepcopy(self.options))
        if observation != self.prompt:
            raise ConfigError(
                "the wrapped environment showed a different prompt when reset with the same seed and "
                "options; RetryUntilSolved needs reset(seed=s, options=o) to give the same task again"
            )


class RetryUntilSolved(FeedbackEnv):
    """Give the agent up to ``max_turns`` attempts at a single-turn task, with feedback in between.

    ## Description
    Each attempt is judged by the wrapped environment: after the first, the task is replayed with
    ``reset(seed=<episode seed>, options=<the episode's options>)`` and the wrapped env is stepped
    with the new attempt. A replay that shows a different prompt is refused (the env does not
    reproduce its task). The episode seed is the ``seed`` given to ``reset`` (so a seed gives the
    same task with and without retries), or one drawn from this env's ``np_random``.

    ## Observation
    The wrapped env's prompt (plus a line announcing the attempt budget), then the feedback after
    each attempt. The observation space is a Text space over the wrapped env's charset and
    feedback-gym's. ``info`` has the keys of every feedback-gym env (``turn``, ``solved``,
    ``score``, ``reward_components``, ``feedback_kind``, ``feedback_details``, ``messages``,
    ``counters`` and, at the end, ``episode_metrics``...) over the wrapped env's own keys from its
    latest reset or step, and ``inner_reward`` (the wrapped env's reward for the latest attempt).

    ## Action
    The wrapped env's action (text). ``"<give_up>"`` ends the episode; an action that is not text,
    is empty or is longer than ``MAX_ACTION_CHARS`` gets feedback saying so without reaching the
    wrapped env.

    ## Reward
    From ``reward`` (a :class:`RewardConfig`): success (``info["solved"]``, or ``info["score"]``
    improvements with ``success="fraction"``), optionally discounted by turn, with repetition and
    regression penalties.

    ## Episode End
    Terminated when an attempt solves the task or the agent gives up; truncated after
    ``max_turns`` attempts.

    ## Arguments
    ``env`` (a single-turn env), ``max_turns`` (>= 1), ``feedback`` (a mode name from
    ``RETRY_FEEDBACK_MODES`` or a mode object), ``reward``, ``feedback_options``,
    ``announce_budget`` (append "You have up to N attempts" to the prompt), ``render_mode``
    (``None``, ``"ansi"`` or ``"human"``; by default the wrapped env's, when it is one of these).

    ## Version History
    - v0: initial release.
    """

    feedback_modes: ClassVar[Mapping[str, Any]] = RETRY_FEEDBACK_MODES
    family: ClassVar[str] = "retry"

    def __init__(
        self,
        env: gym.Env[str, str],
        max_turns: int = 4,
        *,
        feedback: str | FeedbackMode = "unary",
        reward: RewardConfig | Mapping[str, Any] | str | None = None,
        feedback_options: Mapping[str, Any] | None = None,
        announce_budget: bool = True,
        render_mode: str | None = None,
    ) -> None:
        observation_space = _union_text_space(env.observation_space)
        if render_mode is None and getattr(env, "render_mode", None) in self.metadata["render_modes"]:
            render_mode = env.render_mode
        self.env = env
        self.replay = ReplayVerifier(env)
        self.announce_budget = announce_budget
        self._seed_given: int | None = None
        super().__init__(
            _NO_SOURCE,
            self.replay,
            feedback=feedback,
            reward=reward,
            max_turns=max_turns,
            render_mode=render_mode,
            feedback_options=feedback_options,
        )
        self.observation_space = observation_space
        self.action_space = env.action_space

    # ------------------------------------------------------------------ hooks of FeedbackEnv

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode: reset the wrapped env with a recorded seed so attempts can replay it.

        ``options`` go to the wrapped env unchanged (whatever it accepts).
        """
        self._seed_given = seed
        return super().reset(seed=seed, options=options)

    def choose_task(self, options: dict[str, Any]) -> Task:
        """Reset the wrapped env onto the episode's task; the task is its prompt (and seed, options)."""
        seed = self._seed_given if self._seed_given is not None else draw_index(self.np_random, None)
        prompt, info = self.replay.start(int(seed), options or None)
        metadata = info.get("task_metadata")
        return Task(
            id=str(info.get("task_id") or f"seed/{seed}"),
            prompt=prompt if isinstance(prompt, str) and prompt.strip() else "(no prompt)",
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
        )

    def format_prompt(self, task: Task) -> str:
        """The wrapped env's prompt, plus the attempt budget unless ``announce_budget=False``."""
        return super().format_prompt(task) if self.announce_budget else task.prompt

    def extra_info(self) -> dict[str, Any]:
        """The wrapped env's own keys from its latest reset or step (not its one-turn episode's)."""
        return {k: v for k, v in self.replay.info.items() if k not in INNER_EPISODE_KEYS}

    def describe(self) -> dict[str, Any]:
        """The retry env's description, with the wrapped env's under ``"wrapped"``."""
        inner = self.env.unwrapped
        wrapped = inner.describe() if isinstance(inner, FeedbackEnv) else {
            "class": f"{type(inner).__module__}.{type(inner).__qualname__}"}
        return {**super().describe(), "wrapped": wrapped}

    def render(self) -> str | None:
        """``"ansi"``: the retry transcript; ``"human"``: print the newest message; else the wrapped env's."""
        if self.render_mode is None:
            return self.env.render()
        return super().render()

    def close(self) -> None:
        """Close the wrapped env."""
        self.env.close()
        super().close()


class _NoSource:
    """The retry env's tasks come from replaying the wrapped env, never from a task source."""

    name = "replay"
    size = None

    def task(self, index: int) -> Task:
        """Refuse: see :meth:`RetryUntilSolved.choose_task`."""
        raise ConfigError("RetryUntilSolved draws its tasks from the wrapped env's reset")

    def get(self, task_id: str) -> Task:
        """Refuse: pass the wrapped env's own reset options instead."""
        raise ConfigError("RetryUntilSolved selects tasks through the wrapped env's reset options")


_NO_SOURCE = _NoSource()
