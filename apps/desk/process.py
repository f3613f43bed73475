"""The web desk as a process: ``python -m apps.desk`` (`stepstream up` runs it).

It opens the review desk's database (shared with the review-desk process, which takes
tickets in) and reaches the stack's API once, on first need, keeping the connection.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from aiohttp import web

from apps.desk.context import DeskContext
from apps.desk.settings import DeskSettings
from apps.desk.web import create_app
from services.common.running import run_service
from services.review_desk.app import open_tickets
from stepstream.api.client import StepStreamClient
from stepstream.api.connect import connect
from stepstream.messaging.kafka import KafkaSettings
from stepstream.sql.database import Database

log = logging.getLogger(__name__)

NAME = "web-desk"


class StackApi:
    """The stack's API client, connected on first use and kept; a failed try is retried.

    Its publisher connects with ``kafka`` (the desk's settings: TLS, SASL) at the address
    of the stack it finds, as every other process connects with its own settings.
    """

    def __init__(self, folder: str | None = None, *, kafka: KafkaSettings | None = None) -> None:
        self.folder = folder
        self.kafka = kafka
        self._exit = AsyncExitStack()
        self._client: StepStreamClient | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> StepStreamClient:
        async with self._lock:
            if self._client is None:
                connecting = connect(self.folder, kafka=self.kafka)
                self._client = await self._exit.enter_async_context(connecting)
            return self._client

    async def close(self) -> None:
        await self._exit.aclose()
        self._client = None


async def open_desk_database(settings: DeskSettings) -> Database:
    """The desk's tables (tickets, users, audit) in the review desk's database."""
    return await open_tickets(settings)


def stack_api(settings: DeskSettings) -> StackApi:
    """The desk's way to the stack: the data folder's stack, or the deployment's."""
    return StackApi(kafka=settings.kafka)


async def serve(settings: DeskSettings, stop: asyncio.Event) -> None:
    database = await open_desk_database(settings)
    api = stack_api(settings)
    runner = web.AppRunner(create_app(DeskContext(database=database, api=api, settings=settings)))
    await runner.setup()
    try:
        try:
            await api()  # now, so that its health (the broker) shows from the start
        except Exception as exc:  # the stack may still be starting: the first page tries again
            log.warning("the stack's API is not reachable yet: %s", exc)
        site = web.TCPSite(runner, settings.desk_host, settings.desk_port)
        await site.start()
        log.info("web desk at http://%s:%s/", settings.desk_host, settings.desk_port)
        await stop.wait()
    finally:
        await runner.cleanup()
        await api.close()
        await database.close()


def main() -> int:
    return run_service(NAME, DeskSettings, serve)
