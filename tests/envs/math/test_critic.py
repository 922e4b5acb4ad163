"""The reference-guided critic: localisation of injected errors, leak filtering, in-place marking."""

from __future__ import annotations

import functools
import re
from fractions import Fraction

import pytest

from feedback_gym.envs.math.critic import arithmetic_slip, critique, diagnose
from feedback_gym.envs.math.generators import FAMILIES, generated_source
from feedback_gym.envs.math.in_place import MARKER, InPlaceFeedback
from feedback_gym.envs.math.leaks import LeakFilter
from feedback_gym.envs.math.numerals import find_numbers, format_number
from feedback_gym.envs.math.solution import math_task, step, steps_of
from feedback_gym.envs.math.verifier import MathVerifier
from feedback_gym.feedback import FeedbackContext
from feedback_gym.tasks import Task

VERIFIER = MathVerifier()


def _replace_value(text: str, old: Fraction, new: Fraction) -> str:
    """Replace the number ``old`` (as a whole token) by ``new`` in a line."""
    out, last = [], 0
    for found in find_numbers(text):
        if found.value == old:
            out.append(text[last : found.start])
            out.append(
                format_number(new)
                if new >= 0 or found.text.lstrip()[:1] in "-−"
                else f"({format_number(new)})"
            )
            last = found.end
    out.append(text[last:])
    return "".join(out)


def inject_error(task: Task, k: int) -> tuple[str, int]:
    """The worked solution with step ``k``'s result made wrong and the error carried forward.

    Returns the solution text and the index of the line that holds the injected error.
    """
    steps = steps_of(task)
    reference_values = {s.value for s in steps} | {v.value for v in find_numbers(task.prompt)}
    wrong: dict[Fraction, Fraction] = {}
    lines = []
    for j, s in enumerate(steps):
        head, _, result = s.text.rpartition("=")
        if j < k:
            lines.append(s.text)
            continue
        for old, new in wrong.items():
            head = _replace_value(head, old, new)
        bump = Fraction(1000 + 37 * j)
        new_value = s.value + bump
        while new_value in reference_values or new_value in wrong.values():
            new_value += 1
        wrong[s.value] = new_value
        lines.append(f"{head}= {format_number(new_value)}")
    lines.append(f"Answer: {format_number(wrong[steps[-1].value])}" if len(steps) else "Answer: 0")
    return "\n".join(lines), k


#: (family, difficulty, index) of the generated tasks checked here; the tasks are built on first use.
TASKS = [(family, level, i) for family in FAMILIES for level in (1, 2, 3) for i in range(6)]


def _name(case: tuple[str, int, int]) -> str:
    family, level, index = case
    return f"{family}-d{level}-{index}"


@functools.cache
def generated_task(family: str, level: int, index: int) -> Task:
    return generated_source([family], level, seed=7).task(index)


@pytest.mark.parametrize("case", TASKS, ids=_name)
def test_critic_points_at_the_injected_step(case: tuple[str, int, int]) -> None:
    task = generated_task(*case)
    steps = steps_of(task)
    for k in range(len(steps)):
        attempt, line_index = inject_error(task, k)
        verdict = VERIFIER.verify(task, attempt)
        if verdict.solved:  # e.g. a set answer unchanged by the error: nothing to critique
            continue
        diagnosis = diagnose(task, attempt, verdict)
        assert diagnosis.status == "step", (k, attempt, diagnosis)
        assert diagnosis.step_index == k, (k, attempt, diagnosis)
        assert diagnosis.line_index == line_index, (k, attempt, diagnosis)


@pytest.mark.parametrize("case", TASKS[::4], ids=_name)
def test_critique_names_the_line_and_never_leaks(case: tuple[str, int, int]) -> None:
    task = generated_task(*case)
    steps = steps_of(task)
    answer_numbers = {v.value for v in find_numbers(str(task.reference))}
    for k in range(len(steps)):
        attempt, line_index = inject_error(task, k)
        verdict = VERIFIER.verify(task, attempt)
        if verdict.solved:
            continue
        raw = critique(task, attempt, verdict, leak_filter=False).text
        result = critique(task, attempt, verdict)
        quoted = attempt.splitlines()[line_index].strip()
        assert quoted[:60] in result.text
        assert result.redactions == 0, (raw, task.reference)  # the critic's own words never leak
        assert result.text == raw
        authored = result.text.replace(quoted, "")
        stated = {m.value for m in find_numbers(authored)}
        attempt_values = {m.value for m in find_numbers(attempt)} | {
            m.value for m in find_numbers(task.prompt)
        }
        assert not (stated & (answer_numbers - attempt_values))


def test_arithmetic_slip_is_named_without_the_right_result() -> None:
    task = math_task(
        "t",
        "Ann has 197 eggs and sells 63. How many are left?",
        "134",
        [step("eggs left", "197 - 63", 134)],
        source="test",
    )
    attempt = "Eggs left: 197 - 63 = 135\nAnswer: 135"
    verdict = VERIFIER.verify(task, attempt)
    text = critique(task, attempt, verdict).text
    assert "197 - 63 = 135 is not right" in text
    assert "134" not in text
    assert arithmetic_slip("2 * 3 = 6") is None


def test_leak_filter_redacts_answers_in_every_form() -> None:
    task = math_task(
        "t",
        "What is 6 * 7 + 1?",
        "43",
        [step("the product", "6 * 7", 42), step("the sum", "42 + 1", 43)],
        source="test",
    )
    leaky = "The answer is 43, i.e. forty-three or 43.0 or 86/2 or -43; the product is 42."
    scrubbed = LeakFilter(task, "6 * 7 = 41").scrub(leaky)
    assert scrubbed.redactions == 6
    assert not re.search(r"43|forty|86/2|42", scrubbed.text)
    # a value the agent already has is no leak; the answer always is
    assert (
        LeakFilter(task, "6 * 7 = 42").scrub("your 42 is fine, 43 is not").text
        == "your 42 is fine, [...] is not"
    )


def test_leak_filter_redacts_symbolic_answers() -> None:
    task = math_task("t", "Expand (x+1)^2.", "x^2 + 2x + 1", source="test")
    scrubbed = LeakFilter(task).scrub("You should get x^2+2x+1 here.")
    assert scrubbed.redactions == 1 and "x^2" not in scrubbed.text


def test_in_place_marks_only_the_wrong_line() -> None:
    task = generated_source(["arithmetic"], 3, seed=1).task(0)
    attempt, line_index = inject_error(task, 2)
    verdict = VERIFIER.verify(task, attempt)
    mode = InPlaceFeedback()
    rendered = mode(verdict, FeedbackContext(task=task, action=attempt, turn=1, max_turns=3))
    text = rendered.text
    body, _, left = text.split("\n\n", 1)[1].rpartition("\n")
    assert left == "(2 attempts left)"
    body = body.splitlines()
    original = attempt.splitlines()
    assert len(body) == len(original)
    for index, (shown, before) in enumerate(zip(body, original, strict=True)):
        if index == line_index:
            assert shown.startswith(before.rstrip()) and MARKER in shown
        else:
            assert shown == before
    assert rendered.details["step_index"] == 2
    assert task.reference not in text.split(MARKER, 1)[1]


def test_no_work_and_final_answer_cases() -> None:
    task = generated_source(["rates_work"], 1).task(0)
    verdict = VERIFIER.verify(task, "Answer: 3")
    assert diagnose(task, "Answer: 3", verdict).status == "no_work"
    lines = VERIFIER.reference_action(task).splitlines()
    attempt = "\n".join(lines[:-1] + ["Answer: 1"])
    verdict = VERIFIER.verify(task, attempt)
    assert diagnose(task, attempt, verdict).status == "final"


def test_leak_filter_catches_rounded_decimals_and_percents() -> None:
    task = math_task(
        "t",
        "Share 16 cakes among 3 people.",
        "16/3",
        [step("each share", "16 / 3", Fraction(16, 3))],
        source="test",
    )
    scrubbed = LeakFilter(task, "16 / 3 = 6").scrub(
        "Each gets about 5.33, or 5.3333, or \\frac{16}{3}; not 5 or 6."
    )
    assert scrubbed.redactions == 3 and "5.33" not in scrubbed.text and "not 5 or 6" in scrubbed.text
    quarter = math_task("q", "What share is 1 of 4?", "0.25", source="test")
    assert LeakFilter(quarter).scrub("It is 25% of the whole.").redactions == 1
    assert LeakFilter(quarter).scrub("It is 2.5 of something.").redactions == 0


@pytest.mark.parametrize("case", TASKS[::3], ids=_name)
def test_localisation_survives_paraphrase(case: tuple[str, int, int]) -> None:
    """Free-form lines ("Next, 12 * 24 gives 288 in all.") are matched by the numbers they conclude."""
    task = generated_task(*case)
    steps = steps_of(task)
    for k in range(len(steps)):
        attempt, line_index = inject_error(task, k)
        lines = attempt.splitlines()
        paraphrased = []
        for line in lines[:-1]:
            expression, _, result = line.split(": ", 1)[1].rpartition("=")
            paraphrased.append(f"Next, {expression.strip()} gives {result.strip()} in all.")
        paraphrased.append(lines[-1])
        text = "\n".join(paraphrased)
        verdict = VERIFIER.verify(task, text)
        if verdict.solved:
            continue
        diagnosis = diagnose(task, text, verdict)
        assert (diagnosis.status, diagnosis.step_index, diagnosis.line_index) == ("step", k, line_index), text
