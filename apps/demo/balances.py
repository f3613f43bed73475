"""The books after a run, each read from its owner, and the invariants they must satisfy.

Money: what Stripe captured minus what it refunded equals the receipts' total, plus what
is held for orders still waiting on a person. Stock: what was taken minus what was put
back equals what shipped, plus what is held for orders in review. No order is captured
twice. Shipments: every booking the carrier still holds is of an order that succeeded or
waits in review, and no failed order keeps one (a time-out does not prove the carrier did
nothing, so compensation cancels).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from apps.demo.scenario import Outcome
from services.common.catalog import PRODUCTS
from services.emit_receipt.receipt_book import DDL as RECEIPTS_DDL
from services.emit_receipt.receipt_book import SqlReceiptBook
from services.reserve_stock.inventory import ReservationStatus
from services.reserve_stock.sql_inventory import DDL as INVENTORY_DDL
from services.reserve_stock.sql_inventory import SqlInventory
from simulators.carrier import admin as carrier_admin
from simulators.stripe_api.admin_client import StandInAdmin
from stepstream.sql.database import open_database


@dataclass
class Balances:
    captured: int
    refunded: int
    receipts_total: int
    held_in_review: int
    stock_before: int
    stock_taken: int
    stock_released: int
    stock_now: int
    shipped_units: int
    units_in_review: int
    orders_captured_twice: list[str]
    live_bookings_not_shipped: list[str]
    failed_orders_still_booked: list[str]

    def invariants(self) -> dict[str, bool]:
        return {
            "money adds up": self.captured - self.refunded
            == self.receipts_total + self.held_in_review,
            "stock adds up": self.stock_taken - self.stock_released
            == self.shipped_units + self.units_in_review,
            "stock is conserved": self.stock_before - self.stock_taken + self.stock_released
            == self.stock_now,
            "nothing captured twice": not self.orders_captured_twice,
            "every live booking is of a shipped order or one in review": not (
                self.live_bookings_not_shipped
            ),
            "no failed order keeps a booking": not self.failed_orders_still_booked,
        }

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "invariants": self.invariants()}


def _units(outcome: Outcome) -> int:
    return sum(int(item["qty"]) for item in outcome.order["items"])


def carrier_checks(
    shipments: Iterable[tuple[str, str]], statuses: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Orders with a live booking that neither shipped nor wait in review, and failed ones
    among them, from the carrier's (order id, shipment status) pairs and the orders' ends."""
    live = {order for order, status in shipments if status == "booked"}
    kept = {"SUCCEEDED", "WAITING_REVIEW"}
    not_shipped = sorted(order for order in live if statuses.get(order) not in kept)
    failed = [order for order in not_shipped if statuses.get(order) == "FAILED"]
    return not_shipped, failed


async def read_balances(
    data_dir: Path,
    stripe_url: str,
    outcomes: list[Outcome],
    *,
    carrier_url: str,
    receipts_url: str | None = None,
    inventory_url: str | None = None,
) -> Balances:
    """The books of a stack; the services' databases are its SQLite files unless named."""
    ledger = await StandInAdmin(stripe_url).ledger()
    captured = sum(entry.captured for entry in ledger.payment_intents)
    refunded = sum(entry.refunded for entry in ledger.payment_intents)
    per_order = Counter(
        e.metadata.get("order_id", e.id) for e in ledger.payment_intents if e.captured > 0
    )

    receipts_db = await open_database(
        receipts_url or f"sqlite:///{data_dir / 'emit-receipt.db'}",
        default_schema="emit_receipt",
        ddl=RECEIPTS_DDL,
    )
    try:
        receipts_total = sum(r.total for r in await SqlReceiptBook(receipts_db).all())
    finally:
        await receipts_db.close()

    inventory_db = await open_database(
        inventory_url or f"sqlite:///{data_dir / 'reserve-stock.db'}",
        default_schema="reserve_stock",
        ddl=INVENTORY_DDL,
    )
    try:
        inventory = SqlInventory(inventory_db)
        stock_now = sum((await inventory.stock()).values())
        reservations = await inventory.reservations()
    finally:
        await inventory_db.close()
    held = [r for r in reservations if r.status is ReservationStatus.RESERVED]
    released = [r for r in reservations if r.status is ReservationStatus.RELEASED]
    taken = sum(line.qty for r in [*held, *released] for line in r.lines)
    put_back = sum(line.qty for r in released for line in r.lines)

    shipments = await carrier_admin.shipments(carrier_url)
    not_shipped, failed_booked = carrier_checks(
        ((s.order_id, s.status.value) for s in shipments),
        {o.order_id: o.status for o in outcomes},
    )

    in_review = [o for o in outcomes if o.status == "WAITING_REVIEW"]
    shipped = [o for o in outcomes if o.status == "SUCCEEDED"]
    held_ids = {o.order_id for o in in_review}
    return Balances(
        captured=captured,
        refunded=refunded,
        receipts_total=receipts_total,
        held_in_review=sum(int(o.order["amount"]) for o in in_review),
        # A fresh stack starts from the catalogue; the stock left must follow from it.
        stock_before=sum(stock for _, stock in PRODUCTS.values()),
        stock_taken=taken,
        stock_released=put_back,
        stock_now=stock_now,
        shipped_units=sum(_units(o) for o in shipped),
        units_in_review=sum(line.qty for r in held if r.order_id in held_ids for line in r.lines),
        orders_captured_twice=sorted(order for order, count in per_order.items() if count > 1),
        live_bookings_not_shipped=not_shipped,
        failed_orders_still_booked=failed_booked,
    )
