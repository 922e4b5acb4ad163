"""The maths verifier: extract the final answer, compare it with the reference, return a verdict."""

from __future__ import annotations

from feedback_gym.envs.math.equivalence import DEFAULT_REL_TOL, DEFAULT_TIMEOUT, answers_equal
from feedback_gym.envs.math.extraction import extract_answer
from feedback_gym.envs.math.solution import steps_of, worked_text
from feedback_gym.errors import ConfigError, MissingReferenceError
from feedback_gym.tasks import Task
from feedback_gym.verdict import WRONG_ANSWER, CheckResult, Verdict

NO_ANSWER = "no final answer was found; end with a line 'Answer: <your answer>' or put it in \\boxed{...}"


class MathVerifier:
    """Judges a maths reply by its final answer (symbolic equivalence, or a reasoning-gym scorer).

    Args:
        rel_tol: Relative tolerance for numeric answers.
        timeout: Seconds a symbolic comparison may take (it runs in a worker that is killed after).
        use_math_verify: Ask math-verify, when installed, about answers our own reader cannot parse.
    """

    def __init__(
        self, rel_tol: float = DEFAULT_REL_TOL, timeout: float = DEFAULT_TIMEOUT, use_math_verify: bool = True
    ) -> None:
        if not 0 <= rel_tol < 1:
            raise ConfigError(f"rel_tol must be in [0, 1); got {rel_tol!r}")
        if not timeout > 0:
            raise ConfigError(f"timeout must be > 0 seconds; got {timeout!r}")
        self.rel_tol = rel_tol
        self.timeout = timeout
        self.use_math_verify = use_math_verify

    def verify(self, task: Task, action: str) -> Verdict:
        """Judge ``action``; never raises on malformed text."""
        extracted = extract_answer(action)
        if extracted is None:
            return Verdict.invalid(NO_ANSWER)
        if "reasoning_gym" in task.hidden:
            from feedback_gym.envs.math.reasoning import score_answer

            score = score_answer(task, extracted.text)
            solved = score >= 1.0
            method = "reasoning-gym"
        else:
            reference = str(task.reference if task.reference is not None else task.hidden.get("answer", ""))
            result = answers_equal(
                extracted.text,
                reference,
                rel_tol=self.rel_tol,
                timeout=self.timeout,
                use_math_verify=self.use_math_verify,
            )
            solved, score, method = result.equal, 1.0 if result.equal else 0.0, result.method
        return Verdict(
            solved,
            1.0 if solved else min(max(score, 0.0), 0.99),
            checks=(CheckResult("final answer", solved, got=extracted.text),),
            error_kind=None if solved else WRONG_ANSWER,
            evidence={"extraction": extracted.method, "equivalence": method},
            parsed=extracted.text,
        )

    def reference_action(self, task: Task) -> str:
        """The worked solution ending in a boxed answer (or just the boxed answer)."""
        answer = task.reference if task.reference is not None else task.hidden.get("answer")
        if answer is None or not str(answer).strip():
            raise MissingReferenceError(f"task {task.id!r} has no reference answer")
        return worked_text(steps_of(task), str(answer))
