"""Reaching the running stack from a command.

An embedded stack says where everything is in its data folder. A deployed one (Apache
Kafka, PostgreSQL) is named by the environment instead: STEPSTREAM_STORE_URL and
STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS, used when no embedded stack runs on the data folder.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from stepstream.api.client import StepStreamClient
from stepstream.api.stack_file import StackNotRunning, data_dir, read_stack
from stepstream.messaging.doorbell import FOLDER
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import DEFAULT_PREFIX, Topics

if TYPE_CHECKING:
    from stepstream.store.base import ExecutionReader


def _stack(folder: str | None) -> tuple[str, str, str, Path | None]:
    """(store URL, bootstrap servers, topic prefix, doorbells) of the stack to talk to.

    The doorbells' folder is an embedded stack's; a deployed one has none.
    """
    where = data_dir(folder)
    try:
        stack = read_stack(where)
    except StackNotRunning:
        store_url = os.environ.get("STEPSTREAM_STORE_URL")
        bootstrap = os.environ.get("STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS")
        if folder is None and store_url and bootstrap:
            prefix = os.environ.get("STEPSTREAM_TOPIC_PREFIX", DEFAULT_PREFIX)
            return store_url, bootstrap, prefix, None
        raise
    return stack.store_url, stack.bootstrap_servers, stack.topic_prefix, where / FOLDER


def stack_address(folder: str | None) -> tuple[str, str, str]:
    """(store URL, bootstrap servers, topic prefix) of the stack on ``folder``."""
    store_url, bootstrap, prefix, _doorbells = _stack(folder)
    return store_url, bootstrap, prefix


def publisher_settings(
    kafka: KafkaSettings | None, bootstrap: str, doorbells: Path | None = None
) -> KafkaSettings:
    """``kafka`` (TLS, SASL, timeouts; else read from the environment) at ``bootstrap``.

    With an embedded stack's ``doorbells`` (and none set already), it rings them too, so
    that the stack's processes read what it sent at once (``messaging.doorbell``).
    """
    update: dict[str, object] = {"bootstrap_servers": bootstrap}
    settings = kafka or KafkaSettings()
    if settings.doorbell_dir is None and doorbells is not None:
        update["doorbell_dir"] = doorbells
    return settings.model_copy(update=update)


@asynccontextmanager
async def connect(
    folder: str | None, *, kafka: KafkaSettings | None = None
) -> AsyncIterator[StepStreamClient]:
    """The stack's API client; a process passes the ``kafka`` settings it loaded."""
    from stepstream.store.factory import open_reader

    store_url, bootstrap, prefix, doorbells = _stack(folder)
    async with open_reader(store_url) as store:
        publisher = KafkaPublisher(settings=publisher_settings(kafka, bootstrap, doorbells))
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

    store_url, _bootstrap, _prefix = stack_address(folder)
    async with open_reader(store_url) as store:
        yield store
