"""The review desk's settings, read from ``STEPSTREAM_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stepstream.messaging.envelope import DEFAULT_MAX_BYTES
from stepstream.messaging.kafka import KafkaSettings
from stepstream.messaging.topics import DEFAULT_PREFIX

DATABASE_FILE = "review-desk.db"


class ReviewDeskSettings(BaseSettings):
    """Where tickets come from and where they are kept.

    ``STEPSTREAM_REVIEW_DESK_DATABASE_URL`` (``sqlite:///...`` or ``postgresql://...``)
    defaults to ``review-desk.db`` in ``STEPSTREAM_DATA_DIR``, where the ``review``
    commands look for it too.
    """

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True, extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topic_prefix: str = DEFAULT_PREFIX
    data_dir: Path = Path(".stepstream")
    review_desk_database_url: str | None = None
    max_message_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)
    # How often decisions a stopped desk left on their way are looked at again.
    redelivery_seconds: float = Field(default=30.0, gt=0)
    # How often tickets are compared with the executions waiting on review (and at start).
    reconcile_seconds: float = Field(default=30.0, gt=0)

    def database_url(self) -> str:
        if self.review_desk_database_url:
            return self.review_desk_database_url
        return f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"
