"""The embedded database: one SQLite file in WAL mode, through aiosqlite.

One connection per process, and one transaction on it at a time (an asyncio lock), so no
coroutine can slip a statement into another's transaction. Transactions begin with
``BEGIN IMMEDIATE``: the write lock is taken up front, so two processes sharing the file
queue behind the busy timeout instead of failing half-way through an upgrade.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from services.common.database import DatabaseBusy, Dialect, Row

_BUSY_MARKERS = ("locked", "busy")


class _SQLiteTransaction:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    @property
    def for_update(self) -> str:
        # The IMMEDIATE transaction already holds the file's write lock.
        return ""

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self._connection.execute(sql, args)
        changed = cursor.rowcount
        await cursor.close()
        return max(changed, 0)

    async def fetch_one(self, sql: str, *args: Any) -> Row | None:
        async with self._connection.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return None if row is None else dict(row)

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]:
        async with self._connection.execute(sql, args) as cursor:
            rows = await cursor.fetchall()
        return [dict(row) for row in rows]


async def _switch_to_wal(connection: aiosqlite.Connection, timeout_ms: int) -> None:
    """Turn on WAL, waiting out another connection that opens the same new file.

    The switch needs the file to itself, and SQLite answers "database is locked" at once,
    without its busy handler, when two connections race to do it on a fresh file.
    """
    deadline = asyncio.get_running_loop().time() + timeout_ms / 1000
    while True:
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.01)


class SQLiteDatabase:
    """A ``Database`` in the SQLite file at ``path`` (created, with its folder, if missing)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        if not str(path) or str(path) == ":memory:":
            raise ValueError("SQLiteDatabase needs a file path")
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    async def open(self, ddl: Sequence[str]) -> None:
        if self._connection is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            await _switch_to_wal(connection, self._busy_timeout_ms)
            await connection.execute("PRAGMA synchronous = NORMAL")
            self._connection = connection
            async with self.transaction() as transaction:
                for statement in ddl:
                    await transaction.execute(statement)
        except BaseException:
            self._connection = None
            await connection.close()
            raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            async with self._lock:
                await connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SQLiteTransaction]:
        async with self._lock:
            connection = self._connection
            if connection is None:
                raise RuntimeError(f"the database {self.path} is not open")
            with _busy_as_database_busy(self.path):
                await connection.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteTransaction(connection)
                    await connection.execute("COMMIT")
                except BaseException:
                    # SQLite ends some failed transactions by itself.
                    if connection.in_transaction:
                        await connection.execute("ROLLBACK")
                    raise


@contextmanager
def _busy_as_database_busy(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        if any(marker in str(exc).lower() for marker in _BUSY_MARKERS):
            raise DatabaseBusy(f"SQLite database {path} is busy: {exc}") from exc
        raise
