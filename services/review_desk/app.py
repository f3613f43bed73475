"""The review desk process: takes tickets in from the human-review topic.

python -m services.review_desk      (settings from STEPSTREAM_* variables, see settings.py)

Operators act on the tickets through ``ReviewDesk`` (the ``stepstream review`` commands),
which shares the ticket database with this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from services.common.running import consume_until, run_service
from services.review_desk import repository
from services.review_desk.desk import ReviewDesk
from services.review_desk.intake import TicketIntake
from services.review_desk.reconcile import reconcile
from services.review_desk.repository import DEFAULT_SCHEMA
from services.review_desk.schema import DDL
from services.review_desk.settings import ReviewDeskSettings
from stepstream.api.connect import connect, execution_store
from stepstream.api.waiting import tasks_waiting_on
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Bus
from stepstream.messaging.kafka import KafkaBus
from stepstream.messaging.topics import Topics
from stepstream.observability import metrics
from stepstream.sql.database import Database, open_database

log = logging.getLogger(__name__)

NAME = "review-desk"
# How often the backlog gauges are refreshed; Prometheus scrapes every 15 s or so.
BACKLOG_SECONDS = 5.0


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
    redelivery = asyncio.create_task(redeliver_periodically(settings, database))
    reconciliation = asyncio.create_task(reconcile_periodically(settings, topics, database))
    measuring = asyncio.create_task(measure_backlog_periodically(database))
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
        for task in (redelivery, reconciliation, measuring):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await database.close()


async def measure_backlog(database: Database, now: datetime) -> None:
    """Set the review backlog gauges from the ticket table."""
    async with database.transaction() as tx:
        waiting, oldest = await repository.backlog(tx)
    metrics.REVIEW_BACKLOG.set(waiting)
    metrics.REVIEW_OLDEST_AGE.set(0 if oldest is None else (now - oldest).total_seconds())


async def measure_backlog_periodically(database: Database) -> None:
    while True:
        try:
            await measure_backlog(database, datetime.now(UTC))
        except Exception as exc:  # a busy database: the gauges keep their last values
            log.warning("could not measure the review backlog: %s", exc)
        await asyncio.sleep(BACKLOG_SECONDS)


async def redeliver_periodically(settings: ReviewDeskSettings, database: Database) -> None:
    """Finish decisions that a desk stopped while sending (see ReviewDesk.redeliver)."""
    while True:
        await asyncio.sleep(settings.redelivery_seconds)
        try:
            # STEPSTREAM_DATA_DIR's stack, or the deployment's; TLS and SASL from settings.
            async with connect(None, kafka=settings.kafka) as client:
                settled = await ReviewDesk(database=database, executions=client).redeliver()
        except Exception as exc:  # the stack may be starting or gone: try next time
            log.warning("could not check decisions on their way: %s", exc)
            continue
        for ticket in settled:
            log.info("ticket %s settled after a restart: %s", ticket.ticket_id, ticket.status)


async def reconcile_periodically(
    settings: ReviewDeskSettings, topics: Topics, database: Database
) -> None:
    """At start and then now and again: tickets for every execution waiting on review."""
    review_topic = topics.human_review().removeprefix(f"{topics.prefix}.")
    while True:
        try:
            async with execution_store(None) as store:  # as redelivery finds the stack
                await reconcile(
                    database,
                    lambda: tasks_waiting_on(store, review_topic),
                    now=datetime.now(UTC),
                )
        except Exception as exc:  # the stack may be starting or gone: try next time
            log.warning("could not reconcile tickets with the executions: %s", exc)
        await asyncio.sleep(settings.reconcile_seconds)


def main() -> int:
    return run_service(NAME, ReviewDeskSettings, serve)
