"""The worker kit against the real embedded broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.dead_letter import PREVIEW_BYTES
from stepstream.messaging.kafka import KafkaBus, KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.worker import CommandContext, Worker, WorkerSettings
from tests.messaging.support import eventually, unique
from tests.messaging.worker_harness import Harness, serving

SERVICE = "book-shipment"
# Over the embedded broker's default record size; it enforces no max.message.bytes, so a
# producer allowed large requests can put such a record on a command topic.
LARGE = 1_200_000


class CarrierDown(Exception):
    retriable = True


@pytest.fixture
async def settings(broker: EmbeddedBroker, kafka_settings: KafkaSettings) -> WorkerSettings:
    topics = Topics(unique("w"))
    names = [topics.commands(SERVICE), topics.replies(), topics.dead_letter()]
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(name) for name in names])
    return WorkerSettings(kafka=kafka_settings, topic_prefix=topics.prefix)


@pytest.fixture
async def harness(settings: WorkerSettings) -> AsyncIterator[Harness]:
    bus = KafkaBus(settings=settings.kafka)
    async with Harness(
        bus=bus, topics=Topics(settings.topic_prefix), service=SERVICE
    ).running() as h:
        yield h


async def test_a_handlers_output_is_the_success_reply(
    settings: WorkerSettings, harness: Harness
) -> None:
    worker = Worker(name=SERVICE, settings=settings)
    seen: list[CommandContext] = []

    @worker.handler(SERVICE)
    async def book(cmd: CommandContext) -> dict[str, Any]:
        seen.append(cmd)
        return {"trackingNumber": f"T-{cmd.input['orderId']}"}

    async with serving(worker):
        command = await harness.send({"orderId": "o-1"})
        reply = await harness.reply(command)

    assert reply.kind == "task.succeeded"
    assert reply.payload == {"output": {"trackingNumber": "T-o-1"}}
    assert (reply.execution_id, reply.idempotency_key) == ("exec-1", command.idempotency_key)
    assert [(c.command_id, c.idempotency_key) for c in seen] == [
        (command.command_id, command.idempotency_key)
    ]


async def test_a_handlers_exception_is_the_failure_reply(
    settings: WorkerSettings, harness: Harness
) -> None:
    worker = Worker(name=SERVICE, settings=settings)

    @worker.handler(SERVICE)
    async def book(cmd: CommandContext) -> None:
        raise CarrierDown("503 from the carrier")

    async with serving(worker):
        reply = await harness.reply(await harness.send({"orderId": "o-1"}))

    assert reply.kind == "task.failed"
    assert reply.payload == {
        "error": "CarrierDown",
        "cause": "503 from the carrier",
        "retriable": True,
    }


async def test_a_long_handler_sends_heartbeats_until_it_answers(
    settings: WorkerSettings, harness: Harness
) -> None:
    worker = Worker(name=SERVICE, settings=settings)
    release = asyncio.Event()

    @worker.handler(SERVICE)
    async def book(cmd: CommandContext) -> str:
        await release.wait()
        return "booked"

    async with serving(worker):
        command = await harness.send({"orderId": "o-1"}, heartbeat_seconds=1)
        await eventually(lambda: len(harness.replies_to(command)) >= 2)
        release.set()
        await harness.reply(command, "task.succeeded")

    kinds = [reply.kind for reply in harness.replies_to(command)]
    assert kinds[-1] == "task.succeeded"
    assert set(kinds[:-1]) == {"task.heartbeat"} and len(kinds) >= 3


async def test_a_malformed_command_is_dead_lettered_and_the_next_one_served(
    settings: WorkerSettings, harness: Harness
) -> None:
    worker = Worker(name=SERVICE, settings=settings)

    @worker.handler(SERVICE)
    async def book(cmd: CommandContext) -> str:
        return "booked"

    async with serving(worker):
        await harness.send_raw(b'{"schema_version": 1, "kind": "task.command"}')
        command = await harness.send({"orderId": "o-2"})
        reply = await harness.reply(command)
        [letter] = await harness.dead_letters(1)

    assert reply.payload == {"output": "booked"}
    assert letter.source_topic == harness.topics.commands(SERVICE)
    assert "field 'execution_id' missing" in letter.reason
    assert letter.value == b'{"schema_version": 1, "kind": "task.command"}'


async def test_a_command_cut_off_by_a_crash_is_served_by_the_next_worker(
    settings: WorkerSettings, harness: Harness
) -> None:
    first = Worker(name=SERVICE, settings=settings)
    started = asyncio.Event()

    @first.handler(SERVICE)
    async def hang(cmd: CommandContext) -> str:
        started.set()
        await asyncio.Event().wait()  # never answers
        return "unreachable"

    await first.start()
    try:
        command = await harness.send({"orderId": "o-3"})
        await asyncio.wait_for(started.wait(), timeout=20)
    finally:
        await first.stop()  # mid-command: no reply was sent, nothing was committed

    second = Worker(name=SERVICE, settings=settings)
    served: list[str] = []

    @second.handler(SERVICE)
    async def book(cmd: CommandContext) -> str:
        served.append(cmd.idempotency_key or "")
        return "booked"

    async with serving(second):
        reply = await harness.reply(command)

    assert reply.payload == {"output": "booked"}
    assert served == [command.idempotency_key]
    assert [r.kind for r in harness.replies_to(command)] == ["task.succeeded"]


async def test_an_oversized_command_is_dead_lettered_bounded_and_the_next_is_answered(
    settings: WorkerSettings, harness: Harness
) -> None:
    worker = Worker(name=SERVICE, settings=settings)

    @worker.handler(SERVICE)
    async def book(command: CommandContext) -> dict[str, Any]:
        return {"booked": command.input["sku"]}

    large = settings.kafka.model_copy(update={"max_record_bytes": 4 * 1024 * 1024})
    async with KafkaPublisher(settings=large) as producer:
        oversized = b'{"pad": "' + b"x" * LARGE + b'"}'
        await producer.publish_raw(
            Topics(settings.topic_prefix).commands(SERVICE),
            b"exec-1",
            oversized,
            [("trace-id", b"t-1")],
        )
    async with serving(worker):
        command = await harness.send({"sku": "A-1"})
        reply = await harness.reply(command)
        [letter] = await harness.dead_letters(1)

    assert reply.payload == {"output": {"booked": "A-1"}}
    assert letter.truncated
    assert letter.original_size == len(oversized)
    assert letter.value == oversized[:PREVIEW_BYTES]
    assert "too large" in letter.reason and str(len(oversized)) in letter.reason
    assert ("trace-id", b"t-1") in letter.headers
    assert letter.source_topic == Topics(settings.topic_prefix).commands(SERVICE)
