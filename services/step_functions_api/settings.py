"""The Step Functions API process's settings, read from ``STEPSTREAM_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stepstream.messaging.kafka import KafkaSettings
from stepstream.messaging.topics import DEFAULT_PREFIX

DEFAULT_PORT = 8083


class StepFunctionsApiSettings(BaseSettings):
    """Where it listens, what it signs with, and the stack it speaks for.

    With ``STEPSTREAM_AWS_ACCESS_KEY_ID`` and ``STEPSTREAM_AWS_SECRET_ACCESS_KEY`` set,
    only requests signed (SigV4) with that key pair are served; with neither set, any
    key is accepted and signatures are not checked, as for a local endpoint.
    """

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True, extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topic_prefix: str = DEFAULT_PREFIX
    store_url: str = "sqlite:///.stepstream/orchestrator.db"
    step_functions_host: str = "127.0.0.1"
    step_functions_port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    # A deployment sets this: then the process refuses to start without a key pair.
    step_functions_require_signatures: bool = False
    # The region requests are signed for; any region is accepted when none is set.
    aws_region: str | None = None
    # State machine name -> bindings, for machines created over the API (aws_bindings).
    bindings_file: Path | None = None

    @field_validator("aws_access_key_id", "aws_secret_access_key", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # Compose passes a variable the host does not set as an empty one.
        return None if value == "" else value

    def key_pair(self) -> tuple[str, str] | None:
        """(access key id, secret) when both are set: then requests must be signed."""
        if self.aws_access_key_id is None or self.aws_secret_access_key is None:
            return None
        return self.aws_access_key_id, self.aws_secret_access_key.get_secret_value()
