"""The outbox relay against the real embedded broker: a row no record can carry.

The producer refuses a record over its maximum size for good; retrying it would hold
back every row after it, across restarts too. The relay sets it aside instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.orchestrator.relay import OutboxRelay
from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.dead_letter import PREVIEW_BYTES, DeadLetter
from stepstream.messaging.kafka import KafkaBus, KafkaPublisher, KafkaSettings
from stepstream.store.memory import InMemoryStore
from stepstream.store.records import OutboxMessage
from tests.messaging.support import collecting, unique


@pytest.fixture
def kafka(broker: EmbeddedBroker) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore()
    await memory.open()
    yield memory
    await memory.close()


async def test_a_row_too_large_to_publish_is_dead_lettered_and_the_rows_after_it_go_out(
    kafka: KafkaSettings, store: InMemoryStore
) -> None:
    topic, dead_topic = unique("out"), unique("dead")
    await ensure_topics(kafka.bootstrap_servers, [TopicSpec(topic), TopicSpec(dead_topic)])
    bus = KafkaBus(settings=kafka)
    out = bus.subscriber([topic], group_id=unique("g"))
    dead = bus.subscriber([dead_topic], group_id=unique("g"))
    too_large = b"x" * 1_400_000
    async with KafkaPublisher(settings=kafka) as publisher, out, dead:
        relay = OutboxRelay(store=store, publisher=publisher, dead_letter_topic=dead_topic)
        async with collecting(out) as published, collecting(dead) as letters:
            for number, value in enumerate([b"before", too_large, b"after"]):
                appended = await store.append_for_relay(
                    f"s{number}", 0, [], outbox=[OutboxMessage(topic, value, b"k")]
                )
                relay.submit(appended.outbox)

            assert await relay.relay_submitted() == 3

            records = await published.wait_for(2)
            [record] = await letters.wait_for(1)
    assert [r.value for r in records] == [b"before", b"after"]
    assert await store.pending_outbox() == []
    letter = DeadLetter.from_record(record)
    assert "MessageSizeTooLargeError" in letter.reason
    assert letter.source_topic == topic and letter.source_partition == -1
    assert letter.truncated and letter.original_size == len(too_large)
    assert letter.value == too_large[:PREVIEW_BYTES]


async def test_without_a_dead_letter_topic_the_refusal_is_raised(
    kafka: KafkaSettings, store: InMemoryStore
) -> None:
    topic = unique("out")
    await ensure_topics(kafka.bootstrap_servers, [TopicSpec(topic)])
    async with KafkaPublisher(settings=kafka) as publisher:
        relay = OutboxRelay(store=store, publisher=publisher)
        appended = await store.append_for_relay(
            "s", 0, [], outbox=[OutboxMessage(topic, b"x" * 1_400_000, b"k")]
        )
        relay.submit(appended.outbox)
        with pytest.raises(Exception, match="MessageSizeTooLarge"):
            await relay.relay_submitted()
    assert len(await store.pending_outbox()) == 1
