"""One embedded broker for the whole test session; every test uses its own topics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings
from tests.second_broker import librdkafka_mock_cluster


@pytest.fixture
def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    # A short session keeps group joins on the embedded broker near one second.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        client_id="stepstream-tests",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )


@pytest.fixture(scope="session")
def mock_cluster() -> Iterator[str]:
    """librdkafka's mock cluster of three brokers, for the whole session (its bootstrap)."""
    with librdkafka_mock_cluster(brokers=3) as bootstrap:
        yield bootstrap


@pytest.fixture
def mock_kafka_settings(mock_cluster: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=mock_cluster,
        client_id="stepstream-tests",
        session_timeout_ms=6000,
        heartbeat_interval_ms=300,
    )
