"""The bus contract: the in-memory FakeBus, Kafka over the embedded broker and Kafka over
librdkafka's mock cluster (a second, independent broker implementation) behave alike.

Every test here runs three times, once per implementation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.bus import Bus, CommitFailed, ManagedSubscriber, Outgoing
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.kafka import (
    KafkaBus,
    KafkaPublisher,
    KafkaSettings,
    partition_for_key,
)
from tests.messaging.support import collecting, eventually, receive, unique, values
from tests.second_broker import AUTO_CREATED_PARTITIONS

Publish = Callable[..., Awaitable[None]]
Subscribe = Callable[[str, str], Awaitable[ManagedSubscriber]]


@dataclass
class BusUnderTest:
    bus: Bus
    create: Callable[[str, int], Awaitable[None]]
    # A broker that makes every topic with this many partitions, whatever is asked.
    fixed_partitions: int | None = None
    # Why groups of several members cannot be tested on this broker, if they cannot.
    no_shared_groups: str | None = None

    async def topic(self, partitions: int = 1) -> str:
        name = unique("contract")
        await self.create(name, partitions)
        return name

    def partitions(self, asked: int) -> list[int]:
        return list(range(self.fixed_partitions or asked))

    def need_shared_groups(self) -> None:
        if self.no_shared_groups:
            pytest.skip(self.no_shared_groups)


@pytest.fixture(params=["fake", "kafka", "librdkafka-mock"])
def under_test(request: pytest.FixtureRequest) -> BusUnderTest:
    if request.param == "fake":
        fake = FakeBus()

        async def create_fake(name: str, partitions: int) -> None:
            fake.create_topic(name, partitions=partitions)

        return BusUnderTest(fake, create_fake)
    if request.param == "librdkafka-mock":
        mock: KafkaSettings = request.getfixturevalue("mock_kafka_settings")

        async def create_on_mock(name: str, partitions: int) -> None:
            # The mock creates a topic, with 4 partitions, when a client first names it.
            await _touch(mock, name)

        return BusUnderTest(
            KafkaBus(settings=mock),
            create_on_mock,
            fixed_partitions=AUTO_CREATED_PARTITIONS,
            no_shared_groups="librdkafka's mock cluster answers aiokafka's SyncGroup from a"
            " second member of a group with InvalidRequest",
        )
    settings: KafkaSettings = request.getfixturevalue("kafka_settings")
    broker: EmbeddedBroker = request.getfixturevalue("broker")

    async def create_kafka(name: str, partitions: int) -> None:
        await ensure_topics(broker.bootstrap_servers, [TopicSpec(name, partitions=partitions)])

    return BusUnderTest(KafkaBus(settings=settings), create_kafka)


async def _touch(settings: KafkaSettings, topic: str) -> None:
    publisher = KafkaPublisher(settings=settings)
    await publisher.start()
    try:
        await publisher._running().partitions_for(topic)
    finally:
        await publisher.stop()


@pytest.fixture
async def publish(under_test: BusUnderTest) -> AsyncIterator[Publish]:
    publisher = under_test.bus.publisher()
    await publisher.start()

    async def send(
        topic: str, key: str | None, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()
    ) -> None:
        await publisher.publish_raw(topic, None if key is None else key.encode(), value, headers)

    yield send
    await publisher.stop()


@pytest.fixture
async def subscribers(
    under_test: BusUnderTest,
) -> AsyncIterator[Callable[..., Awaitable[ManagedSubscriber]]]:
    started: list[ManagedSubscriber] = []

    async def subscribe(topic: str, group: str) -> ManagedSubscriber:
        subscriber = under_test.bus.subscriber([topic], group_id=group)
        await subscriber.start()
        started.append(subscriber)
        return subscriber

    yield subscribe
    for subscriber in started:
        await subscriber.stop()


async def test_an_envelope_arrives_intact_with_its_key(
    under_test: BusUnderTest, subscribers: Subscribe
) -> None:
    topic = await under_test.topic()
    envelope = Envelope(kind="task.command", execution_id="exec-1", payload={"n": 1})
    publisher = under_test.bus.publisher()
    await publisher.start()
    try:
        await publisher.publish(topic, "exec-1", envelope)
    finally:
        await publisher.stop()

    [record] = await receive(await subscribers(topic, unique("g")), 1)

    assert decode(record.value) == envelope
    assert (record.topic, record.offset, record.key) == (topic, 0, b"exec-1")
    partitions = under_test.partitions(1)
    assert record.partition == partition_for_key(b"exec-1", partitions, partitions)


async def test_raw_bytes_and_headers_arrive_unchanged(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic = await under_test.topic()
    await publish(topic, None, b"\xff not json", (("origin", b"test"), ("n", b"\x00\x01")))

    [record] = await receive(await subscribers(topic, unique("g")), 1)

    assert record.value == b"\xff not json"
    assert record.key is None
    assert record.headers == (("origin", b"test"), ("n", b"\x00\x01"))


async def test_one_key_stays_in_one_partition_in_order(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic = await under_test.topic(partitions=4)
    for n in range(12):
        await publish(topic, f"exec-{n % 3}", f"{n % 3}:{n}".encode())

    records = await receive(await subscribers(topic, unique("g")), 12)

    for key in (b"exec-0", b"exec-1", b"exec-2"):
        mine = [r for r in records if r.key == key]
        assert len({r.partition for r in mine}) == 1
        assert [r.offset for r in mine] == sorted(r.offset for r in mine)
        prefix = key[-1:]
        expected = [f"{prefix.decode()}:{n}".encode() for n in range(12) if n % 3 == int(prefix)]
        assert values(mine) == expected


async def test_a_batch_arrives_whole_and_in_order(
    under_test: BusUnderTest, subscribers: Subscribe
) -> None:
    topic = await under_test.topic(partitions=2)
    batch = [
        Outgoing(topic, f"k{n % 2}".encode(), f"m{n}".encode(), (("n", b"%d" % n),))
        for n in range(50)
    ]
    publisher = under_test.bus.publisher()
    await publisher.start()
    try:
        await publisher.publish_batch(batch)
    finally:
        await publisher.stop()

    records = await receive(await subscribers(topic, unique("g")), 50)

    for key in (b"k0", b"k1"):
        sent = [m.value for m in batch if m.key == key]
        assert values([r for r in records if r.key == key]) == sent
    assert sorted(r.headers for r in records) == sorted(m.headers for m in batch)


async def test_a_new_group_starts_from_the_earliest_record(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic = await under_test.topic()
    for n in range(3):
        await publish(topic, "k", f"early-{n}".encode())

    records = await receive(await subscribers(topic, unique("g")), 3)

    assert values(records) == [b"early-0", b"early-1", b"early-2"]


async def test_committed_records_are_not_delivered_again_to_the_group(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic, group = await under_test.topic(), unique("g")
    for n in range(3):
        await publish(topic, "k", f"m{n}".encode())
    first = await subscribers(topic, group)
    records = await receive(first, 3)
    await first.commit(records[-1])  # covers everything before it in the partition
    await first.stop()

    await publish(topic, "k", b"m3")
    second = await subscribers(topic, group)

    assert values(await receive(second, 1)) == [b"m3"]


async def test_records_of_several_partitions_are_committed_together(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic, group = await under_test.topic(partitions=2), unique("g")
    keys = ["a", "b", "c", "d", "e", "f"]  # murmur2 spreads these over the partitions
    for key in keys:
        await publish(topic, key, f"first {key}".encode())
    first = await subscribers(topic, group)
    records = await receive(first, len(keys))
    assert len({r.partition for r in records}) > 1
    last_of = {r.partition: r for r in records}  # in order within a partition
    await first.commit_all(list(last_of.values()))
    await first.stop()

    await publish(topic, "a", b"after")
    second = await subscribers(topic, group)

    assert values(await receive(second, 1)) == [b"after"]


async def test_uncommitted_records_are_delivered_again_to_the_next_consumer(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic, group = await under_test.topic(), unique("g")
    for n in range(3):
        await publish(topic, "k", f"m{n}".encode())
    first = await subscribers(topic, group)
    records = await receive(first, 3)
    await first.commit(records[0])
    await first.stop()  # m1 and m2 were received but never committed

    second = await subscribers(topic, group)

    assert values(await receive(second, 2)) == [b"m1", b"m2"]


async def test_every_group_receives_every_record(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic = await under_test.topic(partitions=2)
    for n in range(4):
        await publish(topic, f"k{n}", f"m{n}".encode())

    first, second = await asyncio.gather(
        subscribers(topic, unique("g")), subscribers(topic, unique("g"))
    )
    one, other = await receive(first, 4), await receive(second, 4)

    assert sorted(values(one)) == sorted(values(other)) == [b"m0", b"m1", b"m2", b"m3"]


async def test_members_of_one_group_share_the_partitions(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    under_test.need_shared_groups()
    topic, group = await under_test.topic(partitions=4), unique("g")
    first, second = await asyncio.gather(subscribers(topic, group), subscribers(topic, group))
    sent = {f"m{n}".encode() for n in range(40)}

    async with collecting(first, commit=True) as a, collecting(second, commit=True) as b:
        for n in range(40):
            await publish(topic, f"exec-{n}", f"m{n}".encode())
        await eventually(lambda: len(a.records) + len(b.records) >= 40)

    got_a, got_b = set(values(a.records)), set(values(b.records))
    assert got_a | got_b == sent
    assert not got_a & got_b
    assert got_a and got_b
    assert not {r.partition for r in a.records} & {r.partition for r in b.records}


async def test_a_member_owns_the_keys_whose_records_it_receives(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    under_test.need_shared_groups()
    topic, group = await under_test.topic(partitions=4), unique("g")
    first, second = await asyncio.gather(subscribers(topic, group), subscribers(topic, group))

    async with collecting(first) as a, collecting(second) as b:
        for n in range(40):
            await publish(topic, f"exec-{n}", f"m{n}".encode())
        await eventually(lambda: len(a.records) + len(b.records) >= 40)

    for member, other, got in ((first, second, a), (second, first, b)):
        keys = [record.key for record in got.records if record.key is not None]
        assert keys and all(member.owns_key(topic, key) for key in keys)
        assert not any(other.owns_key(topic, key) for key in keys)


async def test_a_stopped_subscriber_cannot_commit(
    under_test: BusUnderTest, publish: Publish, subscribers: Subscribe
) -> None:
    topic = await under_test.topic()
    await publish(topic, "k", b"m0")
    subscriber = await subscribers(topic, unique("g"))
    [record] = await receive(subscriber, 1)
    await subscriber.stop()

    with pytest.raises(CommitFailed):
        await subscriber.commit(record)


async def test_iteration_ends_when_the_subscriber_stops(
    under_test: BusUnderTest, subscribers: Subscribe
) -> None:
    topic = await under_test.topic()
    subscriber = await subscribers(topic, unique("g"))

    async def drain() -> int:
        return len([record async for record in subscriber])

    reading = asyncio.create_task(drain())
    await asyncio.sleep(0)  # let the reader begin waiting
    await subscriber.stop()

    assert await asyncio.wait_for(reading, timeout=10) == 0
