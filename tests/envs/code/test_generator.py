"""The procedural source: deterministic, varied, and well-formed."""

from __future__ import annotations

from feedback_gym.envs.code.generator import generated_source


def test_same_seed_same_tasks_and_other_seed_other_tasks() -> None:
    a, b, c = generated_source(1), generated_source(1), generated_source(2)
    assert [a.task(i).prompt for i in range(20)] == [b.task(i).prompt for i in range(20)]
    assert [a.task(i).prompt for i in range(20)] != [c.task(i).prompt for i in range(20)]
    assert a.get("codegen/2/5").prompt == c.task(5).prompt


def test_tasks_are_varied_and_complete() -> None:
    source = generated_source(0)
    tasks = [source.task(i) for i in range(200)]
    assert len({t.reference.split("\n", 1)[1] for t in tasks}) > 150  # bodies differ
    assert {t.metadata["difficulty"] for t in tasks} == {"easy", "medium", "hard"}
    for task in tasks:
        tests = task.hidden["tests"]
        assert len(tests) >= 5 and len(set(tests)) == len(tests)
        assert task.metadata["entry_point"] in task.prompt
