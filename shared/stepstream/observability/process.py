"""One call a process makes at start to be observable: logs, health, metrics, traces."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from stepstream.observability.logs import configure_logging
from stepstream.observability.server import ObservabilityServer
from stepstream.observability.settings import ObservabilitySettings
from stepstream.observability.tracing import configure_tracing

log = logging.getLogger(__name__)


def setup_logging(process: str, settings: ObservabilitySettings | None = None) -> None:
    settings = settings or ObservabilitySettings()
    configure_logging(process, fmt=settings.log_format, level=settings.log_level)


@asynccontextmanager
async def observed(
    process: str, settings: ObservabilitySettings | None = None
) -> AsyncIterator[ObservabilityServer | None]:
    """Serve ``/healthz`` and ``/metrics`` (when a port is set) and trace (when asked).

    Logging is set up before, by ``setup_logging``, so that bad settings are logged too.
    """
    settings = settings or ObservabilitySettings()
    configure_tracing(process, enabled=settings.tracing)
    if settings.health_port is None:
        yield None
        return
    server = ObservabilityServer(
        process=process, host=settings.health_host, port=settings.health_port
    )
    await server.start()
    log.info("%s serving /healthz and /metrics at %s", process, server.url)
    try:
        yield server
    finally:
        await server.stop()
