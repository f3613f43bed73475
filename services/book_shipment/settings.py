"""The book-shipment service's settings, from ``STEPSTREAM_*`` variables.

- ``STEPSTREAM_CARRIER_URL``: the carrier API's base address (default: the carrier
  simulator's default address).
- ``STEPSTREAM_CARRIER_API_KEY``: the key sent as ``Authorization: Bearer ...``.
- ``STEPSTREAM_CARRIER_TIMEOUT_SECONDS``: how long to wait for an answer.
- ``STEPSTREAM_CARRIER_MAX_INLINE_WAIT_SECONDS``: a 429 whose Retry-After is at most this
  is waited out and tried once more in the same command; a longer one fails the command
  with the Retry-After, which the orchestrator's retry then honours.
- ``STEPSTREAM_SHIPMENTS_DATABASE_URL``: where bookings are recorded; default a SQLite
  file ``book-shipment.db`` in ``STEPSTREAM_DATA_DIR``.
- the worker's: ``STEPSTREAM_KAFKA_*``, ``STEPSTREAM_TOPIC_PREFIX``, ``STEPSTREAM_CONCURRENCY``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from services.common.settings import ServiceSettings

SIMULATOR_URL = "http://127.0.0.1:8123"
SIMULATOR_KEY = "carrier_test_key"


class BookShipmentSettings(ServiceSettings):
    carrier_url: str = SIMULATOR_URL
    carrier_api_key: SecretStr = SecretStr(SIMULATOR_KEY)
    carrier_timeout_seconds: float = Field(default=5.0, gt=0)
    carrier_max_inline_wait_seconds: float = Field(default=2.0, ge=0)
    shipments_database_url: str | None = None

    def database(self) -> str:
        return self.database_url(self.shipments_database_url, "book-shipment.db")
