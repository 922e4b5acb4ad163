"""Countdown: reach a target number from a few given numbers with + - * /.

A small, fully offline family: tasks are generated from a seed, answers are checked by the shared
arithmetic parser (:mod:`feedback_gym.envs.arithmetic`, restricted here to whole numbers, + - * / and
parentheses; nothing is evaluated by Python itself), and the feedback can name which rule an
expression broke. It is the
reasoning-task counterpart of the code and maths families and a quick env for smoke tests.
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from typing import Any, ClassVar

from feedback_gym.answers import marked_answer
from feedback_gym.env import FeedbackEnv
from feedback_gym.envs.arithmetic import ExpressionError, Grammar, evaluate_with_literals
from feedback_gym.errors import ConfigError, InvalidTaskError, MissingReferenceError
from feedback_gym.feedback import GENERIC_FEEDBACK_MODES
from feedback_gym.tasks import GeneratedTaskSource, Task
from feedback_gym.verdict import INVALID_ACTION, WRONG_ANSWER, CheckResult, Verdict

MAX_EXPRESSION_CHARS = 300
#: Countdown's grammar: whole numbers used as given, + - * / and brackets only.
GRAMMAR = Grammar(operators=frozenset("+-*/"), signs=False, decimals=False, max_chars=MAX_EXPRESSION_CHARS)


def evaluate(expression: str) -> tuple[Fraction, list[int]]:
    """Evaluate an arithmetic expression exactly; return its value and the numbers it uses.

    Only integer literals, + - * / and parentheses are accepted; ``x`` and ``×`` are read as ``*``
    and ``÷`` as ``/`` (the shared :mod:`feedback_gym.envs.arithmetic` walker, nothing executed).

    >>> evaluate("(6 - 2) * 6")
    (Fraction(24, 1), [6, 2, 6])
    >>> try:
    ...     evaluate("2 ** 10")
    ... except ExpressionError as err:
    ...     print(err)
    only + - * / are allowed; found '**'
    """
    value, literals = evaluate_with_literals(expression, GRAMMAR)
    return Fraction(value), [int(number) for number in literals]


def extract_expression(reply: str) -> str | None:
    r"""Find the expression in a reply: an ``<answer>`` tag, an "Answer:" line, or the last line.

    A trailing ``= target`` is dropped.

    >>> extract_expression("Let me think.\n<answer>(1 + 2) * 8</answer>")
    '(1 + 2) * 8'
    >>> extract_expression("I tried things.\n3 * 8 = 24")
    '3 * 8'
    """
    candidate = marked_answer(reply)
    if candidate is None:
        candidate = next((line for line in reversed(reply.splitlines()) if line.strip()), "")
    candidate = candidate.strip().strip("`$").split("=")[0].strip()
    return candidate or None


def _format_numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


class CountdownVerifier:
    """Checks a Countdown reply: a valid expression, only the given numbers, the target value."""

    def verify(self, task: Task, action: str) -> Verdict:
        """Judge ``action``; never raises on malformed text."""
        numbers = list(task.hidden["numbers"])
        target = int(task.hidden["target"])
        expression = extract_expression(action)
        if expression is None:
            return Verdict.invalid("no expression found; put it in <answer>...</answer>")
        try:
            value, used = evaluate(expression)
        except ExpressionError as err:
            return Verdict(
                False,
                0.0,
                checks=(CheckResult("valid expression", False, input=expression, detail=str(err)),),
                error_kind=INVALID_ACTION,
                message=str(err),
                parsed=expression,
            )
        extra = Counter(used) - Counter(numbers)
        checks = (
            CheckResult("valid expression", True, input=expression),
            CheckResult(
                "uses only the given numbers, each at most once",
                not extra,
                expected=f"numbers from [{_format_numbers(numbers)}]",
                got=_format_numbers(sorted(extra.elements())) + " not available" if extra else None,
            ),
            CheckResult(
                "reaches the target",
                value == target,
                expected=str(target),
                got=_show(value),
            ),
        )
        solved = all(c.passed for c in checks)
        return Verdict(
            solved,
            1.0 if solved else sum(c.passed for c in checks) / len(checks),
            checks=checks,
            error_kind=None if solved else WRONG_ANSWER,
            evidence={"value": _show(value), "numbers_used": used},
            parsed=expression,
        )

    def reference_action(self, task: Task) -> str:
        """The generator's own solution, in an answer tag."""
        if not task.reference:
            raise MissingReferenceError(f"task {task.id!r} was given without a 'solution'")
        return f"<answer>{task.reference}</answer>"


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value} (= {float(value):.4g})"


DIFFICULTY_NUMBERS = {1: 3, 2: 4, 3: 5}


def generate_countdown(rng: random.Random, index: int, *, difficulty: int) -> Task:
    """Build one solvable task: combine random numbers with random operations into a target.

    The target is the value of a random expression over the numbers, kept only when it is a
    positive integer below 1000, so every task has the expression as a known solution.
    """
    count = DIFFICULTY_NUMBERS[difficulty]
    while True:
        numbers = [rng.randint(1, 12 if difficulty == 1 else 25) for _ in range(count)]
        terms = [str(n) for n in numbers]
        rng.shuffle(terms)
        expression = terms[0]
        for term in terms[1:]:
            op = rng.choice("+-*/" if difficulty > 1 else "+-*")
            expression = f"({expression} {op} {term})" if rng.random() < 0.5 else f"{expression} {op} {term}"
        try:
            value, _ = evaluate(expression)
        except ExpressionError:
            continue
        if value.denominator == 1 and 0 < value < 1000 and value not in numbers:
            break
    shown = sorted(numbers)
    prompt = (
        f"Using the numbers [{_format_numbers(shown)}], write an arithmetic expression that "
        f"equals {int(value)}. You may use + - * / and parentheses, and each number at most "
        "once. Put the final expression in <answer>...</answer>."
    )
    return Task(
        id=f"countdown-d{difficulty}/{index}",  # the source rewrites it to name/seed/index
        prompt=prompt,
        reference=expression,
        hidden={"numbers": shown, "target": int(value)},
        metadata={"source": "countdown", "difficulty": difficulty, "numbers": shown,
                  "target": int(value)},
    )


def _model_feedback(**kwargs: Any) -> Any:
    """``model``: a critic model reading the Countdown brief (imported here: it imports this module)."""
    from feedback_gym.envs.countdown_critic import COUNTDOWN_BRIEF
    from feedback_gym.envs.model_critic import model_feedback

    return model_feedback(COUNTDOWN_BRIEF)(**kwargs)


def _in_place_feedback(**kwargs: Any) -> Any:
    """``in_place``: an editing critic model reading the Countdown brief."""
    from feedback_gym.envs.countdown_critic import COUNTDOWN_BRIEF
    from feedback_gym.envs.in_place_edit import in_place_feedback

    return in_place_feedback(COUNTDOWN_BRIEF)(**kwargs)


class CountdownEnv(FeedbackEnv):
    """Countdown: combine the given numbers with + - * / to reach a target.

    ## Description
    A procedurally generated arithmetic puzzle (as in TinyZero/Countdown RL work). Every task is
    built from a known solution, so every task is solvable and has an oracle.

    ## Observation
    The prompt lists the numbers and the target; feedback depends on ``feedback``: ``binary``,
    ``unary``, ``score`` (rules satisfied), ``tests`` (which rule failed, with the value reached),
    ``full`` (also the parser's explanation), ``model`` (a critic model's leak-filtered hint;
    ``feedback_options={"critic": SPEC}``), ``in_place`` (the critic corrects the expression in place
    and the agent continues from it), or ``none``.

    ## Action
    Text containing an expression, ideally in ``<answer>...</answer>``; otherwise an
    "Answer:" line or the last non-empty line is read.

    ## Reward
    ``success="binary"`` (default): 1.0 when the expression is valid, uses only the given numbers
    and equals the target. ``"fraction"``: improvement in the share of the three rules satisfied.

    ## Episode End
    Terminated when solved or on ``<give_up>``; truncated after ``max_turns`` attempts.

    ## Arguments
    ``difficulty`` (1: three numbers, 2: four, 3: five), ``seed`` (of the task generator),
    ``feedback``, ``reward``, ``max_turns``, ``render_mode``.

    >>> env = CountdownEnv(max_turns=2)
    >>> obs, info = env.reset(seed=0)
    >>> env.step(env.oracle_action())[1:3]
    (1.0, True)

    ## Version History
    - v0: initial release.
    """

    family: ClassVar[str] = "countdown"
    feedback_modes: ClassVar = {**GENERIC_FEEDBACK_MODES, "model": _model_feedback,
                                "in_place": _in_place_feedback}

    def __init__(self, difficulty: int = 1, seed: int = 0, **kwargs: Any) -> None:
        if difficulty not in DIFFICULTY_NUMBERS:
            raise ConfigError(f"difficulty must be one of {sorted(DIFFICULTY_NUMBERS)}; got {difficulty!r}")
        source = GeneratedTaskSource(
            f"countdown-d{difficulty}",
            lambda rng, index: generate_countdown(rng, index, difficulty=difficulty),
            seed=seed,
        )
        kwargs.setdefault("feedback", "tests")
        super().__init__(source, CountdownVerifier(), **kwargs)
        from feedback_gym.envs.countdown_critic import COUNTDOWN_BRIEF
        from feedback_gym.envs.model_critic import bind_feedback

        bind_feedback(self.feedback, "countdown", COUNTDOWN_BRIEF, list(self.feedback_modes))

    def task_from_dict(self, data: Any) -> Task:
        """Accept ``{"numbers": [...], "target": int, "solution"?: str}``."""
        try:
            numbers = [int(n) for n in data["numbers"]]
            target = int(data["target"])
        except (KeyError, TypeError, ValueError):
            raise InvalidTaskError(
                "a Countdown task needs 'numbers' (a list of ints) and 'target' (an int)"
            ) from None
        prompt = (
            f"Using the numbers [{_format_numbers(numbers)}], write an arithmetic expression that "
            f"equals {target}. You may use + - * / and parentheses, and each number at most "
            "once. Put the final expression in <answer>...</answer>."
        )
        return Task(
            id=str(data.get("id", f"countdown-user/{'-'.join(map(str, numbers))}/{target}")),
            prompt=prompt,
            reference=data.get("solution"),
            hidden={"numbers": numbers, "target": target},
            metadata={"source": "user", "numbers": numbers, "target": target},
        )
