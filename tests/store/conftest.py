"""Fixtures shared by the store tests: a fake clock and the PostgreSQL test server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import pytest

from tests.databases import first_reachable_postgres, fresh_schema

from .builders import T0


class FakeClock:
    """A clock the test moves; the stores stamp what they record with it."""

    def __init__(self) -> None:
        self.moment = T0

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> datetime:
        self.moment += timedelta(seconds=seconds)
        return self.moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A reachable PostgreSQL test database, or a skip saying why there is none."""
    url, why = asyncio.run(first_reachable_postgres())
    if url is None:
        pytest.skip(f"PostgreSQL test server unreachable ({why})")
    yield url


@pytest.fixture
async def schema(postgres_url: str) -> AsyncIterator[str]:
    """A schema name unique to this test in this run; the schema is dropped afterwards."""
    async with fresh_schema(postgres_url, "ss_test") as name:
        yield name
