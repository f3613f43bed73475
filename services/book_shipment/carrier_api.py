"""The carrier over its HTTP API (``POST /v1/shipments``, ``POST /v1/cancellations``).

Every answer becomes a ``Booking`` or a named error here: 429 CarrierRateLimited (with
its Retry-After), 5xx or no connection CarrierUnavailable, the client's time-out
CarrierTimeout, 422 ``address_rejected`` ShipmentRejected, other refusals
CarrierRequestRefused, and a success whose body is not a shipment
CarrierResponseMalformed. A cancellation answers the cancelled shipment's id, or None
for the carrier's 404 (the key booked nothing); its other answers map as a booking's.

One aiohttp session serves the process, its connections kept open between calls. An
httpx client cost about fifteen times the client CPU per booking with 20 in flight
(3.2-3.7 ms against 0.2 ms): the httpcore pool polls every idle connection's socket on
each request, so a busy service paid for all its idle connections on every booking.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.book_shipment.errors import (
    CarrierRateLimited,
    CarrierRequestRefused,
    CarrierResponseMalformed,
    CarrierTimeout,
    CarrierUnavailable,
    ShipmentRejected,
)
from services.book_shipment.shipping import Booking, ShipOrder
from services.common.retry_after import parse_retry_after

SHIPMENTS_PATH = "/v1/shipments"
CANCELLATIONS_PATH = "/v1/cancellations"
_BODY_EXCERPT = 120


class _ShipmentAnswer(BaseModel):
    """The fields of the carrier's shipment this service relies on."""

    model_config = ConfigDict(extra="ignore")

    shipment_id: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)
    carrier: str = Field(min_length=1)
    order_id: str | None = None


class _CancelledAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    shipment_id: str = Field(min_length=1)
    status: str


@dataclass(frozen=True)
class CarrierAnswer:
    """One answer of the carrier, read whole."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class CarrierApi:
    """``Carrier`` over HTTP; ``start()`` before use and ``close()`` after."""

    def __init__(self, *, base_url: str, api_key: str, timeout_seconds: float) -> None:
        if not api_key:
            raise ValueError("the carrier API key must not be empty")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout_seconds
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # trust_env=False: no proxy from the environment decides where orders go.
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._api_key}"},
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            trust_env=False,
        )

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def book(self, order: ShipOrder, *, idempotency_key: str) -> Booking:
        response = await self._post(
            SHIPMENTS_PATH, shipment_request(order), {"Idempotency-Key": idempotency_key}
        )
        return booking_from(response, order)

    async def cancel(self, *, idempotency_key: str) -> str | None:
        response = await self._post(CANCELLATIONS_PATH, {"idempotency_key": idempotency_key}, {})
        return cancelled_from(response, idempotency_key)

    async def _post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> CarrierAnswer:
        if self._session is None:
            raise RuntimeError("CarrierApi is not started")
        try:
            async with self._session.post(
                self.base_url + path, json=body, headers=headers
            ) as response:
                content = await response.read()
                return CarrierAnswer(response.status, response.headers, content)
        # Before ClientError: aiohttp's own time-outs are both.
        except TimeoutError as exc:
            raise CarrierTimeout(
                f"the carrier did not answer within {self._timeout:g} s ({type(exc).__name__})"
            ) from exc
        except aiohttp.ClientError as exc:
            raise CarrierUnavailable(
                f"the carrier at {self.base_url} could not be reached: {exc}"
            ) from exc


def shipment_request(order: ShipOrder) -> dict[str, Any]:
    """The carrier's booking request for ``order``."""
    return {
        "order_id": order.order_id,
        "reference": order.order_id,
        "address": order.address.model_dump(),
        "parcels": [{"sku": item.sku, "qty": item.qty} for item in order.items],
        "service_level": "standard",
    }


def booking_from(response: CarrierAnswer, order: ShipOrder) -> Booking:
    """The booking ``response`` holds, or the named error it stands for."""
    status = response.status_code
    if status in (200, 201):
        return _parsed(response, order)
    code, message = _error_of(response)
    if status == 422 and code == "address_rejected":
        raise ShipmentRejected(
            f"the carrier rejected the address of order {order.order_id}: {message}"
        )
    raise _refusal(response, "booking", code, message)


def cancelled_from(response: CarrierAnswer, idempotency_key: str) -> str | None:
    """The id of the shipment ``response`` says was cancelled; None if nothing was booked."""
    status = response.status_code
    if status == 200:
        try:
            answer = _CancelledAnswer.model_validate_json(response.content)
        except ValidationError:
            excerpt = response.text[:_BODY_EXCERPT]
            raise CarrierResponseMalformed(
                f"the carrier answered a cancellation with a body that is not a shipment "
                f"(starts {excerpt!r})"
            ) from None
        if answer.status != "cancelled":
            raise CarrierResponseMalformed(
                f"the carrier answered the cancellation of {idempotency_key!r} with shipment "
                f"{answer.shipment_id} still {answer.status!r}"
            )
        return answer.shipment_id
    code, message = _error_of(response)
    if status == 404 and code == "shipment_not_found":
        return None
    raise _refusal(response, "cancellation", code, message)


def _refusal(response: CarrierAnswer, what: str, code: str, message: str) -> Exception:
    """The named error of a carrier answer that did not do what was asked."""
    status = response.status_code
    if status == 429:
        retry_after = retry_after_seconds(response)
        wait = "" if retry_after is None else f"; Retry-After {retry_after:g} s"
        return CarrierRateLimited(
            f"the carrier answered 429 ({message}){wait}", retry_after_seconds=retry_after
        )
    if status >= 500:
        return CarrierUnavailable(f"the carrier answered {status} ({message})")
    return CarrierRequestRefused(f"the carrier refused the {what} with {status} {code}: {message}")


def _parsed(response: CarrierAnswer, order: ShipOrder) -> Booking:
    try:
        answer = _ShipmentAnswer.model_validate_json(response.content)
    except ValidationError as exc:
        excerpt = response.text[:_BODY_EXCERPT]
        raise CarrierResponseMalformed(
            f"the carrier answered {response.status_code} with a body that is not a shipment "
            f"({exc.error_count()} problems; starts {excerpt!r})"
        ) from None
    if answer.order_id is not None and answer.order_id != order.order_id:
        raise CarrierResponseMalformed(
            f"the carrier answered with the shipment of order {answer.order_id!r}, "
            f"not {order.order_id!r}"
        )
    return Booking(order.order_id, answer.shipment_id, answer.tracking_number, answer.carrier)


def _error_of(response: CarrierAnswer) -> tuple[str, str]:
    """The error code and message of the carrier's ``{"error": {...}}`` body, if it has one."""
    try:
        error = response.json().get("error", {})
        return str(error.get("code", "unknown")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return "unknown", response.text[:_BODY_EXCERPT]


class _HasHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


def retry_after_seconds(response: _HasHeaders, *, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, from delta-seconds or an HTTP date; None if absent or unreadable."""
    return parse_retry_after(response.headers.get("Retry-After"), now=now)
