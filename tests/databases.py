"""A service's database, freshly made, on SQLite and (when it answers) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from stepstream.sql.database import Database, open_database

# Where a PostgreSQL test server may answer, tried in turn (the machine's user may differ);
# STEPSTREAM_TEST_POSTGRES_URL names the only one to try.
POSTGRES_URLS = (
    os.environ.get("STEPSTREAM_TEST_POSTGRES_URL")
    or "postgresql://postgres@127.0.0.1:5432/test postgresql://root@127.0.0.1:5432/test"
).split()
POSTGRES = POSTGRES_URLS[0]  # the one tests that need a single address use


async def first_reachable_postgres(urls: Sequence[str] = POSTGRES_URLS) -> tuple[str | None, str]:
    """The first of ``urls`` that accepts a connection, or None and why none did."""
    failures = []
    for url in urls:
        try:
            connection = await asyncpg.connect(url, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            failures.append(f"{url}: {exc}")
            continue
        await connection.close()
        return url, ""
    return None, "; ".join(failures)


@asynccontextmanager
async def fresh_schema(url: str, prefix: str) -> AsyncIterator[str]:
    """A schema name no other test uses; the schema is dropped afterwards, if it was made."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await connection.close()


@asynccontextmanager
async def sqlite_database(folder: Path, name: str, ddl: Sequence[str]) -> AsyncIterator[Database]:
    database = await open_database(
        f"sqlite:///{folder / f'{name}.db'}", default_schema=name, ddl=ddl
    )
    try:
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def postgres_database(prefix: str, ddl: Sequence[str]) -> AsyncIterator[Database]:
    """The tables in a schema of their own, dropped afterwards; skips without a server."""
    url, why = await first_reachable_postgres([POSTGRES])
    if url is None:
        pytest.skip(f"PostgreSQL unreachable ({why})")
    async with fresh_schema(url, prefix) as schema:
        database = await open_database(f"{url}?schema={schema}", default_schema=schema, ddl=ddl)
        try:
            yield database
        finally:
            await database.close()
