"""Beside the embedded broker, a producer rings a topic's consumers, who then fetch.

A consumer with a doorbell holds no fetch at the broker: between fetches that read
nothing it waits for its bell, or at most its safety interval. These specifications set
that interval far beyond their deadlines, so a record read in time was read because the
bell rang.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka import TopicPartition  # type: ignore[import-untyped]

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging import doorbell
from stepstream.messaging.bus import Outgoing
from stepstream.messaging.doorbell import Doorbell, Ringer
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber
from tests.messaging.support import collecting, unique

pytestmark = pytest.mark.skipif(not doorbell.supported(), reason="abstract sockets are Linux's")

NEVER_MS = 600_000  # a safety interval no test waits out
SOON = 10.0  # seconds: far below NEVER_MS, far above a ring and a fetch


async def rung(bell: Doorbell) -> bool:
    try:
        await asyncio.wait_for(bell.rung.wait(), 2.0)
    except TimeoutError:
        return False
    return True


async def test_a_ring_reaches_the_listeners_of_its_topic_and_no_other(tmp_path: Path) -> None:
    orders, receipts = Doorbell(tmp_path, ["orders"]), Doorbell(tmp_path, ["receipts"])
    orders.open()
    receipts.open()
    ringer = Ringer(tmp_path)
    try:
        ringer.ring(["orders", "orders"])
        assert await rung(orders)
        assert not receipts.rung.is_set()
    finally:
        ringer.close()
        orders.close()
        receipts.close()


async def test_a_listener_that_is_gone_is_forgotten_by_the_first_ring(tmp_path: Path) -> None:
    bell = Doorbell(tmp_path, ["orders"])
    bell.open()
    [marker] = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert bell._socket is not None
    bell._socket.close()  # as a killed process's socket goes, its name left behind
    bell._socket = None
    ringer = Ringer(tmp_path)
    try:
        ringer.ring(["orders"])
        assert not marker.exists()
    finally:
        ringer.close()
        bell.close()


async def test_closing_a_doorbell_removes_its_names(tmp_path: Path) -> None:
    bell = Doorbell(tmp_path, ["orders", "receipts"])
    bell.open()
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2
    bell.close()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def settings_with_doorbell(kafka_settings: KafkaSettings, folder: Path) -> KafkaSettings:
    return kafka_settings.model_copy(
        update={"doorbell_dir": folder, "fetch_idle_max_wait_ms": NEVER_MS}
    )


async def test_a_rung_subscriber_reads_what_was_published_without_waiting_its_interval(
    broker: EmbeddedBroker, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    topic = unique("rung")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, partitions=2)])
    settings = settings_with_doorbell(kafka_settings, tmp_path)
    subscriber = KafkaSubscriber(settings=settings, topics=[topic], group_id=unique("group"))
    async with (
        subscriber,
        KafkaPublisher(settings=settings) as publisher,
        collecting(subscriber) as collector,
    ):
        await asyncio.sleep(1.0)  # joined, and waiting for its bell after empty fetches
        await publisher.publish_raw(topic, b"k1", b"one", ())
        assert [r.value for r in await collector.wait_for(1, timeout=SOON)] == [b"one"]

        await asyncio.sleep(0.5)
        await publisher.publish_batch(
            [Outgoing(topic, b"k2", b"two", ()), Outgoing(topic, b"k3", b"three", ())]
        )
        records = await collector.wait_for(3, timeout=SOON)
        assert sorted(r.value for r in records) == [b"one", b"three", b"two"]


async def test_a_record_nobody_rang_for_is_read_after_the_safety_interval(
    broker: EmbeddedBroker, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    topic = unique("unrung")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(topic)])
    settings = kafka_settings.model_copy(
        update={"doorbell_dir": tmp_path, "fetch_idle_max_wait_ms": 300}
    )
    subscriber = KafkaSubscriber(settings=settings, topics=[topic], group_id=unique("group"))
    # A producer that knows nothing of the doorbell (another tool, say).
    silent = kafka_settings.model_copy(update={"doorbell_dir": None})
    async with (
        subscriber,
        KafkaPublisher(settings=silent) as publisher,
        collecting(subscriber) as collector,
    ):
        await asyncio.sleep(1.0)
        await publisher.publish_raw(topic, b"k", b"unannounced", ())
        assert [r.value for r in await collector.wait_for(1)] == [b"unannounced"]


def test_an_empty_setting_turns_the_doorbell_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTREAM_KAFKA_DOORBELL_DIR", "")
    assert KafkaSettings().doorbell_dir is None
    monkeypatch.setenv("STEPSTREAM_KAFKA_DOORBELL_DIR", "/run/stack/doorbells")
    assert KafkaSettings().doorbell_dir == Path("/run/stack/doorbells")


class FakePartitionState:
    def __init__(self, position: int, highwater: int | None) -> None:
        self.has_valid_position = True
        self.position = position
        self.highwater = highwater


class FakeAssignment:
    def __init__(self, states: dict[TopicPartition, FakePartitionState]) -> None:
        self.states = states

    def state_value(self, tp: TopicPartition) -> FakePartitionState | None:
        return self.states.get(tp)


class FakeFetchRequest:
    def __init__(self, positions: dict[TopicPartition, int]) -> None:
        self.topics = [
            (tp.topic, [(tp.partition, offset, 1 << 20)]) for tp, offset in positions.items()
        ]


class FakeFetcher:
    """aiokafka's fetcher as the doorbell sees it: one fetch answers with log ends only."""

    def __init__(self, log_ends: dict[TopicPartition, int]) -> None:
        self.log_ends = log_ends
        self._records: dict[TopicPartition, object] = {}
        self._fetch_max_wait_ms = 5  # the consumer's own fetch wait
        self.fetches = 0
        self.brings_records = False

    async def _proc_fetch_request(
        self, assignment: FakeAssignment, node_id: int, request: FakeFetchRequest
    ) -> bool:
        self.fetches += 1
        for tp, end in self.log_ends.items():
            state = assignment.state_value(tp)
            assert state is not None
            state.highwater = end
        return self.brings_records


class FakeConsumer:
    def __init__(self, fetcher: FakeFetcher) -> None:
        self._fetcher = fetcher


A, B = TopicPartition("orders", 0), TopicPartition("orders", 1)


def rung_fetcher(
    log_ends: dict[TopicPartition, int], *, buffered: bool = False, linger_seconds: float = 0.0
) -> FakeFetcher:
    fetcher = FakeFetcher(log_ends)
    if buffered:
        fetcher._records[B] = object()
    bell = Doorbell(Path("/nonexistent"), ["orders"])
    assert doorbell.wait_for_bell_between_fetches(
        FakeConsumer(fetcher), bell, NEVER_MS / 1000, linger_seconds=linger_seconds
    )
    return fetcher


async def returns_without_a_ring(fetcher: FakeFetcher) -> bool:
    """Whether a fetch that brought no records returned without waiting for a ring."""
    positions = {A: 7, B: 3}
    assignment = FakeAssignment({tp: FakePartitionState(at, None) for tp, at in positions.items()})
    fetching = asyncio.ensure_future(
        fetcher._proc_fetch_request(assignment, 0, FakeFetchRequest(positions))
    )
    done, _ = await asyncio.wait({fetching}, timeout=0.3)
    fetching.cancel()  # the wait ends quietly, as aiokafka's own fetch does
    await asyncio.wait({fetching})
    return bool(done)


async def test_an_answer_that_passed_over_a_partition_with_records_is_fetched_again_at_once() -> (
    None
):
    # The broker reported B's log end beyond B's position, yet brought none of its
    # records: it ran out of time before it got to B.
    assert await returns_without_a_ring(rung_fetcher({A: 7, B: 5}))


async def test_an_answer_with_every_partition_at_its_end_waits_for_the_bell() -> None:
    assert not await returns_without_a_ring(rung_fetcher({A: 7, B: 3}))


async def test_records_already_buffered_are_not_taken_for_records_passed_over() -> None:
    # aiokafka does not ask for B while B's records wait to be handed out.
    assert not await returns_without_a_ring(rung_fetcher({A: 7, B: 5}, buffered=True))


async def test_the_broker_gets_longer_for_the_fetch_after_one_that_passed_over_a_partition() -> (
    None
):
    fetcher = rung_fetcher({A: 7, B: 5})
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == 20
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == doorbell.REACH_WAIT_MS
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == doorbell.REACH_WAIT_MS
    fetcher.log_ends = {A: 7, B: 3}  # it came back with everything there was
    assert not await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == 5


async def test_a_fetch_that_brought_records_is_followed_at_once_by_the_next() -> None:
    fetcher = rung_fetcher({A: 7, B: 3})
    fetcher.brings_records = True

    assert await returns_without_a_ring(fetcher)


async def test_the_fetch_after_one_that_brought_records_is_not_held_at_the_broker() -> None:
    fetcher = rung_fetcher({A: 7, B: 3})
    fetcher.brings_records = True
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == doorbell.FOLLOW_UP_WAIT_MS

    fetcher.brings_records = False  # nothing more came: the next fetch waits for a ring
    assert not await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == 5


async def test_while_records_keep_coming_the_next_fetch_keeps_the_consumers_wait() -> None:
    fetcher = rung_fetcher({A: 7, B: 3})
    fetcher.brings_records = True
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == doorbell.FOLLOW_UP_WAIT_MS

    assert await returns_without_a_ring(fetcher)  # the follow-up brought records too
    assert fetcher._fetch_max_wait_ms == 5


async def test_a_follow_up_fetch_that_passed_over_a_partition_gets_the_consumers_wait_again() -> (
    None
):
    fetcher = rung_fetcher({A: 7, B: 3})
    fetcher.brings_records = True
    assert await returns_without_a_ring(fetcher)

    fetcher.brings_records = False
    fetcher.log_ends = {A: 7, B: 5}
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == 5


async def test_with_a_linger_the_fetch_after_records_keeps_the_consumers_wait() -> None:
    fetcher = rung_fetcher({A: 7, B: 3}, linger_seconds=0.01)
    fetcher.brings_records = True
    assert await returns_without_a_ring(fetcher)
    assert fetcher._fetch_max_wait_ms == 5


async def test_with_a_linger_a_fetch_that_brought_records_pauses_before_the_next() -> None:
    fetcher = rung_fetcher({A: 7, B: 3}, linger_seconds=0.15)
    fetcher.brings_records = True
    positions = {A: 7, B: 3}
    assignment = FakeAssignment({tp: FakePartitionState(at, None) for tp, at in positions.items()})

    began = time.monotonic()
    assert await fetcher._proc_fetch_request(assignment, 0, FakeFetchRequest(positions))

    assert time.monotonic() - began >= 0.15
