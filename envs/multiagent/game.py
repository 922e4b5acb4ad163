"""The critique game both multi-agent environments play: answer, critique, revise, for N rounds.

:class:`CritiqueGame` is the rules and the state, with no PettingZoo bookkeeping: whose move it is,
what each seat sees, what each move earns. The AEC and parallel views in ``views.py`` drive it, so
the two APIs cannot disagree about a reward. Tasks and verification come from a *family*: any
feedback-gym single-agent environment (``"Countdown-v0"``, a math or code env), from which the game
borrows the task source, the verifier, the user-task schema and the feedback modes. Model-written
answers are only ever judged by that family's verifier (code runs in its sandbox, never here).

Moves, for ``rounds = R``::

    solver_opens=True  (solver_critic):  solver, critic, solver, ..., critic, solver   (2R + 1 moves)
    solver_opens=False (code_critique):  [the env supplies the first answer] critic, solver, ... (2R)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from feedback_gym.env import FeedbackEnv, judge_action, select_task
from feedback_gym.errors import ConfigError, require_int
from feedback_gym.feedback import Attempt, FeedbackContext, FeedbackMode, make_feedback, render_feedback
from feedback_gym.tasks import Task
from feedback_gym.text import MAX_ACTION_CHARS, clean_text, coerce_action
from feedback_gym.verdict import GAVE_UP, Verdict, Verifier

from .rewards import (
    CritiqueRewards,
    critic_outcome_reward,
    parse_critic_verdict,
    solver_final_reward,
    verdict_accuracy,
)

#: The family feedback modes the oracle critic renders a wrong answer's verdict with, by preference:
#: a reference-guided verbal critique (maths) before per-test results (code, Countdown).
ORACLE_CRITIQUE_MODES = ("critique", "tests")
VERDICT_INSTRUCTION = 'End with a line "VERDICT: correct" or "VERDICT: incorrect".'


def read_critique(action: object) -> tuple[str, str | None]:
    """Return ``(text, problem)``: ``problem`` says why a critique cannot be read (else ``None``).

    >>> read_critique("Check the last step.")
    ('Check the last step.', None)
    >>> read_critique("   ")[1]
    'the critique is empty'
    """
    text, problem = coerce_action(action)
    if text is None:
        return "", problem or "the critique could not be read"
    if len(text) > MAX_ACTION_CHARS:
        return text, f"the critique is {len(text)} characters long; at most {MAX_ACTION_CHARS} are read"
    if not text.strip():
        return text, "the critique is empty"
    return text, None


def make_family(family: str | FeedbackEnv, family_kwargs: Mapping[str, Any] | None) -> FeedbackEnv:
    """Resolve ``family``: a registered feedback-gym id (built with one turn) or an env instance."""
    if isinstance(family, FeedbackEnv):
        if family_kwargs:
            raise ConfigError("family_kwargs only apply when family is an id string, not an env instance")
        return family
    if not isinstance(family, str):
        raise ConfigError(
            f"family must be a feedback-gym env id or a FeedbackEnv; got {type(family).__name__}"
        )
    import feedback_gym  # noqa: F401 - registers every id

    try:
        built = gym.make(family, **{"max_turns": 1, **dict(family_kwargs or {})}).unwrapped
    except gym.error.Error as err:
        raise ConfigError(f"family {family!r} could not be made: {err}") from None
    if not isinstance(built, FeedbackEnv):
        raise ConfigError(f"family {family!r} is not a feedback-gym environment (FeedbackEnv)")
    return built


class CritiqueGame:
    """Rules and state of a solver/critic (or editor/critic) game over one family's tasks.

    Args:
        family: A feedback-gym env id or a :class:`FeedbackEnv` providing tasks and the verifier.
        solver: The name of the seat that answers and revises.
        critic: The name of the seat that critiques.
        rounds: Critique-and-revise rounds (>= 1).
        rewards: A :class:`CritiqueRewards` or a dict of its fields.
        solver_opens: Whether the solver writes the first answer (else :meth:`opening` supplies it).
        critic_feedback: ``None``, or a feedback mode of the family (``"tests"``, ``"full"``...)
            whose rendering of the answer's verdict the critic sees next to the answer.
        family_kwargs: Arguments for the family env when ``family`` is an id.
    """

    name = "critique"
    solver_role = "solver"

    def __init__(
        self,
        family: str | FeedbackEnv,
        *,
        solver: str,
        critic: str,
        rounds: int = 1,
        rewards: CritiqueRewards | Mapping[str, Any] | None = None,
        solver_opens: bool = True,
        critic_feedback: str | None = None,
        family_kwargs: Mapping[str, Any] | None = None,
        reward_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        require_int("rounds", rounds, minimum=1)
        self.rewards = CritiqueRewards.coerce(rewards, **dict(reward_defaults or {}))
        self.family = make_family(family, family_kwargs)
        self.verifier: Verifier = self.family.verifier
        self.solver, self.critic = solver, critic
        self.seats: tuple[str, ...] = (solver, critic) if solver_opens else (critic, solver)
        self.rounds = rounds
        self.solver_opens = solver_opens
        self.critic_view: FeedbackMode | None = (
            None if critic_feedback is None else make_feedback(critic_feedback, self.family.feedback_modes)
        )
        self.moves: tuple[str, ...] = ((solver,) if solver_opens else ()) + (critic, solver) * rounds
        self.rng = np.random.default_rng(0)
        self._task: Task | None = None
        self._move = 0
        self.answers: list[Attempt] = []
        self.critiques: list[tuple[str, bool | None, bool]] = []  # (text, stated verdict, readable)
        self.unread_critique: str | None = None  # why the critic's newest critique could not be read
        self.transcript: list[tuple[str, str]] = []
        self.messages: dict[str, list[dict[str, str]]] = {}
        self.turns: dict[str, int] = {}
        self.pending: dict[str, dict[str, float]] = {}
        self.error_kinds: dict[str, str | None] = {}
        self.ended_early = False

    # ------------------------------------------------------------------ episode set-up

    def reset(self, rng: np.random.Generator, options: Mapping[str, Any] | None) -> None:
        """Start an episode on a drawn task, or the one named in ``options`` (as ``FeedbackEnv``)."""
        self.rng = rng
        task = self.choose_task(dict(options or {}))
        opening = None if self.solver_opens else self.opening(task)
        self._task = task
        self._move = 0
        self.answers = [] if opening is None else [opening]
        self.critiques = []
        self.unread_critique = None
        self.transcript = [] if opening is None else [("env", opening.action)]
        self.messages = {seat: [] for seat in self.seats}
        self.turns = dict.fromkeys(self.seats, 0)
        self.pending = {seat: {} for seat in self.seats}
        self.error_kinds = dict.fromkeys(self.seats)
        self.ended_early = False
        self._address(self.moves[0])

    def choose_task(self, options: dict[str, Any]) -> Task:
        """Pick the episode's task from ``options`` or with ``self.rng``, as every env does.

        Unknown option keys are ignored with a warning naming the accepted ones (PettingZoo's API
        tests reset with made-up keys); see :func:`~feedback_gym.env.select_task`.
        """
        family = self.family
        return select_task(options, family.source, family.task_from_dict, self.rng, unknown="warn")

    def opening(self, task: Task) -> Attempt:
        """The first answer when the solver does not write it (overridden by ``code_critique``)."""
        raise NotImplementedError(f"{type(self).__name__} must supply an opening answer")

    # ------------------------------------------------------------------ state

    @property
    def task(self) -> Task:
        """The current task (raises before the first reset)."""
        if self._task is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._task

    @property
    def over(self) -> bool:
        """Whether the episode has ended."""
        return self._move >= len(self.moves)

    @property
    def acting(self) -> str | None:
        """The seat whose move is next (``None`` once the episode is over)."""
        return None if self.over else self.moves[self._move]

    @property
    def round(self) -> int:
        """The current round: 0 while the solver writes its first answer, then 1..rounds."""
        done = self._move - (1 if self.solver_opens else 0)
        return min(self.rounds, max(0, done // 2 + 1)) if done >= 0 else 0

    # ------------------------------------------------------------------ moves

    def play(self, action: object) -> dict[str, dict[str, float]]:
        """Apply the acting seat's move; return the reward components each seat earned by it."""
        seat = self.acting
        if seat is None:
            raise gym.error.ResetNeeded("the episode is over; call reset()")
        self.pending[seat] = {}
        self.turns[seat] += 1
        earned: dict[str, dict[str, float]] = {s: {} for s in self.seats}
        if seat == self.critic:
            self._critique(action, earned)
        else:
            self._answer(action, earned)
        for who, parts in earned.items():
            for key, value in parts.items():
                self.pending[who][key] = self.pending[who].get(key, 0.0) + value
        return earned

    def _critique(self, action: object, earned: dict[str, dict[str, float]]) -> None:
        text, problem = read_critique(action)
        readable = problem is None
        stated = parse_critic_verdict(text) if readable else None
        self.critiques.append((text, stated, readable))
        self.unread_critique = problem
        self.error_kinds[self.critic] = None if readable else "invalid_action"
        self.messages[self.critic].append({"role": "assistant", "content": clean_text(text)})
        self.transcript.append((self.critic, text))
        weight = self.rewards.verdict_weight
        earned[self.critic]["verdict"] = (
            verdict_accuracy(stated, self.answers[-1].verdict, weight) if readable else 0.0
        )
        self._move += 1
        shown = text if readable else f"(The critic's message could not be read: {problem}.)"
        self._address(self.solver, critique=shown)

    def _answer(self, action: object, earned: dict[str, dict[str, float]]) -> None:
        text, verdict = judge_action(self.verifier, self.task, action)
        self.error_kinds[self.solver] = verdict.error_kind
        if self.answers and self.critiques:
            readable = self.critiques[-1][2]
            outcome = critic_outcome_reward(self.rewards.critic, self.answers[-1].verdict, verdict)
            earned[self.critic]["outcome"] = outcome if readable else 0.0
        self.answers.append(Attempt(text, verdict))
        self.messages[self.solver].append({"role": "assistant", "content": clean_text(text)})
        self.transcript.append((self.solver, text))
        self._move += 1
        if verdict.error_kind == GAVE_UP:
            self._move = len(self.moves)
            self.ended_early = True
        if self.over:
            earned[self.solver]["success"] = solver_final_reward(self.rewards.solver, verdict)
            self._announce_end(verdict)
        else:
            self._address(self.critic)

    def _address(self, seat: str, critique: str | None = None) -> None:
        """Append the message that asks ``seat`` for its next move."""
        if seat == self.critic:
            content = self._unread_note() + self.critic_prompt(self.answers[-1], self.round)
        elif critique is None:
            content = self.solver_prompt()
        else:
            content = self.revision_prompt(critique, self.round)
        self.messages[seat].append({"role": "user", "content": clean_text(content)})

    def _announce_end(self, final: Verdict) -> None:
        outcome = "correct" if final.solved else "incorrect"
        how = "gave up" if self.ended_early else f"final answer is {outcome}"
        self.messages[self.solver].append(
            {"role": "user", "content": f"The episode is over: your {how}."}
        )
        if self.turns[self.critic] or self.messages[self.critic]:
            ending = f"The episode is over: the {self.solver_role}'s {how}."
            self.messages[self.critic].append({"role": "user", "content": self._unread_note() + ending})

    def _unread_note(self) -> str:
        """Tell the critic, once, that its newest critique could not be read (and so counted for nothing)."""
        problem, self.unread_critique = self.unread_critique, None
        if problem is None:
            return ""
        return f"Your critique could not be read ({problem}); it counted for nothing.\n\n"

    # ------------------------------------------------------------------ prompts (overridable)

    def task_statement(self) -> str:
        """The task as the family words it for a solver (the same text for every seat)."""
        return self.family.format_prompt(self.task)

    def solver_prompt(self) -> str:
        """The solver's first message: the task, and how the game goes."""
        return (
            f"{self.task_statement()}\n\nA reviewer will critique your answer and you "
            f"will revise it ({self.rounds} round{'s' if self.rounds != 1 else ''}); "
            "your last answer is the one scored."
        )

    #: What the critic's prompt calls the answer and the checker's output (a game may rename them).
    answer_label = "Answer"
    checker_label = "Checker output"

    def critic_prompt(self, answer: Attempt, round_: int) -> str:
        """What the critic sees when it must critique ``answer``: opening, task, answer, checker, request."""
        first = len(self.answers) == 1
        label = self.answer_label if first else f"Revised {self.answer_label.lower()}"
        parts = [
            self.critic_opening(round_),
            f"[Task]\n{self.task_statement()}",
            f"[{label}]\n{answer.action}",
        ]
        checker = self.checker_output(answer)
        if checker:
            parts.append(f"[{self.checker_label}]\n{checker}")
        parts.append(self.critic_request(first))
        return "\n\n".join(parts)

    def critic_opening(self, round_: int) -> str:
        """The first line of the critic's prompt."""
        return f"Review another agent's answer to this task (round {round_} of {self.rounds})."

    def critic_request(self, first: bool) -> str:
        """What the critic is asked to do (``first``: the answer is the solver's first)."""
        return (
            "Say whether the answer is right and, if not, what is wrong and how to fix it; the "
            f"author will revise it using your critique. {VERDICT_INSTRUCTION}"
        )

    def revision_prompt(self, critique: str, round_: int) -> str:
        """What the solver sees after a critique."""
        final = " This is your last chance; that answer is scored." if round_ == self.rounds else ""
        return (
            f"[Reviewer's critique]\n{critique}\n\nRevise your answer (round {round_} of {self.rounds}) "
            f"and reply with your complete answer.{final}"
        )

    def checker_output(self, answer: Attempt) -> str | None:
        """The family's rendering of ``answer``'s verdict shown to the critic (``critic_feedback``)."""
        if self.critic_view is None:
            return None
        return render_feedback(self.critic_view, answer.verdict, self._context(answer)).text

    def _context(self, answer: Attempt) -> FeedbackContext:
        return FeedbackContext(
            task=self.task, action=answer.action, turn=1, max_turns=1, history=(), rng=self.rng
        )

    # ------------------------------------------------------------------ what seats see

    def observation(self, seat: str) -> str:
        """The newest message addressed to ``seat`` (a waiting note before the first one)."""
        for message in reversed(self.messages.get(seat, [])):
            if message["role"] == "user":
                return message["content"]
        first = self.solver_role if self.solver_opens else "environment"
        return f"Waiting for the {first}'s first answer."

    def info(self, seat: str) -> dict[str, Any]:
        """The info of ``seat``: the user's contract keys plus the game's state.

        ``solved``/``score`` describe the newest answer (for the critic: the answer it is judging or
        has judged); ``reward_components`` are the parts earned since the seat's last move, so they
        sum to the reward PettingZoo's ``last()`` reports.
        """
        latest = self.answers[-1].verdict if self.answers else None
        last_critique = self.critiques[-1] if self.critiques else None
        return {
            "task_id": self.task.id,
            "seat": seat,
            "role": "critic" if seat == self.critic else self.solver_role,
            "turn": self.turns[seat],
            "max_turns": self.moves.count(seat),
            "round": self.round,
            "rounds": self.rounds,
            "acting": self.acting == seat,
            "solved": bool(latest is not None and latest.solved),
            "score": latest.score if latest is not None else 0.0,
            "reward_components": dict(self.pending[seat]),
            "feedback_kind": "critique" if seat == self.solver else "answer",
            "feedback_details": {},
            "error_kind": self.error_kinds[seat],
            "verdict": latest.public() if latest is not None else None,
            "critic_verdict": None if last_critique is None else last_critique[1],
            "task_metadata": self.task.public_metadata(),
            "messages": [dict(m) for m in self.messages[seat]],
        }

    def render_last_move(self) -> str:
        """The newest move as one block (the task before any move)."""
        if not self.transcript:
            return self.render_transcript()
        who, text = self.transcript[-1]
        return f"[{who}]\n{clean_text(text)}"

    def render_transcript(self) -> str:
        """The moves so far, one block per move."""
        blocks = [f"[task {self.task.id}]\n{self.task.prompt}"] if self._task is not None else []
        blocks.extend(f"[{who}]\n{clean_text(text)}" for who, text in self.transcript)
        return "\n\n".join(blocks)

    # ------------------------------------------------------------------ oracles

    def oracle_action(self, seat: str) -> str:
        """A reference move for ``seat``: the family's reference answer, or a checker-guided critique."""
        if seat == self.solver:
            return self.verifier.reference_action(self.task)
        if seat == self.critic:
            return self.oracle_critique(self.answers[-1])
        raise ConfigError(f"unknown seat {seat!r}; seats: {', '.join(self.seats)}")

    def oracle_critique(self, answer: Attempt) -> str:
        """A critique that states the right verdict and, when wrong, renders what the checker found.

        The family's own reference-guided ``critique`` mode is used when it has one (it locates the
        first wrong step without giving the answer away), else its ``tests`` mode.
        """
        if answer.verdict.solved:
            return "The answer is correct.\nVERDICT: correct"
        modes = self.family.feedback_modes
        name = next(m for m in (*ORACLE_CRITIQUE_MODES, "binary") if m in modes)
        rendered = render_feedback(make_feedback(name, modes), answer.verdict, self._context(answer))
        return f"{rendered.text}\nVERDICT: incorrect"

    def close(self) -> None:
        """Release the family environment (its sandbox, if any)."""
        self.family.close()
