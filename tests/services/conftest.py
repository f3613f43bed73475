"""Fixtures of the service tests: the session's broker, PostgreSQL, and fresh databases."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings

POSTGRES_URLS = (
    os.environ.get("STEPSTREAM_TEST_POSTGRES_URL")
    or "postgresql://postgres@127.0.0.1:5432/test postgresql://root@127.0.0.1:5432/test"
).split()


def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    # A short session keeps group joins on the embedded broker near one second.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        client_id="stepstream-services-tests",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )


async def _first_reachable(urls: list[str]) -> tuple[str | None, str]:
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


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL test database, or a skip saying why there is none."""
    url, why = asyncio.run(_first_reachable(POSTGRES_URLS))
    if url is None:
        pytest.skip(f"PostgreSQL test server unreachable ({why})")
    return url


@pytest.fixture
async def pg_schema(postgres_url: str) -> AsyncIterator[str]:
    """A schema name of this test's own; the schema is dropped afterwards."""
    name = f"svc_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        connection = await asyncpg.connect(postgres_url)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind: a SQLite file, and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    postgres: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("pg_schema")
    return f"{postgres}?schema={schema}"
