"""The generators: deterministic, worked solutions consistent with their own text, sensible answers."""

from __future__ import annotations

import pytest

from feedback_gym.envs.math.arithmetic import evaluate_arithmetic
from feedback_gym.envs.math.generators import FAMILIES, generated_source
from feedback_gym.envs.math.loaders import bundled_source
from feedback_gym.envs.math.numerals import parse_number
from feedback_gym.envs.math.solution import steps_of

COUNT_FAMILIES = ("arithmetic", "fractions_percentages", "rates_work")


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("level", [1, 2, 3])
def test_step_text_agrees_with_step_value(family: str, level: int) -> None:
    source = generated_source([family], level, seed=11)
    checked = 0
    for index in range(40):
        task = source.task(index)
        assert task == source.task(index)  # f(seed, index)
        steps = steps_of(task)
        assert len(steps) >= 1 + (level > 1)
        for step in steps:
            expression = step.text.split(": ", 1)[1].rsplit(" = ", 1)[0]
            value = evaluate_arithmetic(expression.replace("^", "**") if "^" not in expression else "")
            if value is not None:
                assert value == step.value, (task.id, step.text)
                checked += 1
        if family in COUNT_FAMILIES:
            answer = parse_number(str(task.reference))
            assert answer is not None and answer >= 0, (task.id, task.prompt)
    assert checked > 0


def test_difficulty_grows_with_level() -> None:
    """Level 3 takes more steps or bigger numbers than level 1 (and never fewer steps)."""
    from feedback_gym.envs.math.numerals import find_numbers

    for family in FAMILIES:
        profile = []
        for level in (1, 3):
            tasks = [generated_source([family], level, seed=0).task(i) for i in range(30)]
            steps = sum(len(steps_of(t)) for t in tasks) / 30
            spread = sum(max(abs(n.value) for n in find_numbers(t.prompt.split("\n")[0])) for t in tasks) / 30
            distinct = len({abs(s.value.denominator) for t in tasks for s in steps_of(t)})
            profile.append((steps, spread, distinct))
        (steps_1, spread_1, dens_1), (steps_3, spread_3, dens_3) = profile
        assert steps_1 <= steps_3, (family, profile)
        assert steps_1 < steps_3 or spread_1 < spread_3 or dens_1 < dens_3, (family, profile)


def test_seeds_give_different_problems() -> None:
    a = [generated_source(seed=0).task(i).prompt for i in range(20)]
    b = [generated_source(seed=1).task(i).prompt for i in range(20)]
    assert a != b and len(set(a)) == 20


def test_bundled_steps_are_consistent() -> None:
    for task in bundled_source():
        for step in steps_of(task):
            expression = step.text.split(": ", 1)[1].rsplit(" = ", 1)[0]
            assert evaluate_arithmetic(expression) == step.value, (task.id, step.text)
