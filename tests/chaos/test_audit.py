"""The audit judges records, and catches each kind of violation planted in them.

The clean records are the recorded fulfilment histories (tests/orders/histories) with
the ledgers those orders would leave: one capture per charged order, refunds for the
compensated ones, a booking and a receipt for the ones that shipped, a ticket for the
one in review. Each test then plants one fault and names the invariant that must fail.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.chaos.audit import audit
from apps.chaos.records import (
    BookingFacts,
    ExecutionFacts,
    PaymentFacts,
    ReceiptFacts,
    Records,
    ReservationFacts,
    TicketFacts,
)
from tests.orders.recorded import recorded

DEFINITION = json.loads(
    (Path(__file__).parents[2] / "definitions" / "fulfilment.asl.json").read_text()
)
STATUS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED"}
# name -> (captured, refunded, booked, reservation status, receipt)
BOOKS = {
    "happy": (True, False, "booked", "reserved", True),
    "carrier-retried": (True, False, "booked", "reserved", True),
    "review-retried": (True, False, "booked", "reserved", True),
    "shipment-rejected": (True, True, None, "released", False),
    "card-declined": (False, False, None, None, False),
    "out-of-stock": (True, True, None, "rejected", False),
    "review-waiting": (True, False, None, "reserved", False),
}
STOCK = 100


def _execution(name: str) -> ExecutionFacts:
    history = recorded(name)
    end = history.events[-1]
    output = None
    if end["type"] == "ExecutionSucceeded":
        output = json.dumps(end["details"].get("output"))
    return ExecutionFacts(
        arn=history.execution_arn,
        name=f"ord-{name}",
        status=STATUS.get(end["type"], "RUNNING"),
        input=history.events[0]["details"]["input"],
        events=copy.deepcopy(history.events),
        output=output,
    )


def clean_records() -> Records:
    records = Records(accepted=[], definition=DEFINITION, stock_before={"MUG": STOCK})
    held = 0
    for name, (captured, refunded, booked, reservation, receipt) in BOOKS.items():
        execution = _execution(name)
        order, amount = execution.order_id, int(execution.input["amount"])
        records.accepted.append(order)
        records.executions.append(execution)
        if captured:
            records.payments.append(
                PaymentFacts(f"pi_{name}", order, amount, amount if refunded else 0, int(refunded))
            )
        if booked:
            records.bookings.append(BookingFacts(f"shp_{name}", order, booked))
        if reservation:
            records.reservations.append(ReservationFacts(order, reservation, {"MUG": 2}))
            held += 2 if reservation == "reserved" else 0
        if receipt:
            records.receipts.append(ReceiptFacts(order, amount))
    records.tickets.append(
        TicketFacts("tkt_1", _execution("review-waiting").arn, "open", datetime.now(UTC))
    )
    records.stock_now = {"MUG": STOCK - held}
    return records


def failing(records: Records) -> dict[str, list[str]]:
    """Invariant key -> the order ids of its violations, for the invariants that fail."""
    return {
        result.key: sorted({o for v in result.violations for o in v.order_ids})
        for result in audit(records)
        if not result.holds
    }


def test_the_recorded_orders_and_their_books_audit_clean() -> None:
    results = audit(clean_records())
    assert [r.key for r in results if not r.holds] == []
    assert all(r.checked > 0 for r in results)


def test_a_second_capture_is_a_double_effect_and_unbalances_the_money() -> None:
    records = clean_records()
    records.payments.append(PaymentFacts("pi_again", "ord-happy", 1800, 0, 0))
    found = failing(records)
    assert found["no-double-effect"] == ["ord-happy"]
    assert "ord-happy" in found["money-conserved"]


def test_an_accepted_order_without_an_execution_is_lost() -> None:
    records = clean_records()
    records.accepted.append("ord-vanished")
    assert failing(records) == {"no-lost-order": ["ord-vanished"]}


def test_an_order_still_moving_or_in_review_without_a_ticket_is_lost() -> None:
    records = clean_records()
    records.tickets.clear()
    assert failing(records)["no-lost-order"] == ["ord-review-waiting"]


def test_a_compensated_order_whose_stock_was_never_released_is_caught() -> None:
    records = clean_records()
    records.reservations = [
        replace(r, status="reserved") if r.order_id == "ord-shipment-rejected" else r
        for r in records.reservations
    ]
    found = failing(records)
    assert found["compensated-once"] == ["ord-shipment-rejected"]
    assert "ord-shipment-rejected" in found["stock-conserved"]


def test_a_refund_made_twice_or_not_at_all_is_caught() -> None:
    records = clean_records()
    records.payments = [
        replace(p, refunds=2) if p.order_id == "ord-shipment-rejected" else p
        for p in records.payments
    ]
    records.payments = [
        replace(p, refunded=0) if p.order_id == "ord-out-of-stock" else p for p in records.payments
    ]
    found = failing(records)
    assert found["compensated-once"] == ["ord-out-of-stock", "ord-shipment-rejected"]
    assert found["money-conserved"] == ["ord-out-of-stock"]


def test_stock_that_vanished_is_caught_per_sku() -> None:
    records = clean_records()
    records.stock_now = {"MUG": records.stock_now["MUG"] - 1}
    found = failing(records)
    assert list(found) == ["stock-conserved"]
    result = next(r for r in audit(records) if r.key == "stock-conserved")
    assert "MUG" in result.violations[0].evidence


def _retried(records: Records) -> dict[str, object]:
    execution = next(e for e in records.executions if e.name == "ord-carrier-retried")
    return next(e for e in execution.events if e["id"] == 18)


def test_a_back_off_longer_than_the_retrier_allows_is_caught() -> None:
    records = clean_records()
    event = _retried(records)
    event["details"]["retryDelaySeconds"] = 4.5  # type: ignore[index]
    # attempt 2 of BookShipment's retrier: at most 2 x 2^1 = 4 s
    assert failing(records)["retries-obey-definition"] == ["ord-carrier-retried"]


def test_a_retry_sooner_than_its_back_off_is_caught() -> None:
    records = clean_records()
    execution = next(e for e in records.executions if e.name == "ord-carrier-retried")
    schedule = next(e for e in execution.events if e["id"] == 19)
    schedule["timestamp"] = "2026-01-01T00:00:00.500000+00:00"
    found = failing(records)
    assert found["retries-obey-definition"] == ["ord-carrier-retried"]


def test_a_back_off_shorter_than_the_carriers_retry_after_is_caught() -> None:
    records = clean_records()
    event = _retried(records)
    event["details"]["retryAfterSeconds"] = 3  # type: ignore[index]
    result = next(r for r in audit(records) if r.key == "retries-obey-definition")
    assert [v.order_ids for v in result.violations] == [["ord-carrier-retried"]]
    assert "Retry-After" in result.violations[0].evidence


def test_a_store_status_the_history_does_not_replay_to_is_caught() -> None:
    records = clean_records()
    records.executions = [
        replace(e, status="SUCCEEDED") if e.name == "ord-card-declined" else e
        for e in records.executions
    ]
    assert failing(records)["histories-replay"] == ["ord-card-declined"]


@pytest.mark.parametrize("what", ["booking", "cancelled booking", "receipt"])
def test_a_second_booking_or_receipt_is_a_double_effect(what: str) -> None:
    records = clean_records()
    if what == "booking":
        records.bookings.append(BookingFacts("shp_again", "ord-happy", "booked"))
    elif what == "cancelled booking":
        records.bookings.append(BookingFacts("shp_again", "ord-happy", "cancelled"))
    else:
        records.receipts.append(ReceiptFacts("ord-happy", 1800))
    assert failing(records)["no-double-effect"] == ["ord-happy"]


def test_a_draw_outside_the_bounds_is_caught_even_when_a_hint_set_the_wait() -> None:
    records = clean_records()
    event = _retried(records)
    details = event["details"]
    assert isinstance(details, dict)
    details.update(retryAfterSeconds=1.0, drawnDelaySeconds=9.0, retryDelaySeconds=1.735)
    result = next(r for r in audit(records) if r.key == "retries-obey-definition")
    assert [v.order_ids for v in result.violations] == [["ord-carrier-retried"]]
    assert "back-off 9 s for attempt 2 outside [0, 4] s" in result.violations[0].evidence


def test_two_terminal_events_in_one_history_are_caught() -> None:
    records = clean_records()
    execution = next(e for e in records.executions if e.name == "ord-card-declined")
    last = execution.events[-1]
    execution.events.append({**last, "id": last["id"] + 1, "previousEventId": last["id"]})
    assert failing(records)["no-lost-order"] == ["ord-card-declined"]
