"""A consumer polls the embedded broker often while records flow and seldom when idle."""

from __future__ import annotations

import pytest

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.fetch_pacing import FetchPacer
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber
from tests.messaging.support import collecting, eventually, unique


def pacer(*, fast: int = 5, idle: int = 200, after: float = 1.0) -> FetchPacer:
    return FetchPacer(fast_ms=fast, idle_ms=idle, idle_after_seconds=after, now=0.0)


def test_the_wait_stays_short_until_the_consumer_has_been_idle_long_enough() -> None:
    p = pacer()
    assert [p.tick(t) for t in (0.1, 0.5, 0.9)] == [5, 5, 5]


def test_an_idle_consumer_doubles_its_wait_up_to_the_ceiling() -> None:
    p = pacer()
    waits = [p.tick(1.0 + i / 10) for i in range(8)]
    assert waits == [10, 20, 40, 80, 160, 200, 200, 200]


def test_a_record_brings_the_short_wait_back_at_once_and_restarts_the_idle_clock() -> None:
    p = pacer()
    for i in range(8):
        p.tick(1.0 + i / 10)

    assert p.record_seen() is True
    assert p.wait_ms == 5
    assert p.record_seen() is False  # already short: nothing to change
    assert p.tick(2.0) == 5
    assert p.tick(2.9) == 5  # idle again for less than a second
    assert p.tick(3.0) == 10


def test_a_ceiling_no_longer_than_the_short_wait_keeps_one_wait() -> None:
    p = pacer(fast=500, idle=100)
    assert not p.adaptive
    assert [p.tick(t) for t in (5.0, 10.0)] == [500, 500]


def test_a_wait_below_one_millisecond_is_refused() -> None:
    with pytest.raises(ValueError, match="fast_ms must be at least 1, not 0"):
        pacer(fast=0)


async def test_a_kafka_subscriber_backs_off_idle_and_still_receives_the_next_record(
    broker: EmbeddedBroker, kafka_settings: KafkaSettings
) -> None:
    topic = unique("pacing")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, partitions=2)])
    settings = kafka_settings.model_copy(
        update={"fetch_idle_max_wait_ms": 300, "fetch_idle_after_ms": 500}
    )
    subscriber = KafkaSubscriber(settings=settings, topics=[topic], group_id=unique("group"))
    async with (
        subscriber,
        KafkaPublisher(settings=settings) as publisher,
        collecting(subscriber) as collector,
    ):
        await eventually(lambda: subscriber.fetch_wait_ms == 300)

        await publisher.publish_raw(topic, b"k", b"after a quiet spell", ())

        records = await collector.wait_for(1)
        assert [r.value for r in records] == [b"after a quiet spell"]
        assert subscriber.fetch_wait_ms == settings.fetch_max_wait_ms
