"""Choosing a store from a URL, as configuration names it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from stepstream.sql.database import postgres_url, sqlite_url
from stepstream.store.base import ExecutionReader, ExecutionStore
from stepstream.store.memory import InMemoryStore
from stepstream.store.postgres import PostgresStore
from stepstream.store.sqlite import SQLiteStore

_SQLITE_OPTIONS = frozenset({"synchronous"})


def store_from_url(url: str) -> ExecutionStore:
    """The store a URL names, not yet opened.

    - ``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db`` (the path is
      what follows ``sqlite:///``), optionally ``?synchronous=FULL``;
    - ``postgresql://user@host:5432/db?schema=name`` (``postgres://`` too; the schema
      defaults to ``stepstream``; other parameters go to asyncpg);
    - ``memory://`` for an InMemoryStore.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"store URL must look like scheme://..., got {url!r}")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        return _sqlite(url)
    if scheme in ("postgresql", "postgres"):
        return _postgres(url)
    if scheme == "memory":
        return InMemoryStore()
    raise ValueError(f"unknown store URL scheme {scheme!r}; use sqlite, postgresql or memory")


async def open_store(url: str) -> ExecutionStore:
    """The store a URL names, opened (its schema created if missing)."""
    store = store_from_url(url)
    await store.open()
    return store


@asynccontextmanager
async def open_reader(url: str) -> AsyncIterator[ExecutionReader]:
    """The store a URL names, open for the block, for a process that only reads executions.

    The same backend as ``open_store``, seen through the read interface alone: every
    process but the orchestrator reads the execution store this way.
    """
    async with store_from_url(url) as store:
        yield store


def _sqlite(url: str) -> SQLiteStore:
    path, options = sqlite_url(url)
    unknown = set(options) - _SQLITE_OPTIONS
    if unknown:
        raise ValueError(f"unknown SQLite URL options {sorted(unknown)} in {url!r}")
    return SQLiteStore(path, synchronous=options.get("synchronous", "NORMAL"))


def _postgres(url: str) -> PostgresStore:
    dsn, schema = postgres_url(url)
    return PostgresStore(dsn) if schema is None else PostgresStore(dsn, schema=schema)
