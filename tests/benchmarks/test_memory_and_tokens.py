"""The runner's Reflexion memory (trials of one task opened by reflections) and its token accounting."""

from __future__ import annotations

import json

import pytest

from feedback_gym.benchmarks.runner import EPISODES_FILE, BenchConfig, run_benchmark
from feedback_gym.benchmarks.suites import SUITES, Suite, SuiteEntry, get_suite
from feedback_gym.errors import ConfigError

P = "python:tests.benchmarks.policies:"


def test_reflexion_trials_carry_the_policys_own_reflection_into_the_next_trial(tmp_path):
    suite = Suite("mem-v0", (SuiteEntry("Countdown-v0", {"feedback": "binary", "max_turns": 1}, (0, 1),
                                        control=False, memory={"trials": 3, "reflector": "self"}),))
    config = BenchConfig(P + "OracleAfterReflection", suite, tmp_path, workers=1, batch_size=2)
    summary = run_benchmark(config, progress=False)
    records = [json.loads(line) for line in (tmp_path / EPISODES_FILE).read_text().splitlines()]
    assert len(records) == 2 and all(r["error"] is None for r in records)
    for record in records:
        assert [t["solved"] for t in record["trials"]] == [False, True]  # solved once it remembered
        assert "I reused a wrong expression" in record["trials"][0]["reflection"]
        assert record["messages"][0]["content"].startswith("Reflections from your earlier attempts")
        assert record["metrics"]["tokens"] == 9 and record["metrics"]["total_tokens"] == 39  # both trials
    env = summary["envs"]["Countdown-v0[binary][reflexion x3]"]["multi_turn"]
    assert env["success_by_trial"] == [0.0, 1.0] and env["success@k"] == 1.0


def test_token_accounting_counts_prompt_and_completion_per_solved_task(tmp_path):
    suite = Suite("tok-v0", (SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 3}, (0, 1),
                                        control=False),))
    summary = run_benchmark(BenchConfig(P + "WrongThenOracle", suite, tmp_path, workers=1, batch_size=2),
                            progress=False)
    overall = summary["overall"]
    # two episodes, each two turns of 10 prompt + 5 completion tokens, both solved
    assert overall["tokens"] == 20 and overall["prompt_tokens"] == 40 and overall["total_tokens"] == 60
    assert overall["total_tokens_per_solved"] == 30.0
    board = (tmp_path / "leaderboard.md").read_text()
    assert "total tokens/solved" in board and "| 30 |" in board


def test_memory_entries_are_checked_and_the_suite_is_built_in():
    assert "reflexion-v0" in SUITES and get_suite("reflexion-v0").entries[0].memory["trials"] == 3
    with pytest.raises(ConfigError, match="unknown memory keys"):
        SuiteEntry("Countdown-v0", memory={"trails": 3})
    entry = SuiteEntry.from_dict(SuiteEntry("Countdown-v0", memory={"trials": 2}).to_dict())
    assert entry.memory == {"trials": 2, "reflector": "self", "max_reflections": 3}
    assert next(entry.episodes()).memory == entry.memory
