"""Fixtures shared by the store tests: a fake clock and the PostgreSQL test server."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
import pytest

from .builders import T0

POSTGRES_URLS = (
    os.environ.get("STEPSTREAM_TEST_POSTGRES_URL")
    or "postgresql://postgres@127.0.0.1:5432/test postgresql://root@127.0.0.1:5432/test"
).split()


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


async def _first_reachable(urls: tuple[str, ...] | list[str]) -> tuple[str | None, str]:
    failures = []
    for url in urls:
        try:
            conn = await asyncpg.connect(url, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            failures.append(f"{url}: {exc}")
            continue
        await conn.close()
        return url, ""
    return None, "; ".join(failures)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A reachable PostgreSQL test database, or a skip saying why there is none."""
    url, why = asyncio.run(_first_reachable(POSTGRES_URLS))
    if url is None:
        pytest.skip(f"PostgreSQL test server unreachable ({why})")
    yield url


_RUN = f"ss_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
_schema_numbers = itertools.count(1)


@pytest.fixture
async def schema(postgres_url: str) -> AsyncIterator[str]:
    """A schema name unique to this test in this run; the schema is dropped afterwards."""
    name = f"{_RUN}_{next(_schema_numbers)}"
    try:
        yield name
    finally:
        conn = await asyncpg.connect(postgres_url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()
