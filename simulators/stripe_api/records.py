"""The stand-in's own records of the objects it serves.

These hold what the stand-in needs to act and to answer; ``render`` turns them into the
JSON objects Stripe returns. They are plain pydantic models so that a store can keep
them as JSON and read them back unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

IntentStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "succeeded",
    "canceled",
]
CaptureMethod = Literal["automatic", "automatic_async", "manual"]


class PaymentMethodRecord(BaseModel):
    """A card payment method minted when a test payment method (``pm_card_*``) is used."""

    id: str
    created: int
    test_name: str
    brand: str
    last4: str
    funding: str
    exp_month: int
    exp_year: int
    fingerprint: str


class ChargeRecord(BaseModel):
    """One attempt to take money for a PaymentIntent: succeeded, or failed on a decline."""

    id: str
    created: int
    payment_intent: str
    payment_method: str
    amount: int
    currency: str
    status: Literal["succeeded", "failed"]
    captured: bool = False
    amount_captured: int = 0
    amount_refunded: int = 0
    # An uncaptured charge released by cancelling its PaymentIntent is marked refunded
    # without a Refund object: no captured money went back.
    released: bool = False
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None
    decline_code: str | None = None


class RefundRecord(BaseModel):
    id: str
    created: int
    amount: int
    currency: str
    charge: str
    payment_intent: str
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    status: Literal["succeeded"] = "succeeded"


class PaymentIntentRecord(BaseModel):
    id: str
    created: int
    client_secret: str
    amount: int
    currency: str
    status: IntentStatus
    capture_method: CaptureMethod
    payment_method: str | None = None
    payment_method_types: list[str] = Field(default_factory=lambda: ["card"])
    automatic_payment_methods: dict[str, Any] | None = None
    allowed_payment_method_types: list[str] | None = None
    excluded_payment_method_types: list[str] | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    amount_capturable: int = 0
    amount_received: int = 0
    latest_charge: str | None = None
    charges: list[str] = Field(default_factory=list)
    last_payment_error: dict[str, Any] | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    # Fields the caller may set that the stand-in only echoes back (receipt_email, ...).
    echoed: dict[str, Any] = Field(default_factory=dict)


Record = PaymentIntentRecord | ChargeRecord | RefundRecord | PaymentMethodRecord
