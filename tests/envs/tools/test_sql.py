"""The sql tool: real answers, and no way to write, attach other files, or run unbounded."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.envs.tools.sql import SqlTool, build_database, resolve_database


@pytest.fixture
def shop() -> SqlTool:
    tool = SqlTool(timeout_s=0.5, max_rows=5)
    tool.use("shop")
    return tool


def test_queries_return_tables(shop: SqlTool) -> None:
    out = shop.sql("SELECT city, COUNT(*) AS n FROM customers GROUP BY city ORDER BY city LIMIT 2")
    assert out == "city | n\nKrakow | 10\nLisbon | 6\n(2 rows)"
    assert "(first 5 rows; more rows not shown)" in shop.sql("SELECT id FROM orders")
    assert "cid | name | type" in shop.sql("PRAGMA table_info(orders)")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("ATTACH DATABASE '/etc/passwd' AS x", "not authorized"),
        ("ATTACH DATABASE ':memory:' AS scratch", "not authorized"),
        ("DELETE FROM orders", "not authorized"),
        ("UPDATE products SET price = 0", "not authorized"),
        ("INSERT INTO customers VALUES (999, 'x', 'y', 2020)", "not authorized"),
        ("DROP TABLE orders", "not authorized"),
        ("CREATE TABLE t (x)", "not authorized"),
        ("CREATE TEMP TABLE t (x)", "not authorized"),
        ("PRAGMA query_only = 0", "not authorized"),
        ("PRAGMA writable_schema = 1", "not authorized"),
        ("VACUUM INTO '/tmp/copy.db'", "authoriz"),
        ("BEGIN", "not authorized"),
        ("SELECT load_extension('/tmp/x.so')", "not authorized"),
        ("SELECT 1; DROP TABLE orders", "one statement at a time"),
        ("SELECT length(randomblob(2000000000))", "too big"),
        ("SELECT zeroblob(500000000)", "too big"),
        ("SELECT * FROM nowhere", "no such table"),
        ("", "empty"),
        ("SELECT " + "1 + " * 3000 + "1", "longer than"),
    ],
)
def test_attacks_and_mistakes_are_refused(shop: SqlTool, query: str, problem: str) -> None:
    with pytest.raises(ToolError, match=problem):
        shop.sql(query)


def test_long_running_queries_are_stopped(shop: SqlTool) -> None:
    for query in (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c",
        "SELECT COUNT(*) FROM order_items a, order_items b, order_items c",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT x FROM c ORDER BY random() LIMIT 1",
        "WITH RECURSIVE r(x) AS (SELECT zeroblob(900000) UNION ALL SELECT x FROM r) "
        "SELECT length(group_concat(x)) FROM r",
    ):
        started = time.perf_counter()
        with pytest.raises(ToolError, match="longer than 0.5 s"):
            shop.sql(query)
        assert time.perf_counter() - started < 3.0


def test_the_database_file_is_untouched(shop: SqlTool) -> None:
    path = resolve_database("shop")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for query in ("DELETE FROM orders", "PRAGMA query_only = 0", "ATTACH DATABASE ':memory:' AS m"):
        with pytest.raises(ToolError):
            shop.sql(query)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert shop.sql("SELECT COUNT(*) FROM orders") == "COUNT(*)\n480\n(1 row)"


def test_no_database_and_user_databases(tmp_path: Path) -> None:
    tool = SqlTool()
    tool.use(None)
    with pytest.raises(ToolError, match="no database"):
        tool.sql("SELECT 1")
    script = tmp_path / "mine.sql"
    script.write_text("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (41); INSERT INTO t VALUES (1);")
    built = build_database(script)
    assert build_database(script) == built  # built once per content
    tool.use(str(script))
    assert tool.sql("SELECT SUM(x) FROM t") == "SUM(x)\n42\n(1 row)"
    tool.use(str(built))
    with pytest.raises(ToolError, match="not authorized"):
        tool.sql("DELETE FROM t")
