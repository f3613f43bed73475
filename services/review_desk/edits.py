"""Correcting an order before a retry: which fields may change, and checking the result.

An edit is ``FIELD=VALUE`` with the order document's own names (``address.line1``,
``paymentMethod``). What may change depends on how far the order got: the address until
the shipment is booked, the payment method only before anything was charged; the items
and the amount never, since stock and money already taken follow them. Nothing changes
before a retry of the receipt or of a compensation: what they act on is done already.
The edited order must pass the order schema, as at placement. The changes travel in the
decision as whole top-level fields (``{"address": {...}}``), which the definition merges
into the execution's data before the retry.

A new address also raises ``shipmentRevision``: a booking that failed may have gone
through at the carrier all the same, so the definition cancels it and books the new
address under a key of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from services.common.inputs import describe
from services.common.orders import Order

ADDRESS_FIELDS = tuple(
    f"address.{name}" for name in ("name", "line1", "city", "postal_code", "country")
)
# The steps before which the payment method can still be changed.
_BEFORE_CHARGE = frozenset({"ChargePayment"})
# Steps after the shipment was booked: nothing in the order can change any more.
_SHIPPED = frozenset({"EmitReceipt", "Compensate", "RefundUnreservedOrder"})
_ORDER_KEYS = ("orderId", "items", "amount", "currency", "paymentMethod", "address")


class InvalidEdit(ValueError):
    """An edit that cannot be made; the message names the field and why."""


def editable_fields(failed_state: str | None) -> tuple[str, ...]:
    if failed_state in _SHIPPED:
        return ()
    if failed_state in _BEFORE_CHARGE:
        return (*ADDRESS_FIELDS, "paymentMethod")
    return ADDRESS_FIELDS


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["address.line1=1 Main St", ...]`` as a mapping; ``InvalidEdit`` for a bad pair."""
    edits: dict[str, str] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise InvalidEdit(
                f"an edit is FIELD=VALUE (such as address.line1=1 Main St); got {pair!r}"
            )
        edits[field.strip()] = value
    return edits


def order_changes(order: Any, failed_state: str | None, edits: Mapping[str, str]) -> dict[str, Any]:
    """The top-level fields the edits change, checked; empty when nothing changes."""
    if not edits:
        return {}
    if not isinstance(order, dict):
        raise InvalidEdit("the ticket carries no order document to edit")
    allowed = editable_fields(failed_state)
    refused = [field for field in edits if field not in allowed]
    if refused and not allowed:
        raise InvalidEdit(
            f"nothing in the order can be edited after {failed_state} failed: "
            "what it acts on is done already"
        )
    if refused:
        raise InvalidEdit(
            f"cannot edit {', '.join(repr(f) for f in refused)} after {failed_state or 'this step'}"
            f" failed; editable: {', '.join(allowed)}"
        )
    edited = {key: copy.deepcopy(order[key]) for key in _ORDER_KEYS if key in order}
    for field, value in edits.items():
        _assign(edited, field, value.strip())
    try:
        Order.model_validate(edited)
    except ValidationError as exc:
        raise InvalidEdit(f"the edited order is not valid: {describe(exc)}") from None
    changes = {key: edited[key] for key in edited if edited[key] != order.get(key)}
    if "address" in changes:
        changes["shipmentRevision"] = _revision(order) + 1
    return changes


def _revision(order: dict[str, Any]) -> int:
    value = order.get("shipmentRevision", 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _assign(document: dict[str, Any], field: str, value: str) -> None:
    head, _, rest = field.partition(".")
    if not rest:
        document[head] = value
        return
    inner = document.get(head)
    if not isinstance(inner, dict):
        inner = {}
        document[head] = inner
    _assign(inner, rest, value)
