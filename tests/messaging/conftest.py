"""One embedded broker for the whole test session; every test uses its own topics."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker()
    # The broker is a plain process, not tied to an event loop, so it outlives each
    # test's loop. Starting it on a thread of its own works even when the first test to
    # need it asks from inside a running loop.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, embedded.start()).result()
        try:
            yield embedded
        finally:
            thread.submit(asyncio.run, embedded.stop()).result()


@pytest.fixture
def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    # A short session keeps group joins on the embedded broker near one second.
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        client_id="stepstream-tests",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
