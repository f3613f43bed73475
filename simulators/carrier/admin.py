"""A client for the carrier simulator's admin endpoints, for tests and the CLI.

await set_faults("http://127.0.0.1:8123", rate_429=0.2, retry_after_seconds=1, seed=7)
print(await stats("http://127.0.0.1:8123"))
"""

from __future__ import annotations

from typing import Any

import httpx

from .faults import FaultSettings
from .models import Shipment
from .request_log import LoggedRequest
from .stats import StatsReport

DEFAULT_TIMEOUT_SECONDS = 10.0


class CarrierAdminError(Exception):
    """The simulator refused an admin request, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def set_faults(url: str, /, **faults: Any) -> FaultSettings:
    """Replace the fault settings (fields left out mean no such fault); returns those in force.

    Raises CarrierAdminError naming the bad field when the simulator refuses a setting.
    """
    return FaultSettings.model_validate(await _call("POST", url, json=faults))


async def get_faults(url: str, /) -> FaultSettings:
    """The fault settings in force, with the seed actually used."""
    return FaultSettings.model_validate(await _call("GET", url))


async def clear_faults(url: str, /) -> FaultSettings:
    """Remove every fault."""
    return FaultSettings.model_validate(await _call("DELETE", url))


async def stats(url: str, /) -> StatsReport:
    """Requests per outcome, faults injected, bookings made and cancelled."""
    return StatsReport.model_validate(await _call("GET", url, path="/_admin/stats"))


async def shipments(url: str, /) -> list[Shipment]:
    """Every shipment the simulator booked, for invariant checks."""
    body = await _call("GET", url, path="/_admin/shipments")
    return [Shipment.model_validate(item) for item in body["shipments"]]


async def requests(url: str, /) -> list[LoggedRequest]:
    """Every API request the simulator received, in arrival order, with when and its answer."""
    body = await _call("GET", url, path="/_admin/requests")
    return [LoggedRequest.model_validate(item) for item in body["requests"]]


async def _call(
    method: str, url: str, *, path: str = "/_admin/faults", json: dict[str, Any] | None = None
) -> Any:
    target = url.rstrip("/") + path
    try:
        async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT_SECONDS) as client:
            response = await client.request(method, target, json=json)
    except httpx.HTTPError as exc:
        raise CarrierAdminError(f"cannot reach the carrier simulator at {target}: {exc}") from exc
    if response.is_error:
        raise CarrierAdminError(_error_message(response), status=response.status_code)
    return response.json()


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"
