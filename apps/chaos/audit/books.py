"""Invariants 1 to 5: no lost order, no double effect, money and stock conserved, and
every compensated order undone once. Each is a pure function of the records."""

from __future__ import annotations

from collections import Counter, defaultdict

from apps.chaos.audit.outcomes import OrderView, Outcome, terminal_events
from apps.chaos.audit.verdict import InvariantResult
from apps.chaos.records import Records

SETTLED = (Outcome.SUCCEEDED, Outcome.FAILED, Outcome.IN_REVIEW)


def no_lost_order(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "no-lost-order",
        "every accepted order has one execution and one outcome, or waits in review",
    )
    for order_id in records.accepted:
        result.checked += 1
        found = views.get(order_id, [])
        if len(found) != 1:
            arns = ", ".join(v.execution.arn for v in found) or "none"
            result.violate([order_id], f"{len(found)} executions (want 1): {arns}")
            continue
        order = found[0]
        if order.outcome is Outcome.RUNNING:
            why = (
                "waits in review with no open ticket"
                if order.last_state == "WaitForHumanReview"
                else f"still running at the bound, in {order.last_state}"
            )
            result.violate([order_id], why)
        elif order.outcome is Outcome.OTHER:
            result.violate([order_id], f"ended {order.execution.status}")
        terminal = [e["type"] for e in terminal_events(order.execution.events)]
        if len(terminal) > 1:
            result.violate([order_id], f"{len(terminal)} terminal events: {terminal}")
    accepted = set(records.accepted)
    touched = (
        {p.order_id for p in records.payments}
        | {b.order_id for b in records.bookings}
        | {r.order_id for r in records.reservations}
        | {r.order_id for r in records.receipts}
    )
    for order_id in sorted(touched - accepted - set(views)):
        result.violate([order_id], "money, stock or a shipment was touched with no execution")
    return result


def no_double_effect(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "no-double-effect", "at most one capture, one booking and one receipt per order"
    )
    captures = Counter(p.order_id for p in records.payments if p.captured > 0)
    # The carrier is always asked with the order id as the Idempotency-Key, so even a
    # booking later cancelled must be the order's only one.
    bookings = Counter(b.order_id for b in records.bookings)
    receipts = Counter(r.order_id for r in records.receipts)
    result.checked = len(records.accepted)
    kinds = (("captures", captures), ("bookings", bookings), ("receipts", receipts))
    for what, counts in kinds:
        for order_id, count in sorted(counts.items()):
            if count > 1:
                result.violate([order_id], f"{count} {what}")
    return result


def _net(records: Records) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for payment in records.payments:
        net[payment.order_id] += payment.captured - payment.refunded
    return net


def money_conserved(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "money-conserved", "captured - refunded = receipts + held for review, per order and total"
    )
    net = _net(records)
    receipts = {r.order_id: r.total for r in records.receipts}
    held = 0
    for order_id, found in sorted(views.items()):
        if len(found) != 1:
            continue
        order = found[0]
        result.checked += 1
        paid, receipt = net.get(order_id, 0), receipts.get(order_id, 0)
        evidence = f"captured - refunded {paid}, receipt {receipt}, order amount {order.amount}"
        if order.outcome is Outcome.SUCCEEDED:
            if not paid == receipt == order.amount:
                result.violate([order_id], f"succeeded but {evidence}")
        elif order.outcome is Outcome.FAILED:
            if paid != 0 or receipt != 0:
                result.violate([order_id], f"failed but {evidence}")
        else:  # in review or still moving: what is paid and not receipted is held
            if paid - receipt not in (0, order.amount):
                result.violate([order_id], f"held in review is neither 0 nor all: {evidence}")
            held += paid - receipt
    total_net, total_receipts = sum(net.values()), sum(receipts.values())
    if total_net != total_receipts + held:
        result.violate(
            [],
            f"in total captured - refunded {total_net} != receipts {total_receipts} + held {held}",
        )
    return result


def stock_conserved(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "stock-conserved", "stock at start = on hand + shipped + held for review, per SKU"
    )
    shipped: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    outcome = {oid: found[0].outcome for oid, found in views.items() if len(found) == 1}
    for reservation in records.reservations:
        if reservation.status != "reserved":
            continue
        ended = outcome.get(reservation.order_id)
        target = shipped if ended is Outcome.SUCCEEDED else held
        for sku, qty in reservation.lines.items():
            target[sku] += qty
        if ended is Outcome.FAILED:
            result.violate([reservation.order_id], f"failed but still holds {reservation.lines}")
    reserved = {r.order_id: r for r in records.reservations if r.status == "reserved"}
    for order_id, ended in sorted(outcome.items()):
        result.checked += 1
        if ended is Outcome.SUCCEEDED:
            lines = reserved[order_id].lines if order_id in reserved else {}
            if lines != views[order_id][0].items:
                result.violate([order_id], f"succeeded with reserved {lines or 'nothing'}")
    for sku in sorted(set(records.stock_before) | set(records.stock_now)):
        before, now = records.stock_before.get(sku, 0), records.stock_now.get(sku, 0)
        if before != now + shipped[sku] + held[sku]:
            result.violate(
                [],
                f"{sku}: at start {before} != on hand {now} + shipped {shipped[sku]}"
                f" + held {held[sku]}",
            )
    return result


def compensated_once(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "compensated-once", "every compensated order was refunded, released and unbooked once"
    )
    payments = defaultdict(list)
    for payment in records.payments:
        payments[payment.order_id].append(payment)
    live = {b.order_id for b in records.bookings if b.status == "booked"}
    reserved = {r.order_id for r in records.reservations if r.status == "reserved"}
    for order_id, found in sorted(views.items()):
        if len(found) != 1 or not found[0].compensated or found[0].outcome is not Outcome.FAILED:
            continue
        result.checked += 1
        for payment in payments[order_id]:
            if payment.captured and payment.refunded != payment.captured:
                result.violate(
                    [order_id],
                    f"{payment.intent_id}: captured {payment.captured}, "
                    f"refunded {payment.refunded}",
                )
            if payment.refunds > 1:
                result.violate([order_id], f"{payment.intent_id}: refunded {payment.refunds} times")
        if order_id in reserved:
            result.violate([order_id], "stock still reserved: never released")
        if order_id in live:
            result.violate([order_id], "a booking is still live: never cancelled")
    return result
