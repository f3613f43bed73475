"""The review desk's fixtures: the ticket database on SQLite and PostgreSQL, and what the
integration tests provide (broker settings, a topic prefix, an orchestrator store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.review_desk.schema import DDL
from stepstream.sql.database import Database
from tests.databases import postgres_database, sqlite_database
from tests.integration.conftest import kafka, prefix, store_url

__all__ = ["kafka", "prefix", "store_url"]


@pytest.fixture
async def sqlite_tickets(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path, "review_desk", DDL) as database:
        yield database


@pytest.fixture
async def postgres_tickets() -> AsyncIterator[Database]:
    async with postgres_database("rv", DDL) as database:
        yield database


@pytest.fixture(params=["sqlite", "postgres"])
def tickets_db(request: pytest.FixtureRequest) -> Database:
    """The ticket database on each engine the desk supports."""
    database: Database = request.getfixturevalue(f"{request.param}_tickets")
    return database
