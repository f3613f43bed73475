"""Reaching the running stack from a command.

An embedded stack says where everything is in its data folder. A deployed one (Apache
Kafka, PostgreSQL) is named by the environment instead: STEPSTREAM_STORE_URL and
STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS, used when no embedded stack runs on the data folder.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from stepstream.api.client import StepStreamClient
from stepstream.api.stack_file import StackNotRunning, data_dir, read_stack
from stepstream.messaging.doorbell import FOLDER
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import DEFAULT_PREFIX, Topics

if TYPE_CHECKING:
    from stepstream.store.base import ExecutionReader


def _where(folder: str | None) -> tuple[str, str, str]:
    """(store URL, bootstrap servers, topic prefix) of the stack to talk to."""
    try:
        stack = read_stack(data_dir(folder))
    except StackNotRunning:
        store_url = os.environ.get("STEPSTREAM_STORE_URL")
        bootstrap = os.environ.get("STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS")
        if folder is None and store_url and bootstrap:
            return store_url, bootstrap, os.environ.get("STEPSTREAM_TOPIC_PREFIX", DEFAULT_PREFIX)
        raise
    return stack.store_url, stack.bootstrap_servers, stack.topic_prefix


def stack_address(folder: str | None) -> tuple[str, str, str]:
    """(store URL, bootstrap servers, topic prefix) of the stack on ``folder``."""
    return _where(folder)


def publisher_settings(
    kafka: KafkaSettings | None, bootstrap: str, folder: str | None = None
) -> KafkaSettings:
    """``kafka`` (TLS, SASL, timeouts; else read from the environment) at ``bootstrap``.

    Publishing to the embedded stack on ``folder``, it rings the stack's doorbells too,
    so that its processes read what it sent at once (``messaging.doorbell``).
    """
    settings = (kafka or KafkaSettings()).model_copy(update={"bootstrap_servers": bootstrap})
    if settings.doorbell_dir is None:
        try:
            read_stack(data_dir(folder))
        except StackNotRunning:
            return settings
        settings = settings.model_copy(update={"doorbell_dir": data_dir(folder) / FOLDER})
    return settings


@asynccontextmanager
async def connect(
    folder: str | None, *, kafka: KafkaSettings | None = None
) -> AsyncIterator[StepStreamClient]:
    """The stack's API client; a process passes the ``kafka`` settings it loaded."""
    from stepstream.store.factory import open_reader

    store_url, bootstrap, prefix = _where(folder)
    async with open_reader(store_url) as store:
        publisher = KafkaPublisher(settings=publisher_settings(kafka, bootstrap, folder))
        try:
            await publisher.start()
            yield StepStreamClient(
                store=store, publisher=publisher, topics=Topics(prefix), bootstrap=bootstrap
            )
        finally:
            await publisher.stop()


@asynccontextmanager
async def execution_store(folder: str | None) -> AsyncIterator[ExecutionReader]:
    """The running stack's execution store alone, read-only, for readers that send nothing."""
    from stepstream.store.factory import open_reader

    store_url, _bootstrap, _prefix = _where(folder)
    async with open_reader(store_url) as store:
        yield store
