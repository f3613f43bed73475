"""The consume loop sets bad messages aside and goes on; other failures stop it."""

from __future__ import annotations

import asyncio

import pytest

from stepstream.messaging.bus import Record
from stepstream.messaging.consumer import consume
from stepstream.messaging.dead_letter import DeadLetter, PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.fake import FakeBus, FakePublisher, FakeSubscriber
from tests.messaging.support import eventually

SOURCE, DLQ, GROUP = "in", "dead", "readers"


class Handled:
    """A handler that records what it got and refuses payloads marked poison."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def __call__(self, envelope: Envelope, record: Record) -> None:
        if envelope.payload.get("poison"):
            raise PoisonMessage(f"cannot handle {envelope.payload['poison']}")
        if envelope.payload.get("explode"):
            raise ConnectionError("database unreachable")
        self.envelopes.append(envelope)


async def run_until(bus: FakeBus, handler: Handled, count: int) -> None:
    """Run a consume loop until ``count`` records of SOURCE are committed, then stop it."""
    subscriber = bus.subscriber([SOURCE], group_id=GROUP)
    publisher = bus.publisher()
    await publisher.start()
    await subscriber.start()
    loop = consume(
        subscriber, handler, dead_letter=publisher, dead_letter_topic=DLQ, consumer_group=GROUP
    )
    task = asyncio.create_task(loop)
    try:
        await eventually(lambda: (bus.committed(GROUP, SOURCE, 0) or 0) >= count or task.done())
        if task.done():
            task.result()
    finally:
        task.cancel()
        await subscriber.stop()
        await publisher.stop()


@pytest.fixture
async def bus() -> FakeBus:
    fake = FakeBus(partitions=1)
    fake.create_topic(SOURCE)
    return fake


async def send(bus: FakeBus, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()) -> None:
    async with FakePublisher(bus) as publisher:
        await publisher.publish_raw(SOURCE, b"exec-1", value, headers)


def good(n: int, **payload: object) -> bytes:
    return Envelope(kind="k", execution_id="exec-1", payload={"n": n, **payload}).to_bytes()


async def test_undecodable_bytes_are_dead_lettered_and_the_next_message_is_handled(
    bus: FakeBus,
) -> None:
    handler = Handled()
    await send(bus, b"{garbage", (("trace", b"abc"),))
    await send(bus, good(2))

    await run_until(bus, handler, count=2)

    assert [e.payload["n"] for e in handler.envelopes] == [2]
    [letter] = [DeadLetter.from_record(r) for r in bus.records(DLQ)]
    assert letter.reason.startswith("not JSON")
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (SOURCE, 0, 0)
    assert letter.consumer_group == GROUP
    assert (letter.key, letter.value, letter.headers) == (
        b"exec-1",
        b"{garbage",
        (("trace", b"abc"),),
    )


async def test_json_nested_past_what_python_can_read_is_dead_lettered_and_the_loop_goes_on(
    bus: FakeBus,
) -> None:
    # Once a crash loop: Python's decoder ran out of stack, and every consumer of the
    # topic died on the record, restarted, and died on it again.
    handler = Handled()
    await send(bus, b'{"schema_version": 1, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    await send(bus, good(2))

    await run_until(bus, handler, count=2)

    assert [e.payload["n"] for e in handler.envelopes] == [2]
    [letter] = [DeadLetter.from_record(r) for r in bus.records(DLQ)]
    assert letter.reason.startswith("nested too deeply")


async def test_an_envelope_that_fails_validation_is_dead_lettered_with_the_field_named(
    bus: FakeBus,
) -> None:
    await send(bus, b'{"schema_version": 1, "kind": "k"}')

    await run_until(bus, Handled(), count=1)

    [letter] = [DeadLetter.from_record(r) for r in bus.records(DLQ)]
    assert "field 'execution_id' missing" in letter.reason


async def test_a_message_the_handler_calls_poison_is_dead_lettered(bus: FakeBus) -> None:
    handler = Handled()
    await send(bus, good(1, poison="a negative quantity"))
    await send(bus, good(2))

    await run_until(bus, handler, count=2)

    [letter] = [DeadLetter.from_record(r) for r in bus.records(DLQ)]
    assert letter.reason == "cannot handle a negative quantity"
    assert [e.payload["n"] for e in handler.envelopes] == [2]


async def test_any_other_handler_failure_stops_the_loop_without_committing(bus: FakeBus) -> None:
    await send(bus, good(1))
    await send(bus, good(2, explode=True))

    with pytest.raises(ConnectionError, match="database unreachable"):
        await run_until(bus, Handled(), count=2)

    assert bus.committed(GROUP, SOURCE, 0) == 1  # the first, not the failed one
    assert bus.records(DLQ) == []


async def test_a_dead_letter_dead_lettered_again_keeps_only_the_latest_reason(bus: FakeBus) -> None:
    earlier = (("stepstream.dlq.reason", b"old"), ("stepstream.dlq.source-topic", b"x"))
    await send(bus, b"[]", (*earlier, ("trace", b"t")))

    await run_until(bus, Handled(), count=1)

    [record] = bus.records(DLQ)
    reasons = [v for n, v in record.headers if n == "stepstream.dlq.reason"]
    assert reasons == [b"not a JSON object but an array"]
    assert DeadLetter.from_record(record).headers == (("trace", b"t"),)


def test_a_record_that_is_not_a_dead_letter_says_so() -> None:
    with pytest.raises(ValueError, match=r"not a dead letter: header 'stepstream\.dlq\.reason'"):
        DeadLetter.from_record(Record("t", 0, 0, None, b"x", (("other", b"1"),)))


async def test_the_loop_ends_when_its_subscriber_stops(bus: FakeBus) -> None:
    subscriber = FakeSubscriber(bus, topics=[SOURCE], group_id=GROUP)
    await subscriber.start()
    async with FakePublisher(bus) as publisher:
        loop = asyncio.create_task(
            consume(subscriber, Handled(), dead_letter=publisher, dead_letter_topic=DLQ)
        )
        await asyncio.sleep(0)  # let the loop begin waiting
        await subscriber.stop()

        await asyncio.wait_for(loop, timeout=5)
