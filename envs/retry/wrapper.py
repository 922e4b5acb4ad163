"""``RetryUntilSolved``: turn any single-turn verifiable text environment into a multi-turn retry one.

The wrapped environment needs only the plain Gymnasium contract plus two habits: it reports
``info["solved"]`` (and ideally ``info["score"]`` in [0, 1]) after its step, and ``reset(seed=s)``
with the same ``options`` gives the same task again. Each retry replays the task that way, so the
wrapper knows nothing of the environment's internals: it works on feedback-gym families run with
``max_turns=1`` (``Countdown-v0``, ``MathCritique-v0``), on a reasoning-gym dataset behind a small
env, and on a user's own env.

Between attempts the wrapper shows feedback in one of the generic modes (``unary``, ``binary``,
``reject_previous``, ``score``, ``none``, ...) or ``env``, which passes on the wrapped environment's
own feedback text (a math critique, an in-place edit, test results), so every feedback variant
composes with the turn budget. Rewards come from :class:`~feedback_gym.rewards.RewardConfig` and the
per-episode metrics from :mod:`feedback_gym.metrics`, exactly as in :class:`~feedback_gym.env.FeedbackEnv`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from feedback_gym.env import GIVE_UP_ACTION
from feedback_gym.errors import ConfigError, EpisodeEndedError
from feedback_gym.feedback import (
    GENERIC_FEEDBACK_MODES,
    Attempt,
    FeedbackContext,
    FeedbackMode,
    make_feedback,
)
from feedback_gym.metrics import TurnRecord, episode_metrics, record_turn, running_counters
from feedback_gym.rewards import RewardConfig
from feedback_gym.tasks import Task
from feedback_gym.text import MAX_OBSERVATION_CHARS, charset, clean_text, coerce_action, text_space
from feedback_gym.verdict import GAVE_UP, CheckResult, Verdict

#: Keys the wrapper writes into ``info`` (over the wrapped env's own keys of the same name).
WRAPPER_INFO_KEYS = (
    "turn", "max_turns", "solved", "score", "best_score", "reward_components", "feedback_kind",
    "messages", "counters",
)


class EnvFeedback:
    """``env``: pass on the wrapped environment's own feedback for the attempt (its observation).

    The wrapper sets :attr:`latest` before each call; this is how a family's ``critique`` or
    ``in_place`` feedback, or a user env's own messages, reach the agent inside a retry episode.
    """

    kind = "env"

    def __init__(self) -> None:
        self.latest = ""

    def __call__(self, verdict: Verdict, context: FeedbackContext) -> str:
        """Return the wrapped environment's feedback text (or a plain verdict when it has none)."""
        if self.latest.strip():
            return self.latest
        return "Correct." if verdict.solved else "Incorrect. Try again."


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


class RetryUntilSolved(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """Give the agent up to ``max_turns`` attempts at a single-turn task, with feedback in between.

    ## Description
    Each attempt is judged by the wrapped environment: after the first, the wrapper replays the
    task with ``reset(seed=<episode seed>, options=<the episode's options>)`` and steps it with
    the new attempt. It checks that the replay shows the same prompt and refuses environments
    that do not reproduce their task.

    ## Observation
    The wrapped env's prompt (plus a line announcing the attempt budget), then the feedback after
    each attempt. The observation space is a Text space over the wrapped env's charset and
    feedback-gym's. ``info`` keeps the wrapped env's keys from its last step and adds
    ``turn``, ``max_turns``, ``solved``, ``score``, ``best_score``, ``reward_components``,
    ``feedback_kind``, ``messages``, ``counters`` and, at the end, ``episode_metrics``.

    ## Action
    The wrapped env's action (text). ``"<give_up>"`` ends the episode; an action that is not text
    gets feedback saying so without reaching the wrapped env.

    ## Reward
    From ``reward`` (a :class:`RewardConfig`): success (``info["solved"]``, or ``info["score"]``
    improvements with ``success="fraction"``), optionally discounted by turn, with repetition and
    regression penalties. The wrapped env's own reward is kept as ``info["inner_reward"]``.

    ## Episode End
    Terminated when an attempt solves the task or the agent gives up; truncated after
    ``max_turns`` attempts.

    ## Arguments
    ``env`` (a single-turn env), ``max_turns`` (>= 1), ``feedback`` (a mode name from
    ``RETRY_FEEDBACK_MODES`` or a mode object), ``reward``, ``feedback_options``,
    ``announce_budget`` (append "You have up to N attempts" to the prompt).

    ## Version History
    - v0: initial release.
    """

    feedback_modes: ClassVar[Mapping[str, Any]] = RETRY_FEEDBACK_MODES

    def __init__(
        self,
        env: gym.Env[str, str],
        max_turns: int = 4,
        *,
        feedback: str | FeedbackMode = "unary",
        reward: RewardConfig | Mapping[str, Any] | str | None = None,
        feedback_options: Mapping[str, Any] | None = None,
        announce_budget: bool = True,
    ) -> None:
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1:
            raise ConfigError(f"max_turns must be an int >= 1; got {max_turns!r}")
        gym.utils.RecordConstructorArgs.__init__(
            self, max_turns=max_turns, feedback=feedback, reward=reward,
            feedback_options=feedback_options, announce_budget=announce_budget,
        )
        super().__init__(env)
        self.max_turns = max_turns
        self.feedback = make_feedback(feedback, self.feedback_modes, **dict(feedback_options or {}))
        self.reward_config = RewardConfig.coerce(reward)
        self.announce_budget = announce_budget
        self.observation_space = _union_text_space(env.observation_space)
        self._rng: np.random.Generator | None = None
        self._episode_seed: int | None = None
        self._options: dict[str, Any] | None = None
        self._prompt: str | None = None
        self._task: Task | None = None
        self._turn = 0
        self._history: list[Attempt] = []
        self._records: list[TurnRecord] = []
        self._messages: list[dict[str, str]] = []
        self._ended = False
        self._last_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ the Gymnasium API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode: reset the wrapped env with a recorded seed so attempts can replay it."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            episode_seed = int(seed)
        else:
            if self._rng is None:
                self._rng = np.random.default_rng()
            episode_seed = int(self._rng.integers(2**31 - 1))
        self._episode_seed = episode_seed
        self._options = copy.deepcopy(options)
        observation, info = self.env.reset(seed=episode_seed, options=copy.deepcopy(options))
        self._prompt = observation
        self._task = Task(
            id=str(info.get("task_id") or f"seed/{episode_seed}"),
            prompt=observation if isinstance(observation, str) and observation.strip() else "(no prompt)",
        )
        self._turn = 0
        self._history = []
        self._records = []
        self._ended = False
        prompt = observation
        if self.announce_budget and self.max_turns > 1:
            prompt = (
                f"{observation}\n\nYou have up to {self.max_turns} attempts; after each one you "
                "will get feedback."
            )
        self._messages = [{"role": "user", "content": prompt}]
        self._last_info = dict(info)
        return prompt, self._info(None, {})

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Judge one attempt with the wrapped env and answer with feedback, reward and flags."""
        if self._task is None:
            raise ResetNeeded("call reset() before step()")
        if self._ended:
            raise EpisodeEndedError(
                "this episode has already ended (the task was solved, the agent gave up, or "
                f"the {self.max_turns}-turn budget ran out); call reset() to start a new one"
            )
        self._turn += 1
        text, verdict, inner_feedback = self._attempt(action)
        context = FeedbackContext(
            task=self._task,
            action=text,
            turn=self._turn,
            max_turns=self.max_turns,
            history=tuple(self._history),
            rng=self._rng if self._rng is not None else np.random.default_rng(0),
        )
        components = self.reward_config.components(verdict, self._turn, context.history, action=text)
        reward = float(sum(components.values()))
        if verdict.error_kind == GAVE_UP:
            feedback = "You gave up. The episode is over."
        else:
            if isinstance(self.feedback, EnvFeedback):
                self.feedback.latest = inner_feedback
            feedback = self.feedback(verdict, context)
        observation = self._fit(feedback) or "(no feedback)"
        self._history.append(Attempt(text, verdict))
        feedback_given = self.feedback.kind != "none" and verdict.error_kind != GAVE_UP
        self._records.append(record_turn(text, verdict, feedback_given=feedback_given))
        self._messages.append({"role": "assistant", "content": clean_text(text)})
        self._messages.append({"role": "user", "content": observation})
        terminated = verdict.solved or verdict.error_kind == GAVE_UP
        truncated = not terminated and self._turn >= self.max_turns
        self._ended = terminated or truncated
        return observation, reward, terminated, truncated, self._info(verdict, components)

    def render(self) -> Any:
        """``"ansi"``: the retry transcript; ``"human"``: print the newest message; else the env's."""
        if self.render_mode == "ansi":
            return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._messages)
        if self.render_mode == "human":
            if self._messages:
                print(f"[{self._messages[-1]['role']}]\n{self._messages[-1]['content']}\n")
            return None
        return self.env.render()

    # ------------------------------------------------------------------ internals

    def _attempt(self, action: object) -> tuple[str, Verdict, str]:
        """Judge one action with the wrapped env (replaying the task after the first attempt)."""
        text, problem = coerce_action(action)
        if text is None:
            return "", self._judged_here(Verdict.invalid(problem or "the action could not be read")), ""
        if text.strip().lower() == GIVE_UP_ACTION:
            return text, self._judged_here(Verdict(False, 0.0, error_kind=GAVE_UP, message="gave up")), ""
        if self._turn > 1:
            self._replay()
        observation, inner_reward, _, _, info = self.env.step(text)
        self._last_info = {**info, "inner_reward": float(inner_reward)}
        return text, verdict_from_info(info), observation if isinstance(observation, str) else ""

    def _judged_here(self, verdict: Verdict) -> Verdict:
        """Record a verdict the wrapper reached without the env, so no stale attempt details remain."""
        self._last_info["error_kind"] = verdict.error_kind
        if "verdict" in self._last_info:
            self._last_info["verdict"] = verdict.public()
        return verdict

    def _replay(self) -> None:
        """Reset the wrapped env onto the episode's task again, and check that it is the same task."""
        observation, _ = self.env.reset(seed=self._episode_seed, options=copy.deepcopy(self._options))
        if observation != self._prompt:
            raise ConfigError(
                "the wrapped environment showed a different prompt when reset with the same seed and "
                "options; RetryUntilSolved needs reset(seed=s, options=o) to give the same task again"
            )

    def _fit(self, text: str) -> str:
        """Keep feedback text inside the observation space."""
        if all(ch in self.observation_space.character_set for ch in text) and len(text) <= (
            self.observation_space.max_length
        ):
            return text
        return clean_text(text)

    def _info(self, verdict: Verdict | None, components: dict[str, float]) -> dict[str, Any]:
        info = {k: v for k, v in self._last_info.items() if k != "episode_metrics"}
        info.update(
            {
                "task_id": info.get("task_id", self._task.id if self._task else None),
                "turn": self._turn,
                "max_turns": self.max_turns,
                "solved": bool(verdict is not None and verdict.solved),
                "score": verdict.score if verdict is not None else 0.0,
                "best_score": max((a.verdict.score for a in self._history), default=0.0),
                "reward_components": dict(components),
                "feedback_kind": self.feedback.kind,
                "messages": [dict(m) for m in self._messages],
                "counters": running_counters(self._records),
            }
        )
        if self._ended:
            info["episode_metrics"] = episode_metrics(self._records, self.max_turns)
        return info
