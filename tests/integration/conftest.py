"""An embedded broker for the session; each test gets its own topic prefix and store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings


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
