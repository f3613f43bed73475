"""PostgreSQL for the library: one pool setting, one schema set-up, one ``Database``.

``create_pool`` and ``schema_transaction`` are what every PostgreSQL user here shares:
the execution store runs its own statements on the pool, ``PostgresDatabase`` gives the
services transactions with ``?`` placeholders.

Transactions run at READ COMMITTED; a repository that must not lose an update locks the
rows it reads with ``SELECT ... FOR UPDATE`` (``Transaction.for_update``).
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from stepstream.sql.database import DatabaseBusy, Dialect, Row

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# Failures that say nothing about the work, only that the server could not do it now.
_TRANSIENT = (
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
    TimeoutError,
)


def check_schema_name(schema: str) -> str:
    if not isinstance(schema, str) or not _IDENTIFIER.fullmatch(schema):
        raise ValueError(
            "PostgreSQL schema name must be letters, digits and underscores "
            f"(not starting with a digit, at most 63), got {schema!r}"
        )
    return schema


def check_pool_size(min_connections: int, max_connections: int) -> None:
    if not 1 <= min_connections <= max_connections:
        raise ValueError("need 1 <= min_connections <= max_connections")


async def create_pool(dsn: str, *, schema: str, min_size: int, max_size: int) -> Any:
    """An asyncpg pool whose connections name tables unqualified, in ``schema``."""
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, server_settings={"search_path": schema}
    )


@asynccontextmanager
async def schema_transaction(connection: Any, lock_key: int) -> AsyncIterator[None]:
    """A transaction holding the advisory lock ``lock_key``, to create tables in.

    CREATE ... IF NOT EXISTS is not safe when two processes run it at once.
    """
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", lock_key)
        yield


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1, $2, ...`` as PostgreSQL wants."""
    counter = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def _changed(status: str) -> int:
    # asyncpg answers a command with its tag: "INSERT 0 1", "UPDATE 3", "DELETE 0".
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _PostgresTransaction:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return "postgresql"

    @property
    def for_update(self) -> str:
        return " FOR UPDATE"

    async def execute(self, sql: str, *args: Any) -> int:
        return _changed(await self._connection.execute(numbered(sql), *args))

    async def fetch_one(self, sql: str, *args: Any) -> Row | None:
        row = await self._connection.fetchrow(numbered(sql), *args)
        return None if row is None else dict(row)

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]:
        return [dict(row) for row in await self._connection.fetch(numbered(sql), *args)]


class PostgresDatabase:
    """A ``Database`` in schema ``schema`` of the PostgreSQL database at ``dsn``."""

    def __init__(
        self, dsn: str, *, schema: str, min_connections: int = 1, max_connections: int = 10
    ) -> None:
        if not dsn:
            raise ValueError("PostgresDatabase needs a dsn")
        check_pool_size(min_connections, max_connections)
        self.schema = check_schema_name(schema)
        self._dsn = dsn
        self._min = min_connections
        self._max = max_connections
        self._pool: Any = None

    @property
    def dialect(self) -> Dialect:
        return "postgresql"

    async def open(self, ddl: Sequence[str]) -> None:
        if self._pool is not None:
            return
        with _transient_as_busy(self.schema):
            pool = await create_pool(
                self._dsn, schema=self.schema, min_size=self._min, max_size=self._max
            )
        try:
            lock = zlib.crc32(f"stepstream:{self.schema}".encode())
            async with pool.acquire() as connection, schema_transaction(connection, lock):
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                for statement in ddl:
                    await connection.execute(statement)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresTransaction]:
        pool = self._pool
        if pool is None:
            raise RuntimeError(f"the database (schema {self.schema}) is not open")
        with _transient_as_busy(self.schema):
            async with pool.acquire() as connection, connection.transaction():
                yield _PostgresTransaction(connection)


@contextmanager
def _transient_as_busy(schema: str) -> Iterator[None]:
    try:
        yield
    except _TRANSIENT as exc:
        raise DatabaseBusy(f"PostgreSQL (schema {schema}) is busy: {exc}") from exc
