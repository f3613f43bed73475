"""How a process shows itself to operators, from ``STEPSTREAM_*`` variables.

- ``STEPSTREAM_HEALTH_PORT``: the port of ``/healthz`` and ``/metrics``; unset: no
  server; 0: a free port, chosen when the server starts.
- ``STEPSTREAM_HEALTH_HOST``: the address it listens on (``0.0.0.0`` in a container, so
  that probes and Prometheus reach it).
- ``STEPSTREAM_LOG_FORMAT``: ``text`` (default) or ``json`` (one object per line, with
  the execution ARN, state and command id a line is about).
- ``STEPSTREAM_LOG_LEVEL``: DEBUG, INFO (default), WARNING, ERROR.
- ``STEPSTREAM_TRACING``: send OpenTelemetry traces (``OTEL_EXPORTER_OTLP_ENDPOINT`` set
  does the same); off by default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ObservabilitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True, extra="ignore")

    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "127.0.0.1"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    tracing: bool = False
