"""The serving benchmark runs end to end on a tiny budget and reports both sides (not a timed test)."""

from __future__ import annotations

import pytest

pytest.importorskip("openenv.core")


@pytest.mark.slow
def test_the_serving_benchmark_measures_in_process_and_served_steps(capsys):
    from feedback_gym.benchmarks.serve_perf import main

    # Two sessions (one server start), two episodes: the smallest run with concurrent sessions.
    assert main(["--envs", "MathCritique-v0", "--sessions", "2", "--episodes", "2"]) == 0
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if line.startswith("| MathCritique-v0")]
    assert [row.split("|")[2].strip() for row in rows] == ["in-process", "served"]
    assert all(int(row.split("|")[4]) >= 2 for row in rows)  # every episode's steps were timed
    assert "load average" in table
