"""``/healthz``, ``/livez`` and ``/metrics`` over HTTP, one small aiohttp server per process.

``/healthz`` answers 200 when every check of the process passes and 503 otherwise, with
each check's result as JSON: ready for work (the compose health check and Kubernetes'
readiness probe). ``/livez`` answers 200 whenever the process's event loop does: a
liveness probe on it restarts a process that hangs, not every process when Kafka is
away. ``/metrics`` is Prometheus' text format, from prometheus-client's registry.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.registry import CollectorRegistry

from stepstream.observability.health import PROCESS_CHECKS, HealthChecks


class ObservabilityServer:
    """Serves one process's health and metrics; ``start()`` then ``stop()``."""

    def __init__(
        self,
        *,
        process: str,
        host: str = "127.0.0.1",
        port: int = 0,
        checks: HealthChecks | None = None,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.checks = checks or PROCESS_CHECKS
        self.registry = registry
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> ObservabilityServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _healthz(self, request: web.Request) -> web.Response:
        results = await self.checks.run()
        # A process with nothing registered yet is still starting.
        healthy = bool(results) and all(r.ok for r in results)
        body = {
            "process": self.process,
            "status": "ok" if healthy else ("starting" if not results else "failing"),
            "checks": {r.name: ("ok" if r.ok else r.detail) for r in results},
        }
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps(body),
            content_type="application/json",
        )

    async def _livez(self, request: web.Request) -> web.Response:
        return web.Response(
            text=json.dumps({"process": self.process, "status": "alive"}),
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
