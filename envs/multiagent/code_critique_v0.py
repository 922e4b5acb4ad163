"""code_critique_v0: a critic writes feedback on an erroneous program, an editor revises it.

## Description
Coffee-Gym's feedback-on-feedback setting as a two-seat PettingZoo game. At reset the env takes a
task of a code family and makes an erroneous program: the family's reference solution with one bug
injected over the AST (``bugs.py``: off-by-one, flipped comparison, wrong operator, dropped return),
kept only if the family's verifier (unit tests, run in its sandbox) says it fails. The bug is a
function of the task id and ``bug_seed``, so ``reset(options={"task_id": ...})`` replays the same
program and a benchmark sees a fixed set of erroneous programs. Or, with
``weak_solver``, a frozen policy's own failing attempt. The critic reads the task and the program and
writes feedback; the editor revises the program from that feedback; the revision is run against the
unit tests. Critique and revision repeat ``rounds`` times.

## Agents
``critic_0`` (writes feedback) and ``editor_0`` (revises). Moves: (critic, editor) x ``rounds``.

## Observation
Text. The critic sees the task and the program (and, with ``critic_feedback``, the family's
rendering of the test results); the editor sees the task, the program and the feedback.

## Action
Text: the critic's feedback (optionally ending with ``VERDICT: ...``); the editor's complete
revised program (in a fenced block, as the family expects). Junk actions get an invalid verdict.

## Reward
- Critic, per round: the revision's unit-test score, i.e. the share of tests the revised program
  passes (CoffeeEval). ``rewards={"critic": "score_gain"}`` pays the gain over the criticised
  program instead, ``"improvement"`` the +1/-1 of ``solver_critic_v0``. ``verdict_weight`` defaults
  to 0 here: every opening program is wrong, so a verdict term would pay a constant.
- Editor: on its last move, 1.0 when the final program passes every test (``"score"``: its score).

## Episode End
Terminated for both seats after the editor's last revision.

## Arguments
``family`` (a code env id or ``FeedbackEnv``; default ``"CodeFeedback-v0"``), ``family_kwargs``,
``rounds`` (default 1), ``rewards``, ``bug_kinds``, ``max_bug_tries`` (candidate bugs verified per
task before drawing another task), ``bug_seed`` (which bug each task gets), ``weak_solver`` (a
policy or spec whose failing attempt is the erroneous program; an injected bug is used when it
solves the task), ``critic_feedback``, ``render_mode``. :func:`critic_env` is the critic seat as a
Gymnasium env with a frozen editor (registered as ``CodeCritic-v0``).

## Version History
- v0: initial release.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from feedback_gym.env import RESET_OPTIONS, FeedbackEnv, judge_action
from feedback_gym.errors import ConfigError, require_int
from feedback_gym.feedback import Attempt
from feedback_gym.policy import Policy, make_policy
from feedback_gym.tasks import Task, draw_index
from feedback_gym.verdict import INVALID_ACTION

from .baselines import LiteralEditor
from .bugs import BUG_KINDS, Bug, extract_program, fence, shuffled_bugs
from .game import CritiqueGame
from .rewards import CritiqueRewards
from .seats import SingleSeatEnv
from .views import CritiqueAECEnv, CritiqueParallelEnv

CRITIC = "critic_0"
EDITOR = "editor_0"
DEFAULT_FAMILY = "CodeFeedback-v0"
MAX_TASK_DRAWS = 20


class CodeCritiqueGame(CritiqueGame):
    """The rules of ``code_critique_v0`` (see the module docstring)."""

    name = "code_critique_v0"
    solver_role = "editor"

    def __init__(
        self,
        family: str | FeedbackEnv = DEFAULT_FAMILY,
        *,
        rounds: int = 1,
        rewards: CritiqueRewards | Mapping[str, Any] | None = None,
        bug_kinds: tuple[str, ...] = BUG_KINDS,
        max_bug_tries: int = 8,
        bug_seed: int = 0,
        weak_solver: Policy | str | None = None,
        critic_feedback: str | None = None,
        family_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        require_int("max_bug_tries", max_bug_tries, minimum=1)
        unknown = set(bug_kinds) - set(BUG_KINDS)
        if unknown or not bug_kinds:
            raise ConfigError(f"bug_kinds must be a non-empty subset of {BUG_KINDS}; got {bug_kinds!r}")
        require_int("bug_seed", bug_seed)
        self.bug_kinds = tuple(bug_kinds)
        self.bug_seed = bug_seed
        self.max_bug_tries = max_bug_tries
        self.weak_solver = make_policy(weak_solver) if isinstance(weak_solver, str) else weak_solver
        if self.weak_solver is not None and not isinstance(self.weak_solver, Policy):
            raise ConfigError(
                f"weak_solver must be a Policy or a spec string; got {type(weak_solver).__name__}"
            )
        self.bug: Bug | None = None
        self._cache: tuple[Task, tuple[Attempt, Bug | None] | None] | None = None
        super().__init__(
            family,
            solver=EDITOR,
            critic=CRITIC,
            rounds=rounds,
            rewards=rewards,
            solver_opens=False,
            critic_feedback=critic_feedback,
            family_kwargs=family_kwargs,
            reward_defaults={"critic": "score", "verdict_weight": 0.0},
        )

    # ------------------------------------------------------------------ the erroneous program

    def choose_task(self, options: dict[str, Any]) -> Task:
        """Pick a task as usual; a drawn task without a failing bug is replaced by another draw."""
        task = super().choose_task(options)
        if any(options.get(key) is not None for key in RESET_OPTIONS):
            return task
        source = self.family.source
        for _ in range(MAX_TASK_DRAWS):
            if self._erroneous(task) is not None:
                return task
            task = source.task(draw_index(self.rng, source.size))
        return task  # opening() raises with a clear message if this one has no failing bug either

    def opening(self, task: Task) -> Attempt:
        """The erroneous program the critic starts from (cached by :meth:`choose_task`)."""
        found = self._erroneous(task)
        if found is None:
            raise ConfigError(
                f"task {task.id!r}: none of {self.max_bug_tries} injected bugs "
                f"({', '.join(self.bug_kinds)}) fails its tests, so it cannot be used for critique"
            )
        attempt, self.bug = found
        self._cache = None
        return attempt

    def _erroneous(self, task: Task) -> tuple[Attempt, Bug | None] | None:
        if self._cache is not None and self._cache[0] is task:
            return self._cache[1]
        found = self._weak_attempt(task) or self._injected(task)
        self._cache = (task, found)
        return found

    def _weak_attempt(self, task: Task) -> tuple[Attempt, None] | None:
        if self.weak_solver is None:
            return None
        prompt = self.family.format_prompt(task)
        reply = self.weak_solver.act([[{"role": "user", "content": prompt}]])[0]
        text, verdict = judge_action(self.verifier, task, reply.text)
        if verdict.solved or verdict.error_kind == INVALID_ACTION:
            return None
        return Attempt(text, verdict), None

    def _injected(self, task: Task) -> tuple[Attempt, Bug] | None:
        reference = extract_program(self.verifier.reference_action(task))
        rng = random.Random(f"{task.id}:{self.bug_seed}")
        for bug in shuffled_bugs(reference, rng, self.bug_kinds)[: self.max_bug_tries]:
            program = fence(bug.program)
            verdict = self.verifier.verify(task, program)
            if not verdict.solved:
                return Attempt(program, verdict), bug
        return None

    # ------------------------------------------------------------------ prompts

    answer_label = "Program"
    checker_label = "Test results"

    def critic_opening(self, round_: int) -> str:
        """The first line of the critic's prompt: a program to give feedback on."""
        return f"Give feedback on a program written for this task (round {round_} of {self.rounds})."

    def critic_request(self, first: bool) -> str:
        """Feedback an editor can act on, without rewriting the program (it fails on the first round)."""
        known = "The program fails some of the task's hidden unit tests. " if first else ""
        return (
            f"{known}Explain what is wrong and how to fix it, without rewriting the whole program: "
            "an editor will revise the program using only your feedback. "
            'You may end with a line "VERDICT: correct" or "VERDICT: incorrect".'
        )

    def revision_prompt(self, critique: str, round_: int) -> str:
        """The editor's view: the task and program (first time), then the critic's feedback."""
        parts = []
        if not self.messages[self.solver]:
            parts += [f"[Task]\n{self.task_statement()}", f"[Program]\n{self.answers[-1].action}"]
        parts.append(f"[Feedback]\n{critique}")
        parts.append(
            f"Revise the program following the feedback (round {round_} of {self.rounds}) and reply "
            "with the complete program in a ```python block."
        )
        return "\n\n".join(parts)

    def oracle_critique(self, answer: Attempt) -> str:
        """Name the injected bug's line and its fix; otherwise fall back to the test results."""
        if self.bug is not None and answer.action == self.answers[0].action and not answer.verdict.solved:
            return (
                f"Line {self.bug.line}: `{self.bug.buggy_line}` is wrong; "
                f"it should be `{self.bug.fixed_line}`.\nVERDICT: incorrect"
            )
        return super().oracle_critique(answer)


def raw_env(render_mode: str | None = None, **kwargs: Any) -> CritiqueAECEnv:
    """The AEC env without PettingZoo's order-enforcing wrapper (arguments as in :func:`env`)."""
    return CritiqueAECEnv(CodeCritiqueGame(**kwargs), render_mode=render_mode)


def env(render_mode: str | None = None, **kwargs: Any) -> OrderEnforcingWrapper:
    """The turn-based (AEC) env; see the module docstring for the arguments."""
    return OrderEnforcingWrapper(raw_env(render_mode=render_mode, **kwargs))


def parallel_env(render_mode: str | None = None, **kwargs: Any) -> CritiqueParallelEnv:
    """The parallel env (the acting seat's action is read each step; see ``views.py``)."""
    return CritiqueParallelEnv(CodeCritiqueGame(**kwargs), render_mode=render_mode)


def critic_env(
    editor: Policy | str = "literal", rounds: int = 2, render_mode: str | None = None, **kwargs: Any
) -> SingleSeatEnv:
    """The critic seat as a Gymnasium env (registered as ``CodeCritic-v0``), the editor frozen.

    ``editor="literal"`` (default) is :class:`~.baselines.LiteralEditor`, which applies only
    ``Line N: ... should be `new``` instructions, so the critic must locate the bug and state its fix;
    any policy or spec (``"smollm2"``, ``"hf:..."``) makes the editor a model. The critic's reward
    defaults to ``score_gain`` (the revision's test score minus the criticised program's), so
    feedback that changes nothing earns 0. Other arguments are those of :func:`env`.
    """
    kwargs.setdefault("rewards", {"critic": "score_gain"})
    frozen = LiteralEditor() if editor == "literal" else editor
    game = env(rounds=rounds, **kwargs)
    return SingleSeatEnv(game, seat=CRITIC, frozen={EDITOR: frozen}, render_mode=render_mode)
