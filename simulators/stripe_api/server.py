"""``StripeStandIn``: the stand-in as an object a test or the embedded stack starts."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Collection
from pathlib import Path
from types import TracebackType

from aiohttp import web

from .account import Account
from .api import TEST_KEY_PREFIXES, StripeApi
from .faults import FaultConfig, FaultInjector
from .ledger import Ledger, build_ledger
from .store import MemoryStore, SqliteStore, StateStore
from .web_app import build_app


class StripeStandIn:
    """A local HTTP server speaking the part of Stripe's API that stepstream uses.

    Point the official SDK at ``url`` (``stripe.StripeClient(key,
    base_addresses={"api": standin.url})``) with any ``sk_test_`` key, or only with
    ``api_keys`` when given. State is in memory unless ``state_path`` names a SQLite
    file, which then keeps objects, the ledger and idempotency keys across restarts.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_keys: Collection[str] | None = None,
        state_path: Path | None = None,
        faults: FaultConfig | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        for key in api_keys or ():
            if not key.startswith(TEST_KEY_PREFIXES):
                raise ValueError(
                    f"api key {key[:8]}... is not a test-mode key: the stand-in accepts "
                    "only sk_test_ and rk_test_ keys"
                )
        self._host = host
        self._requested_port = port
        self._api_keys = api_keys
        self._state_path = state_path
        self._faults = FaultInjector(faults)
        self._clock = clock
        self._rng = rng
        self._runner: web.AppRunner | None = None
        self._api: StripeApi | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        """The base address to give the SDK, e.g. ``http://127.0.0.1:54321``."""
        if self._port is None:
            raise RuntimeError("the Stripe stand-in is not running; call start() first")
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the Stripe stand-in is not running; call start() first")
        return self._port

    async def start(self) -> None:
        """Load any saved state and start listening."""
        if self._runner is not None:
            raise RuntimeError("the Stripe stand-in is already running")
        store: StateStore = (
            SqliteStore(self._state_path) if self._state_path is not None else MemoryStore()
        )
        api = StripeApi(
            account=Account(clock=self._clock, rng=self._rng),
            store=store,
            faults=self._faults,
            api_keys=self._api_keys,
        )
        api.restore()
        runner = web.AppRunner(build_app(api), access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            store.close()
            raise
        self._port = sock.getsockname()[1]
        self._runner, self._api = runner, api

    async def stop(self) -> None:
        """Stop listening and close the state file; a no-op if not running."""
        runner, api = self._runner, self._api
        self._runner = self._api = None
        self._port = None
        if runner is not None:
            await runner.cleanup()
        if api is not None:
            api.store.close()

    async def __aenter__(self) -> StripeStandIn:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def ledger(self) -> Ledger:
        """Captured and refunded money per PaymentIntent, as ``GET /_admin/ledger``."""
        return build_ledger(self._running().account)

    def set_faults(self, config: FaultConfig) -> None:
        """Replace the fault configuration, as ``POST /_admin/faults``."""
        self._faults.configure(config)

    def reset(self) -> None:
        """Forget every object and idempotency key, as ``POST /_admin/reset``."""
        self._running().reset()

    def _running(self) -> StripeApi:
        if self._api is None:
            raise RuntimeError("the Stripe stand-in is not running; call start() first")
        return self._api
