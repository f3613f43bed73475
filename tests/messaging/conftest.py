"""One embedded broker for the whole test session; every test uses its own topics."""

from __future__ import annotations

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings


@pytest.fixture
def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    # A short session keeps group joins on the embedded broker near one second.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        client_id="stepstream-tests",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
