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

POSTGRES = os.environ.get(
    "STEPSTREAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


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
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(POSTGRES)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable: {exc}")
    database = await open_database(f"{POSTGRES}?schema={schema}", default_schema=schema, ddl=ddl)
    try:
        yield database
    finally:
        await database.close()
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()
