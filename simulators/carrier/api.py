"""The carrier's REST API: book, look up, cancel and label shipments.

A client that never heard back from a booking (a time-out, a garbled answer) does not
know the shipment's id; it cancels by the Idempotency-Key it booked with instead, through
``POST /v1/cancellations``.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from .addresses import rejection_reason
from .ledger import IdempotencyConflict, KeyCancelled, ShipmentNotFound
from .models import CancellationRequest, Shipment, ShipmentRequest
from .responses import json_error, validation_error
from .state import STATE

CREATE_ROUTE = "create_shipment"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = 255


def address_rejected(message: str) -> web.Response:
    return json_error(422, "address_rejected", message)


def _shipment_response(shipment: Shipment, *, status: int = 200) -> web.Response:
    return web.json_response(text=shipment.model_dump_json(), status=status)


async def create_shipment(request: web.Request) -> web.Response:
    """``POST /v1/shipments``: 201 for a new booking, 200 for an idempotent replay."""
    state = request.app[STATE]
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        message = f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
        return json_error(400, "invalid_request", message)
    try:
        body = ShipmentRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return validation_error(400, "invalid_request", exc)
    reason = rejection_reason(body.address)
    if reason is not None:
        return address_rejected(reason)
    origin = str(request.url.origin())
    try:
        booking = state.ledger.book(body, idempotency_key=key, label_base=origin)
    except IdempotencyConflict:
        message = f"{IDEMPOTENCY_HEADER} {key!r} was already used with a different request body"
        return json_error(409, "idempotency_conflict", message)
    except KeyCancelled:
        message = f"{IDEMPOTENCY_HEADER} {key!r} was cancelled before it booked anything"
        return json_error(409, "idempotency_key_cancelled", message)
    response = _shipment_response(booking.shipment, status=200 if booking.replayed else 201)
    if booking.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


def _shipment_or_404(request: web.Request) -> Shipment | web.Response:
    shipment_id = request.match_info["shipment_id"]
    try:
        return request.app[STATE].ledger.get(shipment_id)
    except ShipmentNotFound:
        return json_error(404, "shipment_not_found", f"no shipment with id {shipment_id!r}")


async def get_shipment(request: web.Request) -> web.Response:
    """``GET /v1/shipments/{shipment_id}``."""
    found = _shipment_or_404(request)
    return found if isinstance(found, web.Response) else _shipment_response(found)


async def cancel_shipment(request: web.Request) -> web.Response:
    """``POST /v1/shipments/{shipment_id}/cancel``: idempotent, 200 with the shipment."""
    found = _shipment_or_404(request)
    if isinstance(found, web.Response):
        return found
    return _shipment_response(request.app[STATE].ledger.cancel(found.shipment_id))


async def cancel_by_key(request: web.Request) -> web.Response:
    """``POST /v1/cancellations``: cancel what an Idempotency-Key booked; idempotent.

    200 with the (cancelled) shipment that key booked; 404 ``shipment_not_found`` when it
    booked nothing, after which a booking with that key answers 409
    ``idempotency_key_cancelled`` and books nothing.
    """
    try:
        body = CancellationRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return validation_error(400, "invalid_request", exc)
    try:
        shipment = request.app[STATE].ledger.cancel_by_key(body.idempotency_key)
    except ShipmentNotFound:
        message = f"{IDEMPOTENCY_HEADER} {body.idempotency_key!r} booked no shipment"
        return json_error(404, "shipment_not_found", message)
    return _shipment_response(shipment)


async def get_label(request: web.Request) -> web.Response:
    """``GET /v1/shipments/{shipment_id}/label``: a plain-text shipping label."""
    found = _shipment_or_404(request)
    if isinstance(found, web.Response):
        return found
    address = found.address
    lines = [
        f"{found.carrier.upper()}  {found.service_level.upper()}",
        f"TRACKING {found.tracking_number}",
        f"ORDER {found.order_id}",
        address.name,
        address.line1,
        f"{address.postal_code} {address.city}",
        address.country.upper(),
        f"STATUS {found.status.upper()}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/shipments", create_shipment, name=CREATE_ROUTE)
    app.router.add_get("/v1/shipments/{shipment_id}", get_shipment)
    app.router.add_post("/v1/shipments/{shipment_id}/cancel", cancel_shipment)
    app.router.add_post("/v1/cancellations", cancel_by_key)
    app.router.add_get("/v1/shipments/{shipment_id}/label", get_label)
