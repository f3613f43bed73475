"""Reaching the running stack from a command: its data folder says where everything is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from stepstream.api.client import StepStreamClient
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.stack.config import data_dir, read_stack
from stepstream.store.factory import open_store


@asynccontextmanager
async def connect(folder: str | None) -> AsyncIterator[StepStreamClient]:
    stack = read_stack(data_dir(folder))
    store = await open_store(stack.store_url)
    publisher = KafkaPublisher(settings=KafkaSettings(bootstrap_servers=stack.bootstrap_servers))
    try:
        await publisher.start()
        yield StepStreamClient(
            store=store,
            publisher=publisher,
            topics=Topics(stack.topic_prefix),
            bootstrap=stack.bootstrap_servers,
        )
    finally:
        await publisher.stop()
        await store.close()
