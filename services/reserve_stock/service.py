"""The reserve-stock process: the worker, its handlers, and the wiring of its parts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.common.inputs import decode_input
from services.common.running import serve_worker
from services.reserve_stock import RELEASE_STOCK, RESERVE_STOCK, SERVICE
from services.reserve_stock.inventory import ReleaseOrder, ReserveOrder, StockKeeper
from services.reserve_stock.settings import ReserveStockSettings
from services.reserve_stock.sql_inventory import DDL, SqlInventory
from stepstream.messaging.bus import Bus
from stepstream.sql.database import open_database
from stepstream.worker import CommandContext, Worker, WorkerSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReserveStockParts:
    """The wired service: the domain and the inventory it runs on."""

    keeper: StockKeeper
    inventory: SqlInventory


def build_worker(
    keeper: StockKeeper, *, settings: WorkerSettings, bus: Bus | None = None
) -> Worker:
    """The worker serving ReserveStock and ReleaseStock with ``keeper``."""
    worker = Worker(name=SERVICE, settings=settings, bus=bus)

    @worker.handler(RESERVE_STOCK)
    async def reserve(cmd: CommandContext) -> dict[str, Any]:
        return await keeper.reserve(decode_input(ReserveOrder, cmd.input, command=RESERVE_STOCK))

    @worker.handler(RELEASE_STOCK)
    async def release(cmd: CommandContext) -> dict[str, Any]:
        return await keeper.release(decode_input(ReleaseOrder, cmd.input, command=RELEASE_STOCK))

    return worker


@asynccontextmanager
async def bootstrap(settings: ReserveStockSettings) -> AsyncIterator[ReserveStockParts]:
    """Open the inventory, stock up SKUs it does not know yet; close it afterwards."""
    database = await open_database(settings.database(), default_schema="reserve_stock", ddl=DDL)
    try:
        inventory = SqlInventory(database)
        applied = await inventory.stock_up(settings.initial_stock)
        if applied:
            log.info("initial stock for new SKUs: %s", applied)
        yield ReserveStockParts(StockKeeper(inventory=inventory), inventory)
    finally:
        await database.close()


async def serve(settings: ReserveStockSettings, stop: asyncio.Event) -> None:
    """Serve commands until ``stop`` is set."""
    async with bootstrap(settings) as parts:
        await serve_worker(build_worker(parts.keeper, settings=settings), stop)
