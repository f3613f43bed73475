"""A typed client for the stand-in's admin endpoints, for chaos runs and the demo."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from .faults import FaultConfig, FaultCounts
from .ledger import Ledger


class FaultsView(BaseModel):
    config: FaultConfig
    injected: FaultCounts


class StandInAdminError(RuntimeError):
    """The admin API refused a request; the message is the stand-in's own."""


class StandInAdmin:
    """Reads the ledger and sets faults of a stand-in running at ``base_url``."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    async def ledger(self) -> Ledger:
        return Ledger.model_validate(await self._call("GET", "/_admin/ledger"))

    async def faults(self) -> FaultsView:
        return FaultsView.model_validate(await self._call("GET", "/_admin/faults"))

    async def set_faults(self, config: FaultConfig) -> FaultsView:
        body = config.model_dump()
        return FaultsView.model_validate(await self._call("POST", "/_admin/faults", body))

    async def clear_faults(self) -> FaultsView:
        return FaultsView.model_validate(await self._call("DELETE", "/_admin/faults"))

    async def reset(self) -> None:
        await self._call("POST", "/_admin/reset")

    async def healthy(self) -> bool:
        """Whether the stand-in answers its health check (False if unreachable)."""
        try:
            return (await self._call("GET", "/_admin/health")).get("status") == "ok"
        except (httpx.HTTPError, StandInAdminError):
            return False

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        # trust_env=False: the stand-in is local, and a proxy from the environment must
        # never carry these requests elsewhere.
        async with httpx.AsyncClient(timeout=self._timeout, trust_env=False) as client:
            response = await client.request(method, self._base_url + path, json=body)
        payload = response.json()
        if response.status_code != 200:
            message = payload.get("error", {}).get("message", response.text)
            raise StandInAdminError(f"{method} {path} failed ({response.status_code}): {message}")
        if not isinstance(payload, dict):
            raise StandInAdminError(f"{method} {path} answered with a non-object: {payload!r}")
        return payload
