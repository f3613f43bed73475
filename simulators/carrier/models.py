"""The carrier API's JSON shapes: what a client sends and what it gets back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ServiceLevel(StrEnum):
    """How fast the parcel travels; only recorded, it changes nothing else here."""

    ECONOMY = "economy"
    STANDARD = "standard"
    EXPRESS = "express"


class ShipmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class _Strict(BaseModel):
    # A real carrier refuses fields it does not know, so a client's typo shows up at once.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Address(_Strict):
    """Where the parcels go; ``country`` is an ISO 3166-1 alpha-2 code."""

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")


class Parcel(_Strict):
    sku: str = Field(min_length=1, max_length=100)
    qty: int = Field(ge=1)
    weight_grams: int | None = Field(default=None, gt=0)


class ShipmentRequest(_Strict):
    """The body of ``POST /v1/shipments``."""

    order_id: str = Field(min_length=1, max_length=200)
    reference: str | None = Field(default=None, max_length=200)
    address: Address
    parcels: list[Parcel] = Field(min_length=1)
    service_level: ServiceLevel = ServiceLevel.STANDARD

    def fingerprint(self) -> str:
        """A canonical form of the request, so a replay is recognised whatever its layout."""
        return self.model_dump_json()


class CancellationRequest(_Strict):
    """The body of ``POST /v1/cancellations``: which booking to undo, by its idempotency key."""

    idempotency_key: str = Field(min_length=1, max_length=255)


class Shipment(BaseModel):
    """A booked shipment as the carrier returns it."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    tracking_number: str
    carrier: str
    status: ShipmentStatus
    order_id: str
    reference: str | None
    service_level: ServiceLevel
    address: Address
    parcels: list[Parcel]
    label_url: str | None
    created_at: datetime
    cancelled_at: datetime | None = None


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape every failing answer uses: ``{"error": {"code", "message", ...}}``."""
    return {"error": {"code": code, "message": message, **extra}}
