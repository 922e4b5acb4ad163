"""The committed data files are exactly what build_data.py builds, and they load as the tools expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback_gym.envs.tools import build_data
from feedback_gym.envs.tools.search import load_corpus
from feedback_gym.envs.tools.sql import SqlTool


def test_committed_files_match_the_builder(tmp_path: Path) -> None:
    for built in build_data.write_all(tmp_path):
        committed = build_data.DATA_DIR / built.name
        assert committed.read_bytes() == built.read_bytes(), f"{committed} is stale; rebuild it"


def test_bundled_databases_and_corpus_load() -> None:
    tool = SqlTool()
    for database, table, rows in (
        ("shop", "orders", 480),
        ("shop", "products", 30),
        ("weather", "readings", 1080),
    ):
        tool.use(database)
        assert tool.sql(f"SELECT COUNT(*) FROM {table}") == f"COUNT(*)\n{rows}\n(1 row)"
    corpus = load_corpus()
    kinds = {d.id.split("/")[0] for d in corpus.documents}
    assert kinds == {"town", "river", "person"} and len(corpus.documents) == 68


@pytest.mark.slow
def test_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from feedback_gym.envs.tools import benchmark

    assert benchmark.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "| malformed reply (baseline) |" in out and "| python, 5 earlier cells replayed |" in out
    assert out.count("\n| generated") == 2 and "| handwritten |" in out
