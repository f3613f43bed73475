"""SQLite for the library: one connection setting, one write transaction, one ``Database``.

``connect`` and ``write_transaction`` are what every SQLite user here shares. Both the
execution store and ``SQLiteDatabase`` (the services') call SQLite inline on the event
loop: a statement takes microseconds, and handing each to a thread and back (aiosqlite,
as ``SQLiteDatabase`` did) cost more CPU than the statement itself. A writer in another
process holds the loop up to the busy timeout; every database here has one writing
process, whose transactions are short.

A ``SQLiteDatabase`` has one connection per process, and one transaction on it at a time
(an asyncio lock), so no coroutine can slip a statement into another's transaction.
Transactions begin with
``BEGIN IMMEDIATE``: the write lock is taken up front, so two processes sharing the file
queue behind the busy timeout instead of failing half-way through an upgrade.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from stepstream.sql.database import DatabaseBusy, Dialect, Row

_BUSY_MARKERS = ("locked", "busy")


class _SQLiteTransaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    @property
    def for_update(self) -> str:
        # The IMMEDIATE transaction already holds the file's write lock.
        return ""

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = self._connection.execute(sql, args)
        changed = cursor.rowcount
        cursor.close()
        return max(changed, 0)

    async def fetch_one(self, sql: str, *args: Any) -> Row | None:
        cursor = self._connection.execute(sql, args)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else dict(row)

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]:
        cursor = self._connection.execute(sql, args)
        rows = cursor.fetchall()
        cursor.close()
        return [dict(row) for row in rows]


SYNCHRONOUS_MODES = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})


def _switch_to_wal(conn: sqlite3.Connection, timeout_ms: int) -> str:
    """Ask for WAL, waiting out another connection that opens the same new file.

    The switch needs the file to itself, and SQLite answers "database is locked" at once,
    without its busy handler, when two connections race to make it on a fresh file.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def connect(
    path: str | Path,
    *,
    synchronous: str = "NORMAL",
    busy_timeout_ms: int = 5000,
    query_only: bool = False,
) -> sqlite3.Connection:
    """A connection in WAL mode with explicit transactions (autocommit otherwise).

    WAL lets readers run while the one writer commits; NORMAL synchronous in WAL mode
    survives a process crash at any moment and only risks the last commits on power loss.
    """
    if synchronous.upper() not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_MODES)}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        mode = _switch_to_wal(conn, busy_timeout_ms)
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"SQLite at {path} refused WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-16000")
        if query_only:
            conn.execute("PRAGMA query_only=ON")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A transaction that commits when the block ends cleanly and rolls back otherwise.

    IMMEDIATE takes the write lock up front, so two writers (in this process or another)
    queue on busy_timeout instead of failing when a read turns into a write.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        # SQLite ends some failed transactions by itself.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SQLiteDatabase:
    """A ``Database`` in the SQLite file at ``path`` (created, with its folder, if missing)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        if not str(path) or str(path) == ":memory:":
            raise ValueError("SQLiteDatabase needs a file path")
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    async def open(self, ddl: Sequence[str]) -> None:
        if self._connection is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The same connection as the execution store's.
        connection = connect(self.path, busy_timeout_ms=self._busy_timeout_ms)
        try:
            connection.row_factory = sqlite3.Row
            self._connection = connection
            async with self.transaction() as transaction:
                for statement in ddl:
                    await transaction.execute(statement)
        except BaseException:
            self._connection = None
            connection.close()
            raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            async with self._lock:
                connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SQLiteTransaction]:
        async with self._lock:
            connection = self._connection
            if connection is None:
                raise RuntimeError(f"the database {self.path} is not open")
            with _busy_as_database_busy(self.path):
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteTransaction(connection)
                    connection.execute("COMMIT")
                except BaseException:
                    # SQLite ends some failed transactions by itself.
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise


@contextmanager
def _busy_as_database_busy(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        if any(marker in str(exc).lower() for marker in _BUSY_MARKERS):
            raise DatabaseBusy(f"SQLite database {path} is busy: {exc}") from exc
        raise
