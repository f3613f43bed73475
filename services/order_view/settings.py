"""The orders view process's settings, read from ``STEPSTREAM_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stepstream.messaging.envelope import DEFAULT_MAX_BYTES
from stepstream.messaging.kafka import KafkaSettings
from stepstream.messaging.topics import DEFAULT_PREFIX

DATABASE_FILE = "order-view.db"


class OrderViewSettings(BaseSettings):
    """Where the view reads from and where it keeps its tables.

    ``STEPSTREAM_ORDER_VIEW_DATABASE_URL`` (``sqlite:///...`` or ``postgresql://...``)
    defaults to ``order-view.db`` in ``STEPSTREAM_DATA_DIR``, where the ``orders``
    commands look for it too. ``STEPSTREAM_STORE_URL``, the orchestrator's store, lets
    the view rebuild an order whose events the topic missed.
    """

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True, extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topic_prefix: str = DEFAULT_PREFIX
    data_dir: Path = Path(".stepstream")
    order_view_database_url: str | None = None
    # Comma-separated names of the state machines whose executions are orders.
    order_view_state_machines: str = "Fulfilment"
    store_url: str | None = None
    max_message_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)
    # How far behind the orders the view may run under load, so that it reads the history
    # in fewer, larger fetches (``KafkaSettings.fetch_linger_ms``; the view's own unless
    # STEPSTREAM_KAFKA_FETCH_LINGER_MS is set).
    order_view_fetch_linger_ms: int = Field(default=50, ge=0)

    def kafka_settings(self) -> KafkaSettings:
        """The broker settings, with the view's fetch linger unless one was set."""
        if "fetch_linger_ms" in self.kafka.model_fields_set:
            return self.kafka
        return self.kafka.model_copy(update={"fetch_linger_ms": self.order_view_fetch_linger_ms})

    def database_url(self) -> str:
        if self.order_view_database_url:
            return self.order_view_database_url
        return f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"

    def state_machines(self) -> frozenset[str]:
        names = frozenset(n.strip() for n in self.order_view_state_machines.split(",") if n.strip())
        if not names:
            raise ValueError("STEPSTREAM_ORDER_VIEW_STATE_MACHINES names no state machine")
        return names
