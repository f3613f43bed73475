"""The orders view's fixtures: a session broker (shared with the integration tests' code)
and the view's database on SQLite and, when it answers, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from services.common.database import Database, open_database
from services.order_view.repository import DDL
from tests.integration.conftest import broker, kafka, prefix, store_url

__all__ = ["broker", "kafka", "prefix", "store_url"]

POSTGRES = os.environ.get(
    "STEPSTREAM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
async def sqlite_view(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(
        f"sqlite:///{tmp_path / 'order-view.db'}", default_schema="order_view", ddl=DDL
    )
    yield database
    await database.close()


@pytest.fixture
async def postgres_view() -> AsyncIterator[Database]:
    schema = f"ov_{uuid.uuid4().hex[:10]}"
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
def view_db(request: pytest.FixtureRequest) -> Database:
    """The view's database on each engine it supports."""
    database: Database = request.getfixturevalue(f"{request.param}_view")
    return database
