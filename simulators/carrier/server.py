"""The carrier simulator as an HTTP server that tests and the embedded stack start and stop."""

from __future__ import annotations

import asyncio
from types import TracebackType

from aiohttp import web

from . import admin_api, api
from .chaos import fault_middleware
from .faults import FaultSettings
from .state import STATE, CarrierState

DEFAULT_API_KEY = "carrier_test_key"


def build_app(state: CarrierState) -> web.Application:
    """The aiohttp application serving the carrier API and its admin endpoints."""
    app = web.Application(middlewares=[fault_middleware])
    app[STATE] = state
    # Outside /v1/: no API key, no injected faults, not in the request log.
    app.router.add_get("/healthz", _healthz)
    api.add_routes(app)
    admin_api.add_routes(app)
    return app


async def _healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: the simulator answers (a container health check asks this)."""
    return web.json_response({"status": "ok"})


class CarrierSimulator:
    """A carrier API on ``host:port`` (port 0: any free port), with run-time faults.

    ``seed`` is used by fault settings that give none. Use ``await start()`` then
    ``await stop()``, or ``async with``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        api_key: str = DEFAULT_API_KEY,
        faults: FaultSettings | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 to 65535, got {port}")
        self.host = host
        self.api_key = api_key
        self._port = port
        self._state = CarrierState(api_key=api_key, default_seed=seed)
        if faults is not None:
            self._state.set_faults(faults)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8123``; only known once started."""
        if self._runner is None:
            raise RuntimeError("the carrier simulator is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def port(self) -> int:
        if self._runner is None:
            return self._port
        address = self._runner.addresses[0]
        return int(address[1])

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Bind and begin serving; raises OSError if the port is taken."""
        if self._runner is not None:
            raise RuntimeError("the carrier simulator is already running")
        self._state.closing = asyncio.Event()
        # Slow answers end when closing is set, so a short grace period is enough.
        runner = web.AppRunner(build_app(self._state), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving; safe to call when not running. Shipments stay for inspection."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._state.closing.set()
        await runner.cleanup()

    async def __aenter__(self) -> CarrierSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
