"""The one multi-turn step loop every feedback-gym environment shares.

:class:`FeedbackEnv` orchestrates a step and nothing more: read the action, ask the verifier for a
verdict, render feedback in the chosen mode, compute the reward, count turns, decide whether the
episode is over. Families (code, maths, tools, countdown, retry) subclass it to supply a task
source, a verifier, extra feedback modes, and override a few small hooks (:meth:`prepare`,
:meth:`choose_task`, :meth:`begin_episode`, :meth:`format_prompt`, :meth:`task_from_dict`,
:meth:`episode_status`, :meth:`extra_info`); none of them overrides ``step`` or copies the loop.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from feedback_gym.errors import ConfigError, EpisodeEndedError, InvalidTaskError
from feedback_gym.feedback import (
    GENERIC_FEEDBACK_MODES,
    Attempt,
    FeedbackContext,
    FeedbackMode,
    RenderedFeedback,
    critic_name,
    make_feedback,
    mode_identity,
    render_feedback,
)
from feedback_gym.metrics import TurnRecord, episode_metrics, record_turn, running_counters
from feedback_gym.rewards import RewardConfig, RewardScheme
from feedback_gym.tasks import Task, TaskSource, draw_index
from feedback_gym.text import (
    MAX_ACTION_CHARS,
    MAX_OBSERVATION_CHARS,
    clean_text,
    coerce_action,
    text_space,
)
from feedback_gym.verdict import GAVE_UP, Verdict, Verifier

if TYPE_CHECKING:
    from feedback_gym.sandboxes.config import SandboxHandle

#: An action that is exactly this (ignoring surrounding whitespace and case) ends the episode.
GIVE_UP_ACTION = "<give_up>"

RESET_OPTIONS = ("task_id", "task", "task_index")


class FeedbackEnv(gym.Env[str, str]):
    """A multi-turn text environment: the agent acts, a verifier judges, feedback comes back.

    ## Description
    The base class of every feedback-gym environment. Subclasses pass a task source and a verifier
    to ``__init__``, may extend ``feedback_modes``, and override the hooks they need (see the
    module docstring); ``step`` itself is never overridden.

    ## Observation
    Text: the task prompt after ``reset``, the feedback after each ``step``. ``info["messages"]``
    holds the whole conversation as ``{"role", "content"}`` dicts; ``info["counters"]`` the
    episode's running counts (repetitions, friction events, regressions) and, once the episode
    ends, ``info["episode_metrics"]`` its metrics (see :mod:`feedback_gym.metrics`).

    ## Action
    Text. An action that cannot be read (not text, empty, longer than ``MAX_ACTION_CHARS``) gets
    feedback that says so and a zero success reward. ``"<give_up>"`` ends the episode.

    ## Reward
    The sum of the components in ``info["reward_components"]`` (see :class:`RewardConfig`).

    ## Episode End
    Decided by :meth:`episode_status` after every step; by default:

    - ``terminated``: the task is solved, or the agent gave up.
    - ``truncated``: ``max_turns`` actions were taken without solving the task.

    ## Arguments
    - ``source``: the :class:`TaskSource` to draw tasks from.
    - ``verifier``: the :class:`Verifier` that judges actions.
    - ``feedback``: a mode name from ``feedback_modes`` or a :class:`FeedbackMode` object.
    - ``reward``: a :class:`RewardConfig`, a dict of its fields, ``"binary"``/``"fraction"``, or
      any :class:`~feedback_gym.rewards.RewardScheme` (a family's own reward with extra terms).
    - ``max_turns``: the number of attempts before truncation (>= 1).
    - ``render_mode``: ``None``, ``"ansi"`` or ``"human"``.

    ## Version History
    - v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    feedback_modes: ClassVar[Mapping[str, Callable[..., FeedbackMode]]] = GENERIC_FEEDBACK_MODES
    #: The family's name in :meth:`describe` (``code``, ``math``, ``tools``...).
    family: ClassVar[str] = "generic"
    #: Whether the family runs model-written code, and so takes a ``sandbox=`` argument (read from the
    #: class, before any env is built, by the benchmark runner to pass ``--sandbox`` on).
    uses_sandbox: ClassVar[bool] = False
    #: This env's sandbox, when it runs code: started by :meth:`prepare`, closed by :meth:`close`.
    sandbox: SandboxHandle | None = None

    def __init__(
        self,
        source: TaskSource,
        verifier: Verifier,
        *,
        feedback: str | FeedbackMode = "binary",
        reward: RewardScheme | Mapping[str, Any] | str | None = None,
        max_turns: int = 1,
        render_mode: str | None = None,
        feedback_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1:
            raise ConfigError(f"max_turns must be an int >= 1; got {max_turns!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"render_mode must be None or one of {self.metadata['render_modes']}; "
                f"got {render_mode!r}"
            )
        self.source = source
        self.verifier = verifier
        self.feedback = make_feedback(feedback, self.feedback_modes, **dict(feedback_options or {}))
        self.reward_config: RewardScheme = (
            reward if isinstance(reward, RewardScheme) else RewardConfig.coerce(reward)
        )
        self.max_turns = max_turns
        self.render_mode = render_mode
        self.observation_space = text_space(MAX_OBSERVATION_CHARS)
        self.action_space = text_space(MAX_ACTION_CHARS)
        self._task: Task | None = None
        self._history: list[Attempt] = []
        self._records: list[TurnRecord] = []
        self._messages: list[dict[str, str]] = []
        self._turn = 0
        self._ended = False
        self._feedback_details: dict[str, Any] = {}

    # ------------------------------------------------------------------ hooks for subclasses

    def task_from_dict(self, data: Mapping[str, Any]) -> Task:
        """Build a :class:`Task` from a user's dict (``reset(options={"task": ...})``).

        The generic schema is ``{"prompt", "reference", "hidden"?, "metadata"?, "id"?}``.
        Families override this to accept their own schemas (HumanEval, MBPP, question/answer).
        """
        if "prompt" not in data:
            raise InvalidTaskError(
                f"a task needs at least 'prompt' and 'reference'; got keys {sorted(data)}"
            )
        return Task(
            id=str(data.get("id") or user_task_id(data)),
            prompt=data["prompt"],
            reference=data.get("reference"),
            hidden=data.get("hidden", {}),
            metadata={"source": "user", **dict(data.get("metadata", {}))},
        )

    def prepare(self) -> None:
        """Start what the env needs before an episode; called first thing in every ``reset``.

        By default this starts :attr:`sandbox` (when the env has one), so a missing part (an extra,
        an engine, a sandbox that cannot start) raises at ``reset`` with what to install or start,
        never at the first step as a zero reward. Cheap when already started.
        """
        if self.sandbox is not None:
            self.sandbox.start()

    def choose_task(self, options: dict[str, Any]) -> Task:
        """The episode's task: the one named or given in ``options``, else a draw with ``np_random``.

        See :func:`select_task` for the accepted options. A family whose tasks do not come from a
        :class:`TaskSource` (the retry env replays another env) overrides this.
        """
        return select_task(options, self.source, self.task_from_dict, self.np_random)

    def begin_episode(self, task: Task) -> None:
        """Rewind the family's own per-episode state for ``task`` (tool state, caches).

        Called by ``reset`` after the task is chosen and before the first observation is built.
        """

    def format_prompt(self, task: Task) -> str:
        """The first observation for ``task`` (the prompt, plus the attempt budget when > 1)."""
        if self.max_turns > 1:
            return (
                f"{task.prompt}\n\nYou have up to {self.max_turns} attempts; after each one you "
                "will get feedback."
            )
        return task.prompt

    def episode_status(self, verdict: Verdict) -> tuple[bool, bool]:
        """``(terminated, truncated)`` after the step just recorded (its attempt is in the history).

        The default: terminated when ``verdict`` solved the task or the agent gave up, truncated
        when the turn budget is spent otherwise. Families with other budgets (the tool family's
        answer attempts) override this, and only this, to end an episode.
        """
        terminated = verdict.solved or verdict.error_kind == GAVE_UP
        return terminated, not terminated and self._turn >= self.max_turns

    def extra_info(self) -> dict[str, Any]:
        """Keys a family adds to every ``info`` (after ``reset`` and each ``step``).

        The shared keys (see :meth:`_info`) take precedence over a family key of the same name.
        """
        return {}

    # ------------------------------------------------------------------ the Gymnasium API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode on a drawn task, or on the task named or given in ``options``.

        ``options`` accepts ``task_id`` (a task of this env's source), ``task`` (a dict in the
        family's schema) or ``task_index`` (an index into the source).
        """
        super().reset(seed=seed)
        self.prepare()
        self._task = self.choose_task(dict(options or {}))
        self._history = []
        self._records = []
        self._turn = 0
        self._ended = False
        self._feedback_details = {}
        self.begin_episode(self._task)
        prompt = clean_text(self.format_prompt(self._task))
        self._messages = [{"role": "user", "content": prompt}]
        return prompt, self._info(None, {})

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Judge one action and return the feedback, reward and episode flags."""
        if self._task is None:
            raise ResetNeeded("call reset() before step()")
        if self._ended:
            raise EpisodeEndedError(
                "this episode has already ended (the task was solved, the agent gave up, or "
                f"the {self.max_turns}-turn budget ran out); call reset() to start a new one"
            )
        self._turn += 1
        text, verdict = self._judge(action)
        context = FeedbackContext(
            task=self._task,
            action=text,
            turn=self._turn,
            max_turns=self.max_turns,
            history=tuple(self._history),
            rng=self.np_random,
        )
        components = self.reward_config.components(verdict, self._turn, context.history, action=text)
        reward = float(sum(components.values()))
        if verdict.error_kind == GAVE_UP:
            feedback = RenderedFeedback("You gave up. The episode is over.")
        else:
            feedback = render_feedback(self.feedback, verdict, context)
        observation = clean_text(feedback.text) or "(no feedback)"
        self._feedback_details = dict(feedback.details)
        self._history.append(Attempt(text, verdict))
        feedback_given = self.feedback.kind != "none" and verdict.error_kind != GAVE_UP
        self._records.append(record_turn(text, verdict, feedback_given=feedback_given))
        self._messages.append({"role": "assistant", "content": clean_text(text)})
        self._messages.append({"role": "user", "content": observation})
        terminated, truncated = self.episode_status(verdict)
        self._ended = terminated or truncated
        info = self._info(verdict, components)
        if self.render_mode == "human":
            self.render()
        return observation, reward, terminated, truncated, info

    def render(self) -> str | None:
        """``"ansi"`` returns the transcript so far; ``"human"`` prints the newest message."""
        if self.render_mode == "ansi":
            return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._messages)
        if self.render_mode == "human" and self._messages:
            message = self._messages[-1]
            print(f"[{message['role']}]\n{message['content']}\n")
        return None

    def close(self) -> None:
        """Close the sandbox this env started (a ready sandbox passed in by the caller is left running)."""
        if self.sandbox is not None:
            self.sandbox.close()
        super().close()

    def describe(self) -> dict[str, Any]:
        """What identifies this env's judging, for run records and reports (JSON-friendly).

        >>> from feedback_gym.envs.countdown import CountdownEnv
        >>> CountdownEnv(max_turns=3).describe()["family"], CountdownEnv().describe()["sandbox"]
        ('countdown', None)
        """
        cls = type(self)
        return {
            "family": self.family,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "max_turns": self.max_turns,
            "feedback_kind": self.feedback.kind,
            "critic": critic_name(self.feedback),
            "feedback_identity": mode_identity(self.feedback),
            "sandbox": self.sandbox.backend if self.sandbox is not None else None,
            "task_source": self.source.name,
        }

    def oracle_action(self) -> str:
        """An action that solves the current task (for tests, baselines and sanity checks)."""
        if self._task is None:
            raise ResetNeeded("call reset() before oracle_action()")
        return self.verifier.reference_action(self._task)

    @property
    def task(self) -> Task | None:
        """The current task (``None`` before the first reset)."""
        return self._task

    @property
    def turn(self) -> int:
        """The number of actions taken in this episode."""
        return self._turn

    @property
    def feedback_details(self) -> dict[str, Any]:
        """The details the feedback mode reported with the newest feedback (``{}`` when none)."""
        return dict(self._feedback_details)

    @property
    def history(self) -> tuple[Attempt, ...]:
        """This episode's attempts so far (action and verdict), oldest first."""
        return tuple(self._history)

    # ------------------------------------------------------------------ internals

    def _judge(self, action: object) -> tuple[str, Verdict]:
        assert self._task is not None
        return judge_action(self.verifier, self._task, action)

    def _info(self, verdict: Verdict | None, components: dict[str, float]) -> dict[str, Any]:
        """The shared ``info`` keys, over the family's :meth:`extra_info`."""
        assert self._task is not None
        best = max((a.verdict.score for a in self._history), default=0.0)
        info: dict[str, Any] = self.extra_info()
        info |= {
            "task_id": self._task.id,
            "turn": self._turn,
            "max_turns": self.max_turns,
            "solved": bool(verdict is not None and verdict.solved),
            "score": verdict.score if verdict is not None else 0.0,
            "best_score": best,
            "reward_components": dict(components),
            "feedback_kind": self.feedback.kind,
            "feedback_details": dict(self._feedback_details),
            "assistant_prefix": str(self._feedback_details.get("assistant_prefix") or ""),  # in-place edits
            "error_kind": verdict.error_kind if verdict is not None else None,
            "verdict": verdict.public() if verdict is not None else {},  # a dict: vector envs merge infos
            "task_metadata": self._task.public_metadata(),
            "messages": [dict(m) for m in self._messages],
            "counters": running_counters(self._records),
        }
        if self._ended:
            info["episode_metrics"] = episode_metrics(self._records, self.max_turns)
        return info


def check_reset_options(options: Mapping[str, Any], *, unknown: Literal["raise", "warn"] = "raise") -> None:
    """Refuse (or, with ``unknown="warn"``, warn about) reset options other than :data:`RESET_OPTIONS`.

    >>> check_reset_options({"task_id": "a"})
    >>> check_reset_options({"seed": 3})
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown reset options ['seed']; accepted: task_id, task, task_index
    """
    extra = sorted(set(options) - set(RESET_OPTIONS))
    if extra:
        message = f"unknown reset options {extra}; accepted: {', '.join(RESET_OPTIONS)}"
        if unknown == "raise":
            raise ConfigError(message)
        warnings.warn(f"ignoring {message}", stacklevel=4)


def select_task(
    options: Mapping[str, Any],
    source: TaskSource,
    task_from_dict: Callable[[Mapping[str, Any]], Task],
    rng: np.random.Generator,
    *,
    unknown: Literal["raise", "warn"] = "raise",
) -> Task:
    """Pick an episode's task from reset ``options``, the one rule every env and game follows.

    ``options`` may name at most one of ``task_id`` (a task of ``source``), ``task`` (a dict in the
    family's schema, read by ``task_from_dict``, or a :class:`Task`) and ``task_index`` (an index
    into ``source``); without any, the task is drawn from ``source`` with ``rng``. Unknown keys are
    refused with the accepted list, so a misspelt option never silently draws a random task.
    ``unknown="warn"`` (the PettingZoo games only: PettingZoo's own API tests reset with a made-up
    ``options={"options": 1}`` and require it to work) gives the same message as a warning instead.

    >>> from feedback_gym.tasks import ListTaskSource
    >>> source = ListTaskSource("demo", [Task("a", "say a"), Task("b", "say b")])
    >>> select_task({"task_id": "b"}, source, None, np.random.default_rng(0)).id
    'b'
    >>> select_task({"task_idx": 1}, source, None, np.random.default_rng(0))
    Traceback (most recent call last):
    ...
    feedback_gym.errors.ConfigError: unknown reset options ['task_idx']; accepted: task_id, task, task_index
    """
    check_reset_options(options, unknown=unknown)
    chosen = [key for key in RESET_OPTIONS if options.get(key) is not None]
    if len(chosen) > 1:
        raise ConfigError(f"give at most one of {', '.join(RESET_OPTIONS)}; got {chosen}")
    if "task_id" in chosen:
        task_id = options["task_id"]
        if not isinstance(task_id, str):
            raise ConfigError(f"task_id must be a str; got {type(task_id).__name__}")
        return source.get(task_id)
    if "task" in chosen:
        data = options["task"]
        if isinstance(data, Task):
            return data
        if not isinstance(data, Mapping):
            raise InvalidTaskError(f"options['task'] must be a dict; got {type(data).__name__}")
        return task_from_dict(data)
    if "task_index" in chosen:
        index = options["task_index"]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ConfigError(f"task_index must be an int >= 0; got {index!r}")
        return source.task(index)
    return source.task(draw_index(rng, source.size))


def judge_action(verifier: Verifier, task: Task, action: object) -> tuple[str, Verdict]:
    """Read an action as every environment does, then verify it: the one place junk is handled.

    Unreadable, empty and over-long actions get an ``invalid_action`` verdict with a message, and
    ``<give_up>`` a ``gave_up`` one, without reaching the verifier. Returns the action as text
    (empty when it was not text) and the verdict.
    """
    text, problem = coerce_action(action)
    if text is None:
        return "", Verdict.invalid(problem or "the action could not be read")
    if len(text) > MAX_ACTION_CHARS:
        return text, Verdict.invalid(
            f"the reply is {len(text)} characters long; at most {MAX_ACTION_CHARS} are read"
        )
    if not text.strip():
        return text, Verdict.invalid("the reply is empty")
    if text.strip().lower() == GIVE_UP_ACTION:
        return text, Verdict(False, 0.0, error_kind=GAVE_UP, message="gave up")
    return text, verifier.verify(task, text)


def user_task_id(data: Mapping[str, Any]) -> str:
    """A stable id for a user's task without one: ``"user/"`` plus a hash of its content.

    >>> user_task_id({"prompt": "hi"}) == user_task_id({"prompt": "hi"})
    True
    """
    blob = json.dumps(data, sort_keys=True, default=str).encode("utf-8", errors="replace")
    return "user/" + hashlib.sha256(blob).hexdigest()[:12]
