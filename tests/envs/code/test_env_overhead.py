"""The overhead benchmark runs end to end and replays steps faithfully (no timing targets here)."""

from __future__ import annotations

from feedback_gym.benchmarks import env_overhead


def test_benchmark_measures_every_task_kind(capsys) -> None:
    cases = [(label, cls, ids[:1]) for label, cls, ids in env_overhead.CASES]
    original = env_overhead.CASES
    env_overhead.CASES = cases
    try:
        assert env_overhead.main(["--rounds", "1"]) == 0
    finally:
        env_overhead.CASES = original
    out = capsys.readouterr().out
    assert "| task kind |" in out
    rows = [line for line in out.splitlines() if line.startswith("| python") or line.startswith("| C/C++")]
    assert len(rows) == 3
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert int(cells[1]) == 2  # one task, a right and a wrong program
        assert float(cells[2]) > 0 and float(cells[3]) > 0
