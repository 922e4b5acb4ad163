"""Other families' tasks played with tools: maths problems with a calculator, code tasks with python.

An adapter wraps another family's environment and uses only its public parts: its task source, its
verifier (which judges the final answer exactly as that family would) and its prompt. Each task gets
an oracle tool-call sequence built from the family's own reference action: the calculator redoes a
worked solution's arithmetic step by step; python runs the reference program against the visible
examples before it is submitted. The maths and code families are imported only when an adapter is
built, so the tool-use family does not depend on them otherwise.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from feedback_gym.envs.tools.calculator import evaluate, format_number
from feedback_gym.envs.tools.calls import SUBMIT_TOOL
from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.errors import ConfigError
from feedback_gym.tasks import Task, TaskSource
from feedback_gym.verdict import Verdict

_STEP = re.compile(r"^(?:[^:=\n]*:)?\s*([-+*/()\d.\s^%]+?)\s*=\s*(-?[\d.,]+)\s*$")


def calculator_steps(worked_solution: str) -> list[str]:
    r"""The arithmetic of a worked solution, one calculator expression per step that checks out.

    A line ``label: 12 * 24 = 288`` gives ``12 * 24`` when the calculator agrees that it is 288;
    lines that are not plain arithmetic are skipped.

    >>> calculator_steps("Rolls baked: 12 * 24 = 288\nRolls left: 288 - 230 = 58\nAnswer: \\boxed{58}")
    ['12 * 24', '288 - 230']
    >>> calculator_steps("Let x be the price.\n2x = 10")
    []
    """
    steps = []
    for line in worked_solution.splitlines():
        match = _STEP.match(line.strip())
        if not match:
            continue
        expression, value = match.group(1).strip(), match.group(2).replace(",", "")
        try:
            got, wanted = float(format_number(evaluate(expression))), float(value)
            if abs(got - wanted) <= 1e-9 * max(1.0, abs(wanted)):
                steps.append(expression)
        except (ToolError, ValueError):
            continue
    return steps


class AdaptedSource:
    """A task source that converts each task of another source on the way out."""

    def __init__(self, name: str, inner: TaskSource, convert: Callable[[Task], Task]) -> None:
        self.name = name
        self.inner = inner
        self._convert = convert

    @property
    def size(self) -> int | None:
        """The inner source's size."""
        return self.inner.size

    def task(self, index: int) -> Task:
        """The converted task at ``index``."""
        return self._convert(self.inner.task(index))

    def get(self, task_id: str) -> Task:
        """The converted task with this id (ids are the inner source's)."""
        return self._convert(self.inner.get(task_id))


class FamilyAdapter:
    """Plays another family's tasks with tools; that family's verifier judges the final answer.

    Subclasses say how a task's prompt reads, how the oracle's tool calls are built, and how the
    agent's answer is handed to the family's verifier.
    """

    family = "family"
    default_feedback = "binary"

    def __init__(self, env: Any) -> None:
        self.env = env
        self.source = AdaptedSource(f"tools-{self.family}/{env.source.name}", env.source, self.convert)

    def convert(self, inner: Task) -> Task:
        """The tool-use task for ``inner``: its prompt, the oracle plan, the inner task (hidden)."""
        plan = [*self.plan(inner), {"tool": SUBMIT_TOOL, "arguments": {"answer": self.oracle_answer(inner)}}]
        return Task(
            id=inner.id,
            prompt=self.prompt(inner),
            reference={"answer": inner.reference, "oracle": plan},
            hidden={"answer_type": "delegate", "inner": inner, "key_facts": [], "tolerance": 0.0},
            metadata={**inner.public_metadata(), "family": self.family, "database": None,
                      "tools": sorted({step["tool"] for step in plan[:-1]})},
        )

    def judge(self, inner: Task, answer: str) -> Verdict:
        """The family's verdict on the submitted answer, marked as an answer for the budgets."""
        verdict = self.env.verifier.verify(inner, self.as_action(answer))
        return dataclasses.replace(verdict, evidence={**verdict.evidence, "answer": answer})

    def close(self) -> None:
        """Close the wrapped environment (and its sandbox)."""
        self.env.close()

    # hooks
    def prompt(self, inner: Task) -> str:
        """The question shown to the agent."""
        raise NotImplementedError

    def plan(self, inner: Task) -> Sequence[dict[str, Any]]:
        """The oracle's tool calls before it submits."""
        raise NotImplementedError

    def oracle_answer(self, inner: Task) -> str:
        """What the oracle submits."""
        raise NotImplementedError

    def as_action(self, answer: str) -> str:
        """The family's action for a submitted answer."""
        return answer

    def plain_answer(self, reply: str) -> bool:
        """Whether a reply with no tool call is still a final answer in the family's own form."""
        return False


class MathAdapter(FamilyAdapter):
    """Maths word problems (the maths family's sources) with the calculator at hand."""

    family = "math"

    def __init__(self, source: str = "bundled", seed: int = 0, **math_kwargs: Any) -> None:
        from feedback_gym.envs.math.env import MathCritiqueEnv

        super().__init__(MathCritiqueEnv(source, seed=seed, max_turns=1, **math_kwargs))

    def prompt(self, inner: Task) -> str:
        """The problem; the tool protocol's own instructions follow it."""
        return inner.prompt

    def plan(self, inner: Task) -> list[dict[str, Any]]:
        """One calculator call per arithmetic step of the worked solution."""
        steps = calculator_steps(self.env.verifier.reference_action(inner))
        return [{"tool": "calculator", "arguments": {"expression": e}} for e in steps]

    def oracle_answer(self, inner: Task) -> str:
        """The reference answer."""
        return str(inner.reference)

    def as_action(self, answer: str) -> str:
        """The maths verifier's boxed form (its ``Answer:``-line reader drops a leading minus sign)."""
        return answer if "\\boxed" in answer else f"Answer: \\boxed{{{answer}}}"


class CodeAdapter(FamilyAdapter):
    """Programming tasks (the code family's sources) with a python tool to try code before submitting."""

    family = "code"
    default_feedback = "tests"

    def __init__(
        self, tasks: str = "bundled", seed: int = 0, sandbox: Any = "local", **code_kwargs: Any
    ) -> None:
        from feedback_gym.envs.code.env import CodeFeedbackEnv

        super().__init__(CodeFeedbackEnv(tasks, seed=seed, sandbox=sandbox, max_turns=1, **code_kwargs))

    def prompt(self, inner: Task) -> str:
        """The code family's prompt (task and visible examples), told how to submit here."""
        return (
            f"{self.env.format_prompt(inner)}\n\nYou may try code with the python tool first. Submit the "
            "final program inside <answer>...</answer> (a fenced code block inside is fine); hidden "
            "tests decide."
        )

    def plan(self, inner: Task) -> list[dict[str, Any]]:
        """Run the reference on the visible examples (Python function tasks), then submit."""
        meta = inner.metadata
        runnable = meta.get("language") == "python" and meta.get("style") == "function"
        if not runnable or not isinstance(inner.reference, str):
            return []
        checks = "\n".join(meta.get("visible_tests", ()))
        entry = meta["entry_point"]
        code = f"{inner.reference.rstrip()}\n\ncandidate = {entry}\n{checks}\nprint('examples pass')"
        return [{"tool": "python", "arguments": {"code": code}}]

    def plain_answer(self, reply: str) -> bool:
        """A reply holding a fenced code block is a submitted program, as the code family's prompt asks."""
        return "```" in reply

    def oracle_answer(self, inner: Task) -> str:
        """The code family's reference action (the program in a fenced block)."""
        return self.env.verifier.reference_action(inner)


ADAPTERS: dict[str, Callable[..., FamilyAdapter]] = {"math": MathAdapter, "code": CodeAdapter}


def make_adapter(name: str, **kwargs: Any) -> FamilyAdapter:
    """Build the adapter named ``name`` (``"math"`` or ``"code"``)."""
    if name not in ADAPTERS:
        raise ConfigError(f"unknown family {name!r}; accepted: {', '.join(ADAPTERS)}")
    return ADAPTERS[name](**kwargs)
