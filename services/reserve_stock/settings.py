"""The reserve-stock service's settings, from ``STEPSTREAM_*`` variables.

- ``STEPSTREAM_INVENTORY_DATABASE_URL``: the inventory; default a SQLite file
  ``reserve-stock.db`` in ``STEPSTREAM_DATA_DIR``; ``postgresql://...?schema=...`` in
  production (default schema ``reserve_stock``).
- ``STEPSTREAM_INITIAL_STOCK``: JSON ``{"SKU": units, ...}``, applied at start to SKUs
  the inventory does not know yet (stock already there is never reset). Unset: the
  stock of the shop's catalogue (``services.common.catalog``); ``{}``: none.
- the worker's: ``STEPSTREAM_KAFKA_*``, ``STEPSTREAM_TOPIC_PREFIX``, ``STEPSTREAM_CONCURRENCY``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from services.common.catalog import PRODUCTS
from services.common.settings import ServiceSettings

Sku = Annotated[str, StringConstraints(min_length=1)]
Units = Annotated[int, Field(ge=0)]


def catalogue_stock() -> dict[str, int]:
    """The stock each product of the catalogue starts with."""
    return {sku: stock for sku, (_, stock) in PRODUCTS.items()}


class ReserveStockSettings(ServiceSettings):
    inventory_database_url: str | None = None
    initial_stock: dict[Sku, Units] = Field(default_factory=catalogue_stock)

    def database(self) -> str:
        return self.database_url(self.inventory_database_url, "reserve-stock.db")
