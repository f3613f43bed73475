"""A worker process's settings, read from ``STEPSTREAM_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stepstream.messaging.envelope import DEFAULT_MAX_BYTES
from stepstream.messaging.kafka import KafkaSettings
from stepstream.messaging.topics import DEFAULT_PREFIX


class WorkerSettings(BaseSettings):
    """How a worker reaches the broker and how much it does at once.

    The broker connection comes from ``STEPSTREAM_KAFKA_*`` (see ``KafkaSettings``).
    """

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topic_prefix: str = DEFAULT_PREFIX
    # Commands handled at once; more wait in the broker, uncommitted.
    concurrency: int = Field(default=16, ge=1)
    # How often finished commands' offsets are committed; a crash redelivers at most this
    # much finished work.
    commit_interval_seconds: float = Field(default=0.05, gt=0)
    max_message_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024)
