"""An oversized record on a command topic, against the real embedded broker.

The embedded broker takes records of any size (it enforces no max.message.bytes), so a
producer allowed large requests can put one there; its consumer must set it aside,
bounded, and go on to the commands behind it, not crash-loop on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.dead_letter import PREVIEW_BYTES
from stepstream.messaging.kafka import KafkaBus, KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.worker import CommandContext, Worker, WorkerSettings
from tests.messaging.support import unique
from tests.messaging.worker_harness import Harness, serving

SERVICE = "reserve-stock"
LARGE = 1_200_000


@pytest.fixture
async def settings(broker: EmbeddedBroker, kafka_settings: KafkaSettings) -> WorkerSettings:
    topics = Topics(unique("big"))
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


async def test_an_oversized_command_is_dead_lettered_bounded_and_the_next_is_answered(
    settings: WorkerSettings, harness: Harness
) -> None:
    worker = Worker(name=SERVICE, settings=settings)

    @worker.handler(SERVICE)
    async def reserve(command: CommandContext) -> dict[str, Any]:
        return {"reserved": command.input["sku"]}

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

    assert reply.payload == {"output": {"reserved": "A-1"}}
    assert letter.truncated
    assert letter.original_size == len(oversized)
    assert letter.value == oversized[:PREVIEW_BYTES]
    assert "too large" in letter.reason and str(len(oversized)) in letter.reason
    assert ("trace-id", b"t-1") in letter.headers
    assert letter.source_topic == Topics(settings.topic_prefix).commands(SERVICE)
