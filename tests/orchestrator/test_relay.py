"""The outbox relay: what it publishes, in which order, and what it leaves to others."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from services.orchestrator.relay import OutboxRelay
from stepstream.messaging.bus import Outgoing
from stepstream.messaging.fake import FakeBus, FakePublisher
from stepstream.store.memory import InMemoryStore
from stepstream.store.records import OutboxMessage

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class FlakyPublisher(FakePublisher):
    """Refuses batches while `down` is set, as a publisher does while the broker is away."""

    down = False

    async def publish_batch(self, messages: Sequence[Outgoing]) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        await super().publish_batch(messages)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(clock: Clock) -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore(clock=clock.now)
    await memory.open()
    yield memory
    await memory.close()


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus(partitions=1)


@pytest.fixture
async def publisher(bus: FakeBus) -> AsyncIterator[FlakyPublisher]:
    flaky = FlakyPublisher(bus)
    await flaky.start()
    yield flaky
    await flaky.stop()


def relay_for(store: InMemoryStore, publisher: FakePublisher, clock: Clock) -> OutboxRelay:
    return OutboxRelay(store=store, publisher=publisher, clock=clock.now, grace_seconds=3)


def values(bus: FakeBus, topic: str = "t") -> list[bytes]:
    return [record.value for record in bus.records(topic)]


async def append(store: InMemoryStore, stream: str, version: int, *values: bytes) -> None:
    """An append by some other process: its rows are not handed to the relay under test."""
    await store.append(stream, version, [], outbox=[OutboxMessage("t", v, b"k") for v in values])


async def submit(store: InMemoryStore, relay: OutboxRelay, *values: bytes) -> None:
    """An append by the relay's own orchestrator, one row per value, handed to the relay."""
    for value in values:
        appended = await store.append_for_relay(
            "s", 0, [], outbox=[OutboxMessage("t", value, b"k")]
        )
        relay.submit(appended.outbox)


async def fail_once(relay: OutboxRelay, publisher: FlakyPublisher) -> None:
    publisher.down = True
    with pytest.raises(ConnectionError):
        await relay.relay_submitted()
    publisher.down = False


async def test_submitted_rows_are_published_in_order_and_leave_the_outbox(
    store: InMemoryStore, publisher: FakePublisher, bus: FakeBus, clock: Clock
) -> None:
    relay = relay_for(store, publisher, clock)
    first = await store.append_for_relay("s1", 0, [], outbox=[OutboxMessage("t", b"1", b"k")])
    second = await store.append_for_relay(
        "s2", 0, [], outbox=[OutboxMessage("t", b"2", b"k"), OutboxMessage("t", b"3", b"k")]
    )
    relay.submit(first.outbox)
    relay.submit(second.outbox)

    assert await relay.relay_submitted() == 3

    assert values(bus) == [b"1", b"2", b"3"]
    assert await store.pending_outbox() == []


async def test_young_rows_written_by_another_process_are_left_to_it(
    store: InMemoryStore, publisher: FakePublisher, bus: FakeBus, clock: Clock
) -> None:
    relay = relay_for(store, publisher, clock)
    await append(store, "theirs", 0, b"young")

    assert await relay.sweep() == 0
    clock.advance(2)
    assert await relay.sweep() == 0

    assert values(bus) == []


async def test_rows_left_behind_are_swept_once_the_grace_is_over(
    store: InMemoryStore, publisher: FakePublisher, bus: FakeBus, clock: Clock
) -> None:
    relay = relay_for(store, publisher, clock)
    await append(store, "dead", 0, b"a", b"b")
    clock.advance(3)

    assert await relay.sweep() == 2

    assert values(bus) == [b"a", b"b"]
    assert await store.pending_outbox() == []


async def test_a_row_waiting_in_the_relay_is_not_also_swept(
    store: InMemoryStore, publisher: FakePublisher, bus: FakeBus, clock: Clock
) -> None:
    relay = relay_for(store, publisher, clock)
    await submit(store, relay, b"m")
    clock.advance(10)

    assert await relay.sweep() == 0
    assert await relay.relay_submitted() == 1

    assert values(bus) == [b"m"]


async def test_after_a_failed_publish_the_rows_go_out_from_the_store_in_order(
    store: InMemoryStore, publisher: FlakyPublisher, bus: FakeBus, clock: Clock
) -> None:
    relay = relay_for(store, publisher, clock)
    await submit(store, relay, b"1", b"2", b"3")
    relay.batch_size = 1

    await fail_once(relay, publisher)

    assert relay.queued == 0  # nothing may overtake the failed row
    while await relay.sweep():
        pass
    assert values(bus) == [b"1", b"2", b"3"]  # at once, without waiting out the grace
    assert await store.pending_outbox() == []


async def test_catching_up_ends_with_the_rows_it_was_owed(
    store: InMemoryStore, publisher: FlakyPublisher, bus: FakeBus, clock: Clock
) -> None:
    relay = relay_for(store, publisher, clock)
    await submit(store, relay, b"mine")
    await fail_once(relay, publisher)
    await append(store, "theirs", 0, b"theirs")  # young, and another process's

    assert await relay.sweep() == 1
    assert await relay.sweep() == 0

    assert values(bus) == [b"mine"]
