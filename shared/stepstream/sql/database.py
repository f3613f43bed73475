"""One small SQL interface over SQLite (the embedded default) and PostgreSQL (production).

The library's one database layer: the services' repositories use ``Database`` and
``Transaction`` below; the execution store's backends, which need their own statements
for speed, share the connections, transactions and URLs of ``stepstream.sql.sqlite`` and
``stepstream.sql.postgres`` with it.

A service writes its SQL once, with ``?`` placeholders and the SQL both engines accept
(``CREATE TABLE IF NOT EXISTS``, ``INSERT ... ON CONFLICT DO NOTHING``, TEXT and BIGINT
columns); the PostgreSQL side numbers the placeholders. Every statement runs in a
transaction, and a transaction is the unit of atomicity a service's repository builds on.

database URLs:
- ``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db``;
- ``postgresql://user@host:5432/db?schema=name`` (``postgres://`` too; without
  ``schema`` the service's default schema is used).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stepstream.observability.health import PROCESS_CHECKS, Unhealthy

Row = dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]


class DatabaseBusy(Exception):
    """The database could not serve a transaction now (locked, no connection, lost one).

    Trying the same work again later may succeed; services report it under a name of
    their own that the definition retries.
    """


@contextmanager
def busy_as(error: type[Exception]) -> Iterator[None]:
    """Report ``DatabaseBusy`` inside the block as the service's own ``error``."""
    try:
        yield
    except DatabaseBusy as exc:
        raise error(str(exc)) from exc


class Transaction(Protocol):
    """Statements inside one transaction; it commits when its block ends without error."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def for_update(self) -> str:
        """The row-lock clause to end a SELECT with (empty where the engine locks whole files)."""
        ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; return how many rows it changed."""
        ...

    async def fetch_one(self, sql: str, *args: Any) -> Row | None: ...

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]: ...


class Database(Protocol):
    """A database a service owns: ``open()`` (creating its tables), then transactions."""

    @property
    def dialect(self) -> Dialect: ...

    async def open(self, ddl: Sequence[str]) -> None:
        """Connect and run ``ddl`` (statements safe to repeat) once, under a lock."""
        ...

    async def close(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that commits on a clean exit and rolls back on an exception.

        Raises ``DatabaseBusy`` when the database cannot serve it now.
        """
        ...


def database_from_url(url: str, *, default_schema: str) -> Database:
    """The database ``url`` names, not yet opened."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"database URL must look like scheme://..., got {url!r}")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        from stepstream.sql.sqlite import SQLiteDatabase

        path, options = sqlite_url(url)
        if options:
            raise ValueError(f"SQLite URL takes no options, got {url!r}")
        return SQLiteDatabase(path)
    if scheme in ("postgresql", "postgres"):
        from stepstream.sql.postgres import PostgresDatabase

        dsn, schema = postgres_url(url)
        return PostgresDatabase(dsn, schema=schema or default_schema)
    raise ValueError(f"unknown database URL scheme {scheme!r} in {url!r}; use sqlite or postgresql")


async def open_database(url: str, *, default_schema: str, ddl: Sequence[str]) -> Database:
    """The database ``url`` names, opened and with its tables created."""
    database = database_from_url(url, default_schema=default_schema)
    await database.open(ddl)
    PROCESS_CHECKS.register(f"database {default_schema}", _Ping(database), owner=database)
    return database


class _Ping:
    """A database's health check, holding it weakly: a closed database's check goes."""

    def __init__(self, database: Database) -> None:
        self._database = weakref.ref(database)

    async def __call__(self) -> None:
        database = self._database()
        if database is None:
            raise Unhealthy("closed")
        async with database.transaction() as tx:
            await tx.fetch_one("SELECT 1 AS ok")


def sqlite_url(url: str) -> tuple[str, dict[str, str]]:
    """(file path, options) of ``sqlite:///path/to/file.db?option=value``."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):
        raise ValueError(f"SQLite URL must be sqlite:///path/to/file.db, got {url!r}")
    path, _, query = rest[1:].partition("?")
    if not path:
        raise ValueError(f"SQLite URL names no file: {url!r}")
    return path, dict(parse_qsl(query, keep_blank_values=True))


def postgres_url(url: str) -> tuple[str, str | None]:
    """(asyncpg dsn, schema or None) of ``postgresql://...?schema=name&...``."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in params if key == "schema"]
    rest = [(key, value) for key, value in params if key != "schema"]
    return urlunsplit(parts._replace(query=urlencode(rest))), (schemas[-1] if schemas else None)
