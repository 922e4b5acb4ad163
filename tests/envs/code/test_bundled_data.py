"""The bundled task set: sizes, styles, difficulty spread, and that every task is complete and distinct."""

from __future__ import annotations

from collections import Counter

from feedback_gym.envs.code.sources import load_bundled


def test_sizes_styles_and_difficulties() -> None:
    python, compiled = load_bundled("bundled"), load_bundled("bundled-c-cpp")
    assert python.size >= 100 and compiled.size >= 30
    styles = Counter(t.metadata["style"] for t in python)
    assert styles["function"] >= 50 and styles["io"] >= 30
    languages = Counter(t.metadata["language"] for t in compiled)
    assert languages["c"] >= 10 and languages["cpp"] >= 10
    for source in (python, compiled):
        assert set(Counter(t.metadata["difficulty"] for t in source)) == {"easy", "medium", "hard"}


def test_every_task_has_a_reference_and_five_distinct_tests() -> None:
    for source in (load_bundled("bundled"), load_bundled("bundled-c-cpp")):
        for task in source:
            assert task.reference, task.id
            tests = task.hidden.get("tests") or task.hidden.get("cases")
            assert len(set(map(str, tests))) >= 5, task.id
            if task.metadata["style"] == "io":  # the cases must tell programs apart
                assert len({out for _, out in tests}) >= 2, task.id


def test_tasks_are_distinct() -> None:
    python, compiled = load_bundled("bundled"), load_bundled("bundled-c-cpp")
    for source in (python, compiled):
        assert len({t.prompt for t in source}) == source.size
        assert len({t.reference for t in source}) == source.size


def test_hidden_material_is_not_in_public_metadata() -> None:
    for task in load_bundled("bundled"):
        public = str(task.public_metadata())
        assert task.reference not in public
        for test in task.hidden.get("tests", ())[len(task.metadata["visible_tests"]):]:
            assert test not in public
