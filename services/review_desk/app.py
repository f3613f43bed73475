"""The review desk process: takes tickets in from the human-review topic.

python -m services.review_desk      (settings from STEPSTREAM_* variables, see settings.py)

Operators act on the tickets through ``ReviewDesk`` (the ``stepstream review`` commands),
which shares the ticket database with this process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from services.common.database import Database, open_database
from services.common.running import run_service
from services.review_desk.intake import TicketIntake
from services.review_desk.repository import DDL, DEFAULT_SCHEMA
from services.review_desk.settings import ReviewDeskSettings
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Bus
from stepstream.messaging.dead_letter import Handler, consume
from stepstream.messaging.kafka import KafkaBus
from stepstream.messaging.topics import Topics

log = logging.getLogger(__name__)

NAME = "review-desk"


async def open_tickets(settings: ReviewDeskSettings) -> Database:
    """The ticket database, opened (its table created if missing)."""
    return await open_database(settings.database_url(), default_schema=DEFAULT_SCHEMA, ddl=DDL)


async def serve(
    settings: ReviewDeskSettings, stop: asyncio.Event, *, bus: Bus | None = None
) -> None:
    """Take tickets in until ``stop`` is set; raise what stopped intake otherwise."""
    topics = Topics(settings.topic_prefix)
    if bus is None:
        await ensure_topics(
            settings.kafka.bootstrap_servers,
            [TopicSpec(topics.human_review()), TopicSpec(topics.dead_letter())],
        )
        bus = KafkaBus(settings=settings.kafka)
    database = await open_tickets(settings)
    try:
        log.info("review desk taking tickets from %s", topics.human_review())
        await consume_until(
            bus,
            [topics.human_review()],
            f"{topics.prefix}.{NAME}",
            TicketIntake(database=database).handle,
            dead_letter_topic=topics.dead_letter(),
            max_bytes=settings.max_message_bytes,
            stop=stop,
        )
    finally:
        await database.close()


async def consume_until(
    bus: Bus,
    sources: Sequence[str],
    group_id: str,
    handler: Handler,
    *,
    dead_letter_topic: str,
    max_bytes: int,
    stop: asyncio.Event,
) -> None:
    """Consume ``sources`` in ``group_id`` until ``stop`` is set or the handler fails."""
    publisher = bus.publisher()
    subscriber = bus.subscriber(sources, group_id=group_id)
    await publisher.start()
    try:
        await subscriber.start()
        consuming = asyncio.create_task(
            consume(
                subscriber,
                handler,
                dead_letter=publisher,
                dead_letter_topic=dead_letter_topic,
                max_bytes=max_bytes,
                consumer_group=group_id,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({consuming, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (consuming, stopping):
                task.cancel()
            await asyncio.gather(consuming, stopping, return_exceptions=True)
        if not consuming.cancelled():
            consuming.result()  # a handler's error, raised here so that the process exits
    finally:
        await subscriber.stop()
        await publisher.stop()


def main() -> int:
    return run_service(NAME, ReviewDeskSettings, serve)
