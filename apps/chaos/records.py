"""What the audit reads: the system's own records, as plain data.

Each field comes from the part of the system that owns it (the execution store, the
Stripe stand-in's ledger, the carrier's bookings, the inventory, the receipt book, the
review desk), never from what the runner expected to happen. Kept as plain values so a
test can build records by hand and plant a violation in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ExecutionFacts:
    """One execution: the store's index row (status) and its history, as stored."""

    arn: str
    name: str
    status: str
    input: dict[str, Any]
    events: list[dict[str, Any]]
    output: str | None = None

    @property
    def order_id(self) -> str:
        return str(self.input.get("orderId", self.name))


@dataclass(frozen=True)
class PaymentFacts:
    intent_id: str
    order_id: str
    captured: int
    refunded: int
    refunds: int


@dataclass(frozen=True)
class BookingFacts:
    shipment_id: str
    order_id: str
    status: str  # booked, cancelled


@dataclass(frozen=True)
class ReservationFacts:
    order_id: str
    status: str  # reserved, rejected, released, void
    lines: dict[str, int]


@dataclass(frozen=True)
class ReceiptFacts:
    order_id: str
    total: int


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: str
    execution_arn: str
    status: str  # open, resolved, expired
    opened_at: datetime
    decision: str | None = None


@dataclass
class Records:
    accepted: list[str]
    """Order ids whose start the system acknowledged."""
    definition: dict[str, Any]
    executions: list[ExecutionFacts] = field(default_factory=list)
    payments: list[PaymentFacts] = field(default_factory=list)
    bookings: list[BookingFacts] = field(default_factory=list)
    reservations: list[ReservationFacts] = field(default_factory=list)
    receipts: list[ReceiptFacts] = field(default_factory=list)
    tickets: list[TicketFacts] = field(default_factory=list)
    stock_before: dict[str, int] = field(default_factory=dict)
    stock_now: dict[str, int] = field(default_factory=dict)
