"""Beside the embedded broker, a producer rings a topic's consumers, who then fetch.

A consumer with a doorbell holds no fetch at the broker: between fetches that read
nothing it waits for its bell, or at most its safety interval. These specifications set
that interval far beyond their deadlines, so a record read in time was read because the
bell rang.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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
