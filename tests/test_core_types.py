"""Tasks, sources, verdicts and text cleaning: the records the loop passes around."""

from __future__ import annotations

import json

import pytest

from feedback_gym.errors import ConfigError, InvalidTaskError, UnknownTaskError
from feedback_gym.tasks import GeneratedTaskSource, ListTaskSource, Task, read_jsonl
from feedback_gym.text import charset, clean_text, text_space
from feedback_gym.verdict import CheckResult, Verdict


def test_task_is_immutable_all_the_way_down() -> None:
    task = Task("t", "p", hidden={"tests": ["a"]}, metadata={"tags": ["x"]})
    with pytest.raises(AttributeError):
        task.prompt = "q"  # type: ignore[misc]
    with pytest.raises(TypeError):
        task.hidden["tests"] = []  # type: ignore[index]
    assert task.hidden["tests"] == ("a",)
    assert task.public_metadata() == {"tags": ["x"]}
    with pytest.raises(InvalidTaskError):
        Task("t", "   ")


def test_list_source_rejects_duplicates_and_names_unknown_ids() -> None:
    with pytest.raises(ConfigError, match="duplicate"):
        ListTaskSource("s", [Task("a", "p"), Task("a", "q")])
    with pytest.raises(ConfigError, match="no tasks"):
        ListTaskSource("s", [])
    source = ListTaskSource("s", [Task("a", "p"), Task("b", "q")])
    with pytest.raises(UnknownTaskError, match="'zz'.*2 tasks"):
        source.get("zz")
    assert source.subset(["b"]).ids() == ["b"]


def test_generated_source_is_a_function_of_seed_and_index() -> None:
    def make(rng, index):
        return Task("ignored", f"n={rng.random()}")

    a, b = GeneratedTaskSource("g", make, seed=1), GeneratedTaskSource("g", make, seed=2)
    assert a.task(3) == a.task(3) and a.task(3) != a.task(4) and a.task(3) != b.task(3)
    assert a.task(3).id == "g/1/3" and a.get("g/2/3") == b.task(3)
    with pytest.raises(UnknownTaskError):
        a.get("other/1/3")
    with pytest.raises(ConfigError):
        GeneratedTaskSource("g", make, seed=-1)


def test_read_jsonl_reports_the_bad_line(tmp_path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"a": 1}) + "\n\n{not json}\n")
    with pytest.raises(ConfigError, match=r"tasks.jsonl:3"):
        read_jsonl(path)
    path.write_text(json.dumps({"a": 1}) + "\n")
    assert read_jsonl(path) == [{"a": 1}]


def test_verdict_validates_its_score() -> None:
    with pytest.raises(ValueError):
        Verdict(False, 1.5)
    with pytest.raises(ValueError):
        Verdict(True, 0.5)
    with pytest.raises(ValueError):
        Verdict(False, float("nan"))
    verdict = Verdict(False, 0.5, checks=[CheckResult("a", True), CheckResult("b", False)])
    assert verdict.passed == 1 and [c.name for c in verdict.failed_checks] == ["b"]
    assert verdict.public()["checks_total"] == 2


@pytest.mark.parametrize(
    "text",
    ["\x00\x01\x1b", "\ud800\udfff", "emoji 😀 and CJK 漢字", "tab\tnew\nline\r\n", "x" * 200_000],
)
def test_clean_text_always_lands_in_the_space(text: str) -> None:
    space = text_space(100_000)
    cleaned = clean_text(text)
    assert space.contains(cleaned)
    assert len(cleaned) <= 100_000


def test_clean_text_keeps_what_it_can_and_marks_the_rest() -> None:
    assert clean_text("déjà vu ∑ → ok") == "déjà vu ∑ → ok"
    assert "\\u{1f600}" in clean_text("😀")
    assert "cut" in clean_text("y" * 300, max_chars=100)
    assert len(charset()) == len(set(charset()))
