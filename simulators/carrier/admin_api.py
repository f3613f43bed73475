"""The admin endpoints chaos tests use to set faults and read what happened.

They need no API key: the simulator is a test fixture listening on 127.0.0.1.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from .faults import FaultSettings
from .responses import validation_error
from .state import STATE


def _settings_response(settings: FaultSettings) -> web.Response:
    return web.json_response(text=settings.model_dump_json())


async def set_faults(request: web.Request) -> web.Response:
    """``POST /_admin/faults``: replace the fault settings; omitted fields mean no fault."""
    raw = await request.read()
    try:
        settings = FaultSettings.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        return validation_error(422, "invalid_faults", exc)
    return _settings_response(request.app[STATE].set_faults(settings))


async def get_faults(request: web.Request) -> web.Response:
    """``GET /_admin/faults``: the settings in force, with the seed actually used."""
    return _settings_response(request.app[STATE].plan.settings)


async def clear_faults(request: web.Request) -> web.Response:
    """``DELETE /_admin/faults``: back to a healthy carrier."""
    return _settings_response(request.app[STATE].clear_faults())


async def get_stats(request: web.Request) -> web.Response:
    """``GET /_admin/stats``: requests per outcome, faults injected, bookings, cancellations."""
    return web.json_response(text=request.app[STATE].report().model_dump_json())


async def list_shipments(request: web.Request) -> web.Response:
    """``GET /_admin/shipments``: every shipment ever booked, cancelled ones included."""
    shipments = [s.model_dump(mode="json") for s in request.app[STATE].ledger.all()]
    return web.json_response({"shipments": shipments})


async def list_requests(request: web.Request) -> web.Response:
    """``GET /_admin/requests``: every API request in arrival order, with its answer's status."""
    logged = [r.model_dump(mode="json") for r in request.app[STATE].requests.all()]
    return web.json_response({"requests": logged})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_admin/faults", set_faults)
    app.router.add_get("/_admin/faults", get_faults)
    app.router.add_delete("/_admin/faults", clear_faults)
    app.router.add_get("/_admin/stats", get_stats)
    app.router.add_get("/_admin/shipments", list_shipments)
    app.router.add_get("/_admin/requests", list_requests)
