"""Loaders on small local fixtures written in the real schemas (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback_gym.envs.code.loaders import (
    load_apps,
    load_codecontests,
    load_humaneval,
    load_mbpp,
    read_records,
    split_check,
)
from feedback_gym.errors import ConfigError, InvalidTaskError

FIXTURES = Path(__file__).parent / "fixtures"


def test_humaneval_from_the_installed_package() -> None:
    source = load_humaneval()
    assert source.size == 164
    assert source.ids()[:2] == ["HumanEval/0", "HumanEval/1"]
    task = source.get("HumanEval/0")
    assert task.metadata["entry_point"] == "has_close_elements"
    assert len(task.hidden["tests"]) == 7  # its check() holds seven asserts
    assert all("candidate(" in t for t in task.hidden["tests"])
    assert task.reference.startswith("from typing import List")


def test_split_check_keeps_setup_and_loop_tests() -> None:
    source = (
        "import math\nMETADATA = {}\n\ndef check(candidate):\n"
        "    xs = [1, 2]\n    assert candidate(xs) == 3\n"
        "    for i in range(3):\n        assert candidate([i]) == i\n    assert True\n"
    )
    setup, tests = split_check(source)
    assert setup == "import math\nMETADATA = {}"
    assert tests == [
        "xs = [1, 2]\nassert candidate(xs) == 3",
        "xs = [1, 2]\nfor i in range(3):\n    assert candidate([i]) == i",
    ]


def test_split_check_renames_a_differently_named_parameter() -> None:
    _, tests = split_check("def check(f):\n    assert f(1) == 1\n")
    assert tests == ["f = candidate\nassert f(1) == 1"]


@pytest.mark.parametrize("bad", ["def check(c):\n    pass\n", "x = (", "def other(c):\n    assert c()\n"])
def test_split_check_refuses_unusable_tests(bad: str) -> None:
    with pytest.raises(InvalidTaskError):
        split_check(bad)


def test_mbpp_fixture() -> None:
    source = load_mbpp(FIXTURES / "mbpp_sample.jsonl")
    assert source.ids() == ["mbpp/2", "mbpp/3", "mbpp/4"]
    task = source.get("mbpp/4")
    assert task.metadata["entry_point"] == "heap_queue_largest"
    assert len(task.hidden["tests"]) == 3
    assert list(task.metadata["visible_tests"]) == [task.hidden["tests"][0]]
    assert source.get("mbpp/2").metadata["entry_point"] == "similar_elements"  # not `set`
    assert "heap queue" in task.prompt


def test_apps_fixture_skips_call_based_records() -> None:
    source = load_apps(FIXTURES / "apps_sample.jsonl")
    assert source.ids() == ["apps/4001", "apps/4002"]
    task = source.get("apps/4001")
    assert task.metadata["style"] == "io"
    assert task.hidden["cases"][1] == ("10 20\n", "30\n")
    assert task.reference.startswith("a, b = map(int")
    assert task.metadata["difficulty"] == "introductory"


@pytest.mark.parametrize(("language", "marker"), [("python", "print(max"), ("cpp", "#include")])
def test_codecontests_fixture(language: str, marker: str) -> None:
    source = load_codecontests(FIXTURES / "codecontests_sample.jsonl", language=language)
    task = source.task(0)
    assert task.id == "codecontests/1_A. Max of two"
    assert task.metadata["language"] == language
    assert len(task.hidden["cases"]) == 5  # public + private + generated
    assert marker in task.reference


def test_missing_local_file_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no such task file"):
        read_records("./nope.jsonl")
