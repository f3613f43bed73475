"""The inventory contract, held against memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.reserve_stock.inventory import Inventory
from services.reserve_stock.sql_inventory import DDL, SqlInventory
from stepstream.sql.database import Database, open_database
from tests.services.inventory_contract import Inventories, InventoryContract
from tests.services.inventory_fakes import MemoryInventory


class TestMemoryInventory(InventoryContract):
    @pytest.fixture
    def inventories(self) -> Inventories:
        shared = MemoryInventory()

        async def make() -> Inventory:
            return shared

        return make


async def _sql_inventories(url: str) -> AsyncIterator[Inventories]:
    opened: list[Database] = []

    async def make() -> Inventory:
        # A database of its own each time: separate connections, as two processes have.
        database = await open_database(url, default_schema="unused", ddl=DDL)
        opened.append(database)
        return SqlInventory(database)

    try:
        yield make
    finally:
        for database in opened:
            await database.close()


class TestSqliteInventory(InventoryContract):
    @pytest.fixture
    async def inventories(self, tmp_path: Path) -> AsyncIterator[Inventories]:
        async for make in _sql_inventories(f"sqlite:///{tmp_path / 'inventory.db'}"):
            yield make


class TestPostgresInventory(InventoryContract):
    @pytest.fixture
    async def inventories(self, postgres_url: str, pg_schema: str) -> AsyncIterator[Inventories]:
        async for make in _sql_inventories(f"{postgres_url}?schema={pg_schema}"):
            yield make
