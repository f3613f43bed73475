"""The orders view process: history and receipt events in, the orders tables kept.

python -m services.order_view      (settings from STEPSTREAM_* variables, see settings.py)
"""

from __future__ import annotations

import asyncio
import logging

from services.common.database import open_database
from services.common.running import consume_until, run_service
from services.order_view.projector import OrderProjector, StoreHistory
from services.order_view.repository import DDL, DEFAULT_SCHEMA
from services.order_view.settings import OrderViewSettings
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Bus
from stepstream.messaging.kafka import KafkaBus
from stepstream.messaging.topics import Topics
from stepstream.store.base import ExecutionStore
from stepstream.store.factory import open_store

log = logging.getLogger(__name__)

NAME = "order-view"


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
        bus = KafkaBus(settings=settings.kafka)
    database = await open_database(settings.database_url(), default_schema=DEFAULT_SCHEMA, ddl=DDL)
    store: ExecutionStore | None = None
    try:
        if settings.store_url:
            store = await open_store(settings.store_url)
        projector = OrderProjector(
            database=database,
            state_machines=settings.state_machines(),
            history=StoreHistory(store) if store is not None else None,
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
        )
    finally:
        if store is not None:
            await store.close()
        await database.close()


def main() -> int:
    return run_service(NAME, OrderViewSettings, serve)
