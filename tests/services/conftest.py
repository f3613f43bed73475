"""Fixtures of the service tests: the session's broker, PostgreSQL, and fresh databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings
from tests.databases import first_reachable_postgres, fresh_schema


def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    # A short session keeps group joins on the embedded broker near one second.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        client_id="stepstream-services-tests",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL test database, or a skip saying why there is none."""
    url, why = asyncio.run(first_reachable_postgres())
    if url is None:
        pytest.skip(f"PostgreSQL test server unreachable ({why})")
    return url


@pytest.fixture
async def pg_schema(postgres_url: str) -> AsyncIterator[str]:
    """A schema name of this test's own; the schema is dropped afterwards."""
    async with fresh_schema(postgres_url, "svc_test") as name:
        yield name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind: a SQLite file, and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    postgres: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("pg_schema")
    return f"{postgres}?schema={schema}"
