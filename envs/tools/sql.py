"""The sql tool: one read-only query against the task's SQLite database, with bounded time and output.

Read-only is enforced three times over, because any one layer alone has gaps: the database file is
opened with a ``mode=ro`` URI, the connection sets ``PRAGMA query_only``, and an authorizer allows
only reading (``SELECT``, reads, functions, recursive CTEs and a few schema pragmas), which also
refuses ``ATTACH`` (reading other files) and any pragma that could undo the others. A progress
handler interrupts a query that runs past its time budget, ``SQLITE_LIMIT_LENGTH`` caps the size of
any one value (``randomblob(1e9)``), and at most ``max_rows`` rows are fetched.

Bundled databases are shipped as SQL text (``data/shop.sql``, ``data/weather.sql``) and built once
per content hash into a cache directory; a task may also name its own ``.sqlite``/``.db`` file or
``.sql`` script.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from feedback_gym.envs.tools.registry import ToolError
from feedback_gym.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"
BUNDLED_DATABASES = ("shop", "weather")
DEFAULT_TIMEOUT_S = 1.0
DEFAULT_MAX_ROWS = 50
MAX_VALUE_BYTES = 1_000_000
MAX_QUERY_CHARS = 5000

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
if hasattr(sqlite3, "SQLITE_RECURSIVE"):
    _ALLOWED_ACTIONS.add(sqlite3.SQLITE_RECURSIVE)
#: Pragmas that only describe the schema (and are read without an argument).
SCHEMA_PRAGMAS = frozenset({"table_info", "table_xinfo", "table_list", "index_list", "index_info",
                            "foreign_key_list"})


def cache_dir() -> Path:
    """Where bundled databases are built: ``$FEEDBACK_GYM_CACHE/tools`` or the temp dir."""
    default = os.path.join(tempfile.gettempdir(), f"feedback-gym-{os.getuid()}")
    root = os.environ.get("FEEDBACK_GYM_CACHE") or default
    return Path(root) / "tools"


def build_database(script: Path) -> Path:
    """Build (once per content hash) the SQLite file of a ``.sql`` script; return its path."""
    text = script.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    target = cache_dir() / f"{script.stem}-{digest}.sqlite"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(fd)
    try:
        connection = sqlite3.connect(partial)
        try:
            connection.executescript(text)
            connection.commit()
        finally:
            connection.close()
        os.chmod(partial, 0o444)
        os.replace(partial, target)  # atomic: concurrent builders all end with the same file
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def resolve_database(spec: str) -> Path:
    """The SQLite file for a task's ``database``: a bundled name, a ``.sql`` script or a database file."""
    if spec in BUNDLED_DATABASES:
        return build_database(DATA_DIR / f"{spec}.sql")
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"database {spec!r} is neither a bundled database ({', '.join(BUNDLED_DATABASES)}) nor a file"
        )
    if path.suffix == ".sql":
        return build_database(path)
    return path


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 in SCHEMA_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only with the authorizer and limits described in the module docstring."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_QUERY_CHARS * 4)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    connection.set_authorizer(_authorizer)
    return connection


def database_schema(database: str) -> str:
    """The ``CREATE TABLE`` statements of a task's database (shown in the prompt)."""
    connection = open_read_only(resolve_database(database))
    try:
        rows = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        return "\n".join(r[0] + ";" for r in rows if r[0])
    finally:
        connection.close()


def format_table(columns: list[str], rows: list[tuple], more: bool) -> str:
    """Rows as a small pipe-separated table.

    >>> print(format_table(["city", "n"], [("Oslo", 7), ("Perth", 11)], more=False))
    city | n
    Oslo | 7
    Perth | 11
    (2 rows)
    """
    lines = [" | ".join(columns)]
    lines += [" | ".join("NULL" if v is None else str(v) for v in row) for row in rows]
    count = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    lines.append(f"(first {count}; more rows not shown)" if more else f"({count})")
    return "\n".join(lines)


def run_query(path: Path, query: str, timeout_s: float = DEFAULT_TIMEOUT_S,
              max_rows: int = DEFAULT_MAX_ROWS) -> tuple[list[str], list[tuple], bool]:
    """Run one read-only statement; return column names, up to ``max_rows`` rows and whether more exist.

    Raises :class:`ToolError` for anything the query does wrong (syntax, a refused action, the time
    budget), with SQLite's own message.
    """
    if not query.strip():
        raise ToolError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise ToolError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    connection = open_read_only(path)
    deadline = time.monotonic() + timeout_s
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
    try:
        cursor = connection.execute(query)
        rows = cursor.fetchmany(max_rows + 1)
        columns = [d[0] for d in cursor.description or ()]
    except sqlite3.OperationalError as err:
        if time.monotonic() > deadline or "interrupted" in str(err):
            raise ToolError(f"the query ran longer than {timeout_s:g} s and was stopped") from None
        raise ToolError(f"SQL error: {_explain(str(err))}") from None
    except sqlite3.DatabaseError as err:
        raise ToolError(f"SQL error: {_explain(str(err))}") from None
    except (sqlite3.Warning, sqlite3.ProgrammingError, ValueError, OverflowError, MemoryError) as err:
        raise ToolError(f"SQL error: {err}") from None
    finally:
        connection.close()
    return columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows


def _explain(message: str) -> str:
    if "authoriz" in message or "prohibited" in message or "readonly" in message:
        return f"{message} (the database is read-only: only SELECT queries and schema pragmas are allowed)"
    return message


class SqlTool:
    """The ``sql`` tool; the environment points it at the current task's database."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.database: Path | None = None

    def use(self, database: str | None) -> None:
        """Point the tool at a task's database (``None``: the task has none)."""
        self.database = resolve_database(database) if database else None

    def sql(self, query: str) -> str:
        """Run one read-only SQL query (SQLite dialect) on this task's database and return the rows.

        Args:
            query: A single SELECT statement, e.g. "SELECT city, COUNT(*) FROM customers GROUP BY city".
        """
        if self.database is None:
            raise ToolError("this task has no database; the sql tool cannot be used here")
        columns, rows, more = run_query(self.database, query, self.timeout_s, self.max_rows)
        return format_table(columns, rows, more)
