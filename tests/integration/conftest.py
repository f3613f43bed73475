"""An embedded broker for the session; each test gets its own topic prefix and store.

The store is a fresh SQLite file, or (``postgres_url``) a fresh PostgreSQL schema.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings
from tests.databases import POSTGRES, first_reachable_postgres, fresh_schema


@pytest.fixture
def kafka(broker: EmbeddedBroker) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        client_id="stepstream-it",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )


@pytest.fixture
def prefix() -> str:
    return f"it{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'orchestrator.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    url, why = await first_reachable_postgres([POSTGRES])
    if url is None:
        pytest.skip(f"PostgreSQL unreachable ({why})")
    async with fresh_schema(url, "it") as schema:
        yield f"{url}?schema={schema}"
