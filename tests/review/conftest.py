"""The review desk's fixtures: a session broker (shared with the integration tests' code)
and the ticket database on SQLite and, when it answers, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from services.common.database import Database, open_database
from services.review_desk.repository import DDL
from tests.integration.conftest import broker, kafka, prefix, store_url

__all__ = ["broker", "kafka", "prefix", "store_url"]

POSTGRES = os.environ.get(
    "STEPSTREAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
async def sqlite_tickets(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(
        f"sqlite:///{tmp_path / 'review-desk.db'}", default_schema="review_desk", ddl=DDL
    )
    yield database
    await database.close()


@pytest.fixture
async def postgres_tickets() -> AsyncIterator[Database]:
    schema = f"rv_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(POSTGRES)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable: {exc}")
    database = await open_database(f"{POSTGRES}?schema={schema}", default_schema=schema, ddl=DDL)
    try:
        yield database
    finally:
        await database.close()
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def tickets_db(request: pytest.FixtureRequest) -> Database:
    """The ticket database on each engine the desk supports."""
    database: Database = request.getfixturevalue(f"{request.param}_tickets")
    return database
