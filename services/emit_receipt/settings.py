"""The emit-receipt service's settings, from ``STEPSTREAM_*`` variables.

- ``STEPSTREAM_RECEIPTS_DATABASE_URL``: where receipts are recorded; default a SQLite file
  ``emit-receipt.db`` in ``STEPSTREAM_DATA_DIR``.
- the worker's: ``STEPSTREAM_KAFKA_*``, ``STEPSTREAM_TOPIC_PREFIX``, ``STEPSTREAM_CONCURRENCY``;
  receipt events go to ``<topic prefix>.receipts``.
"""

from __future__ import annotations

from services.common.settings import ServiceSettings


class EmitReceiptSettings(ServiceSettings):
    receipts_database_url: str | None = None

    def database(self) -> str:
        return self.database_url(self.receipts_database_url, "emit-receipt.db")
