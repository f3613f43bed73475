"""The request pipeline that puts faults between a client and the carrier API.

Faults act on every ``/v1`` endpoint (booking, look-up, cancel, label), never on the
admin ones. For each ``/v1`` request, in this order: the API key is checked (a 401 draws
no fault); one fault is drawn; the drawn latency passes; then the fault, if any, acts:

- ``rate_limited`` (429) and ``unavailable`` (503) answer at once and change nothing.
- ``reject`` answers a booking with 422 ``address_rejected`` and books nothing; on any
  other endpoint it does nothing.
- ``timeout``: the request is served in full first, so a booking IS made, and only the
  answer waits ``timeout_delay_seconds``. A client that gives up and retries with the same
  Idempotency-Key gets that same shipment back; one that retries without a key books a
  second shipment, as it would with a real carrier.
- ``malformed``: the request is served in full too (a booking IS made), and the answer is
  replaced by a 200 whose body is not the documented JSON. That is the case of a carrier
  that did the work and then returned garbage: the client cannot tell whether it booked;
  only a retry with the same Idempotency-Key, or a look at the carrier, can.

Every ``/v1`` request is logged on arrival, with the status and Retry-After it was
answered with (``GET /_admin/requests``). Only successful bookings hold on to their
Idempotency-Key; a refused request (4xx) or an
injected 429/503 leaves the key free, so a retry with it is served afresh.
"""

from __future__ import annotations

import json
import math
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from .api import CREATE_ROUTE, REPLAYED_HEADER, address_rejected
from .faults import Draw, Fault, MalformedKind
from .responses import json_error
from .state import STATE, CarrierState
from .stats import Outcome

API_PREFIX = "/v1/"

_OUTCOME_BY_STATUS = {
    201: Outcome.BOOKED,
    400: Outcome.INVALID,
    401: Outcome.UNAUTHORIZED,
    404: Outcome.NOT_FOUND,
    409: Outcome.CONFLICT,
    422: Outcome.REJECTED,
}

_MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Scheduled maintenance</title></head>\n"
    "<body><h1>We'll be back soon</h1>"
    "<p>Our shipping services are undergoing scheduled maintenance.</p></body></html>\n"
)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check the API key, then serve the request through the fault plan in force."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    state = request.app[STATE]
    logged = state.requests.arrived(
        request.method, request.path, request.headers.get("Idempotency-Key")
    )
    response = await _through_faults(request, handler, state)
    state.requests.answered(logged, response.status, response.headers.get("Retry-After"))
    return response


async def _through_faults(
    request: web.Request, handler: Handler, state: CarrierState
) -> web.StreamResponse:
    if not _authorised(request, state.api_key):
        state.stats.record(Outcome.UNAUTHORIZED)
        return json_error(
            401,
            "unauthorized",
            "a valid API key is required as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="carrier"'},
        )
    draw = state.plan.draw()
    if draw.fault is not None:
        state.stats.record_fault(draw.fault)
    await state.pause(draw.latency_seconds)
    early = _early_answer(request, state, draw)
    if early is not None:
        return early
    response = await _serve(request, handler)
    return await _finish(state, draw, response)


def _authorised(request: web.Request, api_key: str) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.strip().encode(), api_key.encode()
    )


def _early_answer(request: web.Request, state: CarrierState, draw: Draw) -> web.Response | None:
    """The answer of a fault that stops the request before it is served, if any."""
    match draw.fault:
        case Fault.RATE_LIMITED:
            state.stats.record(Outcome.RATE_LIMITED)
            return _rate_limited(state.plan.settings.retry_after_seconds)
        case Fault.UNAVAILABLE:
            state.stats.record(Outcome.UNAVAILABLE)
            return json_error(503, "service_unavailable", "the carrier is temporarily unavailable")
        case Fault.REJECT if _is_booking(request):
            state.stats.record(Outcome.REJECTED)
            return address_rejected("the carrier could not verify this address")
    return None


def _rate_limited(retry_after: float | None) -> web.Response:
    if retry_after is None:
        return json_error(429, "rate_limited", "too many requests")
    # HTTP's Retry-After takes whole seconds; the body keeps the exact figure.
    return json_error(
        429,
        "rate_limited",
        f"too many requests, retry after {retry_after:g} s",
        headers={"Retry-After": str(math.ceil(retry_after))},
        retry_after_seconds=retry_after,
    )


def _is_booking(request: web.Request) -> bool:
    route = request.match_info.route
    return route.name == CREATE_ROUTE


async def _serve(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        # The router's own 404/405 get the API's JSON error shape too.
        code = exc.reason.lower().replace(" ", "_")
        return json_error(exc.status, code, f"{request.method} {request.path}: {exc.reason}")


async def _finish(
    state: CarrierState, draw: Draw, response: web.StreamResponse
) -> web.StreamResponse:
    if draw.fault is Fault.MALFORMED and draw.malformed_kind is not None:
        state.stats.record(Outcome.MALFORMED)
        return _garbled(response, draw.malformed_kind)
    if draw.fault is Fault.TIMEOUT:
        # Counted before the wait: by the time the answer leaves, the client has gone.
        state.stats.record(Outcome.TIMED_OUT)
        await state.pause(state.plan.settings.timeout_delay_seconds)
        return response
    state.stats.record(_classify(response))
    return response


def _classify(response: web.StreamResponse) -> Outcome:
    if response.status == 200:
        replayed = response.headers.get(REPLAYED_HEADER) == "true"
        return Outcome.REPLAYED if replayed else Outcome.OK
    return _OUTCOME_BY_STATUS.get(response.status, Outcome.INVALID)


def _garbled(response: web.StreamResponse, kind: MalformedKind) -> web.Response:
    body = response.body if isinstance(response, web.Response) else None
    raw = body if isinstance(body, bytes) else b"{}"
    match kind:
        case MalformedKind.TRUNCATED_JSON:
            return web.Response(body=raw[: max(1, len(raw) // 2)], content_type="application/json")
        case MalformedKind.HTML:
            return web.Response(text=_MAINTENANCE_PAGE, content_type="text/html")
        case MalformedKind.WRONG_FIELDS:
            return web.json_response(_wrong_fields(raw))


def _wrong_fields(raw: bytes) -> dict[str, object]:
    """Valid JSON in some other API's shape: none of the documented fields are there."""
    try:
        original = json.loads(raw)
    except ValueError:
        original = {}
    shipment_id = original.get("shipment_id") if isinstance(original, dict) else None
    return {"data": {"type": "shipment", "id": shipment_id}, "meta": {"api_version": "2019-01"}}
