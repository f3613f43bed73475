"""Choosing a store from a URL, as configuration names it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stepstream.store.base import ExecutionStore
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


def _sqlite(url: str) -> SQLiteStore:
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):
        raise ValueError(f"SQLite URL must be sqlite:///path/to/file.db, got {url!r}")
    path, _, query = rest[1:].partition("?")
    if not path:
        raise ValueError(f"SQLite URL names no file: {url!r}")
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = set(options) - _SQLITE_OPTIONS
    if unknown:
        raise ValueError(f"unknown SQLite URL options {sorted(unknown)} in {url!r}")
    return SQLiteStore(path, synchronous=options.get("synchronous", "NORMAL"))


def _postgres(url: str) -> PostgresStore:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in params if key == "schema"]
    rest = [(key, value) for key, value in params if key != "schema"]
    dsn = urlunsplit(parts._replace(query=urlencode(rest)))
    if schemas:
        return PostgresStore(dsn, schema=schemas[-1])
    return PostgresStore(dsn)
