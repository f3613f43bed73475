"""The orders view process: history and receipt events in, the orders tables kept.

python -m services.order_view      (settings from STEPSTREAM_* variables, see settings.py)
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from services.common.running import consume_until, run_service
from services.order_view.projector import OrderProjector, StoreHistory
from services.order_view.repository import DDL, DEFAULT_SCHEMA
from services.order_view.settings import OrderViewSettings
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Bus
from stepstream.messaging.kafka import KafkaBus
from stepstream.messaging.topics import Topics
from stepstream.sql.database import open_database
from stepstream.store.factory import open_reader

log = logging.getLogger(__name__)

NAME = "order-view"
# Records handled at once; the projector commits those waiting together.
APPLIED_TOGETHER = 64


async def serve(
    settings: OrderViewSettings, stop: asyncio.Event, *, bus: Bus | None = None
) -> None:
    """Keep the view until ``stop`` is set; raise what stopped it otherwise."""
    topics = Topics(settings.topic_prefix)
    sources = [topics.history(), topics.receipts()]
    if bus is None:
        await ensure_topics(
            settings.kafka.bootstrap_servers,
            [TopicSpec(name) for name in (*sources, topics.dead_letter())],
        )
        bus = KafkaBus(settings=settings.kafka_settings())
    database = await open_database(settings.database_url(), default_schema=DEFAULT_SCHEMA, ddl=DDL)
    try:
        async with AsyncExitStack() as stack:
            history = None
            if settings.store_url:
                history = StoreHistory(
                    await stack.enter_async_context(open_reader(settings.store_url))
                )
            projector = OrderProjector(
                database=database, state_machines=settings.state_machines(), history=history
            )
            log.info("order view reading %s into %s", ", ".join(sources), settings.database_url())
            await consume_until(
                bus,
                sources,
                f"{topics.prefix}.{NAME}",
                projector.handle,
                dead_letter_topic=topics.dead_letter(),
                max_bytes=settings.max_message_bytes,
                stop=stop,
                # Messages of one execution in order, different executions side by side:
                # what arrives together is applied in one transaction (see projector).
                concurrency=APPLIED_TOGETHER,
            )
    finally:
        await database.close()


def main() -> int:
    return run_service(NAME, OrderViewSettings, serve)
