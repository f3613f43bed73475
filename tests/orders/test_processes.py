"""`python -m services.order_view` and `python -m services.review_desk` as the stack runs them:
settings from the environment, messages in, rows out, a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from services.order_view.queries import list_orders, open_view
from services.order_view.settings import OrderViewSettings
from services.review_desk.app import open_tickets
from services.review_desk.desk import ReviewDesk
from services.review_desk.settings import ReviewDeskSettings
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging import Envelope
from stepstream.messaging.contracts import PUBLISH_KIND
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import Topics
from tests.integration.harness import eventually
from tests.orders.recorded import recorded

REPO = Path(__file__).parents[2]


def history_batch(topics: Topics) -> tuple[str, Envelope]:
    happy = recorded("happy")
    payload = happy.payload(happy.events)
    return topics.history(), Envelope(
        kind="history.events", execution_id=happy.execution_arn, payload=payload
    )


def ticket(topics: Topics) -> tuple[str, Envelope]:
    message = {"executionArn": "arn:x", "taskToken": "tok", "state": "BookShipment"}
    payload = {"message": message, "task_token": "tok", "state": "WaitForHumanReview"}
    return topics.human_review(), Envelope(kind=PUBLISH_KIND, execution_id="arn:x", payload=payload)


async def view_has_an_order(folder: Path) -> bool:
    database = await open_view(OrderViewSettings(data_dir=folder))
    try:
        return len(await list_orders(database)) == 1
    finally:
        await database.close()


async def desk_has_a_ticket(folder: Path) -> bool:
    database = await open_tickets(ReviewDeskSettings(data_dir=folder))
    try:
        return len(await ReviewDesk(database=database).list_tickets()) == 1
    finally:
        await database.close()


Message = Callable[[Topics], tuple[str, Envelope]]
Check = Callable[[Path], Awaitable[bool]]


@pytest.mark.parametrize(
    ("module", "message", "check"),
    [
        ("services.order_view", history_batch, view_has_an_order),
        ("services.review_desk", ticket, desk_has_a_ticket),
    ],
)
async def test_the_process_serves_until_told_to_stop(
    module: str,
    message: Message,
    check: Check,
    kafka: KafkaSettings,
    prefix: str,
    tmp_path: Path,
) -> None:
    topics = Topics(prefix)
    await ensure_topics(kafka.bootstrap_servers, [TopicSpec(t) for t in topics.fixed()])
    env = {
        **os.environ,
        "STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "STEPSTREAM_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "STEPSTREAM_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "STEPSTREAM_TOPIC_PREFIX": prefix,
        "STEPSTREAM_DATA_DIR": str(tmp_path),
    }
    log = tmp_path / "process.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, cwd=REPO, env=env, stdout=output, stderr=output
        )
    try:
        topic, envelope = message(topics)
        async with KafkaPublisher(settings=kafka) as publisher:
            await publisher.publish(topic, envelope.execution_id, envelope)
        await eventually(lambda: check(tmp_path), timeout=30)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
        assert process.returncode == 0, log.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
