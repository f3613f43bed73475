"""A broker that comes back empty under a running consumer: the consumer starts again.

The embedded broker keeps everything in memory. Killed and started again on the same
port, it has no topics, no messages and no committed offsets, while a running consumer
still holds positions in the logs that are gone. Its fetches then come back empty (no
out-of-range error), so without noticing the loss it would skip the first messages of
the recreated topics.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.bus import Record
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber

TOPIC = "loss.events"


@pytest.fixture
async def own_broker() -> AsyncIterator[EmbeddedBroker]:
    broker = EmbeddedBroker()
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def kill_and_restart_empty(broker: EmbeddedBroker) -> None:
    """What the stack's supervisor does after a kill -9: the same port, nothing in it."""
    assert broker.pid is not None
    os.kill(broker.pid, signal.SIGKILL)
    await broker.stop()  # reaps the killed process
    await broker.start()


async def publish(settings: KafkaSettings, keys: list[str]) -> None:
    async with KafkaPublisher(settings=settings) as publisher:
        for key in keys:
            await publisher.publish(TOPIC, key, Envelope(kind="k", execution_id=key, payload={}))


async def receive(records: AsyncIterator[Record], count: int, timeout: float) -> set[str]:
    """Distinct keys received (delivery is at-least-once), once ``count`` have come."""
    keys: set[str] = set()
    async with asyncio.timeout(timeout):
        while len(keys) < count:
            keys.add((await anext(records)).key.decode())  # type: ignore[union-attr]
    return keys


async def test_a_consumer_reads_the_recreated_topics_from_their_beginning(
    own_broker: EmbeddedBroker,
) -> None:
    settings = KafkaSettings(
        bootstrap_servers=own_broker.bootstrap_servers,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        broker_check_seconds=0.5,
    )
    await ensure_topics(settings.bootstrap_servers, [TopicSpec(TOPIC, partitions=3)])
    await publish(settings, [f"old-{n}" for n in range(30)])
    subscriber = KafkaSubscriber(settings=settings, topics=[TOPIC], group_id="loss.group")
    await subscriber.start()
    try:
        records = aiter(subscriber)
        for _ in range(30):
            await subscriber.commit(await anext(records))
        await kill_and_restart_empty(own_broker)
        await publish(settings, [f"new-{n}" for n in range(6)])
        received = await receive(records, 6, timeout=30)
    finally:
        await subscriber.stop()
    assert received == {f"new-{n}" for n in range(6)}


async def test_a_topic_a_client_recreates_after_a_wipe_has_the_configured_partitions(
    own_broker: EmbeddedBroker,
) -> None:
    settings = KafkaSettings(bootstrap_servers=own_broker.bootstrap_servers)
    await ensure_topics(own_broker.bootstrap_servers, [TopicSpec(TOPIC)])

    await kill_and_restart_empty(own_broker)
    # A producer names the topic before anyone creates it deliberately, as after a crash.
    async with KafkaPublisher(settings=settings) as publisher:
        await publisher.publish(TOPIC, "k", Envelope(kind="k", execution_id="k", payload={}))
        recreated = await publisher._running().partitions_for(TOPIC)

    assert len(recreated) == TopicSpec(TOPIC).partitions
