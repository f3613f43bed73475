"""Telling a broker that lost its logs from one that answers a log end from behind."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)

from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka_loss import lost_partitions

TP = TopicPartition("orders", 0)


class FakeConsumer:
    """What ``lost_partitions`` asks of aiokafka's consumer, answered from fixed values."""

    def __init__(
        self,
        *,
        listed_end: int,
        fetched_end: int | None,
        committed: int | None = None,
    ) -> None:
        self.listed_end = listed_end
        self.fetched_end = fetched_end
        self.committed_offset = committed

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.listed_end for tp in partitions}

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.fetched_end

    async def committed(self, partition: TopicPartition) -> int | None:
        return self.committed_offset


async def test_a_log_end_below_what_was_read_is_a_loss() -> None:
    consumer = FakeConsumer(listed_end=3, fetched_end=3)

    assert await lost_partitions(consumer, {TP: 12}, {}) == {TP: 3}


async def test_a_listed_end_behind_the_fetched_one_is_no_loss() -> None:
    # The embedded broker after a batch of several records: ListOffsets answers behind,
    # its fetches report the records that were read.
    consumer = FakeConsumer(listed_end=3, fetched_end=12)

    assert await lost_partitions(consumer, {TP: 12}, {}) == {}


async def test_a_partition_not_fetched_yet_waits_for_its_first_fetch() -> None:
    consumer = FakeConsumer(listed_end=0, fetched_end=None)
    assert await lost_partitions(consumer, {TP: 5}, {}) == {}

    consumer.fetched_end = 0  # the first fetch says the same: the log is gone
    assert await lost_partitions(consumer, {TP: 5}, {}) == {TP: 0}


async def test_commits_the_broker_forgot_are_a_loss() -> None:
    consumer = FakeConsumer(listed_end=20, fetched_end=20, committed=None)

    assert await lost_partitions(consumer, {TP: 12}, {TP: 12}) == {TP: 20}


async def test_commits_the_broker_keeps_are_no_loss() -> None:
    consumer = FakeConsumer(listed_end=20, fetched_end=20, committed=12)

    assert await lost_partitions(consumer, {TP: 12}, {TP: 12}) == {}


async def test_the_embedded_broker_read_to_the_end_of_a_batch_of_several_is_not_lost() -> None:
    broker = EmbeddedBroker()
    await broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=20)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=5,
    )
    try:
        await producer.start()
        await consumer.start()
        tp = TopicPartition("several", 0)
        consumer.assign([tp])
        await producer.send_and_wait("several", b"one", partition=0)
        # Five records sent together go out in one batch.
        sent = [await producer.send("several", b"x", partition=0) for _ in range(5)]
        last = (await asyncio.gather(*sent))[-1].offset
        read_up_to = 0
        while read_up_to <= last:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                read_up_to = records[-1].offset + 1

        listed = (await consumer.end_offsets([tp]))[tp]
        lost = await lost_partitions(consumer, {tp: read_up_to}, {})
    finally:
        await consumer.stop()
        await producer.stop()
        await broker.stop()

    assert read_up_to == 6
    assert listed <= read_up_to  # what this broker answers; below 6 is the reason for the rule
    assert lost == {}
