"""The orders view's fixtures: the view's database on SQLite and PostgreSQL, and what the
integration tests provide (broker settings, a topic prefix, an orchestrator store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.order_view.repository import DDL
from stepstream.sql.database import Database
from tests.databases import postgres_database, sqlite_database
from tests.integration.conftest import kafka, prefix, store_url

__all__ = ["kafka", "prefix", "store_url"]


@pytest.fixture
async def sqlite_view(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path, "order_view", DDL) as database:
        yield database


@pytest.fixture
async def postgres_view() -> AsyncIterator[Database]:
    async with postgres_database("ov", DDL) as database:
        yield database


@pytest.fixture(params=["sqlite", "postgres"])
def view_db(request: pytest.FixtureRequest) -> Database:
    """The view's database on each engine it supports."""
    database: Database = request.getfixturevalue(f"{request.param}_view")
    return database
