"""The orders view process over an in-memory bus: topics in, tables kept, poison set aside."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.order_view.app import serve
from services.order_view.queries import list_orders, open_view
from services.order_view.settings import OrderViewSettings
from stepstream.messaging import DeadLetter, Envelope, FakeBus
from tests.integration.harness import eventually
from tests.orders.recorded import recorded

PREFIX = "view"


async def test_history_and_receipts_become_orders_and_poison_is_set_aside(
    tmp_path: Path,
) -> None:
    bus = FakeBus(partitions=2)
    settings = OrderViewSettings(topic_prefix=PREFIX, data_dir=tmp_path)
    stop = asyncio.Event()
    process = asyncio.create_task(serve(settings, stop, bus=bus))
    publisher = bus.publisher()
    await publisher.start()
    database = await open_view(settings)
    try:
        happy = recorded("happy")
        receipt = {"orderId": "ord-happy", "receiptId": "rc-1", "total": 1800, "currency": "eur"}
        await publisher.publish(
            f"{PREFIX}.receipts",
            "ord-happy",
            Envelope(kind="receipt.emitted", execution_id="ord-happy", payload=receipt),
        )
        await publisher.publish_raw(f"{PREFIX}.history", b"x", b"\xff\xfe", ())
        for batch in happy.batches(6):
            envelope = Envelope(
                kind="history.events",
                execution_id=happy.execution_arn,
                payload=happy.payload(batch),
            )
            await publisher.publish(f"{PREFIX}.history", happy.execution_arn, envelope)

        async def finished() -> bool:
            orders = await list_orders(database)
            return bool(orders) and orders[0].row.status == "SUCCEEDED"

        await eventually(finished, timeout=5)
        [order] = await list_orders(database)
        assert order.to_json()["receipt"]["receiptId"] == "rc-1"
        assert order.row.tracking_number == "TN1"
        letters = [DeadLetter.from_record(r) for r in bus.records(f"{PREFIX}.dead-letter")]
        assert [letter.source_topic for letter in letters] == [f"{PREFIX}.history"]
        assert "not UTF-8" in letters[0].reason
    finally:
        stop.set()
        await process
        await database.close()
        await publisher.stop()


def test_the_view_reads_its_topics_with_a_linger_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STEPSTREAM_KAFKA_FETCH_LINGER_MS", raising=False)
    assert OrderViewSettings().kafka_settings().fetch_linger_ms == 50
    assert OrderViewSettings(order_view_fetch_linger_ms=0).kafka_settings().fetch_linger_ms == 0

    monkeypatch.setenv("STEPSTREAM_KAFKA_FETCH_LINGER_MS", "7")
    assert OrderViewSettings().kafka_settings().fetch_linger_ms == 7
