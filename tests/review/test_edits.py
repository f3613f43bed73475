"""Correcting an order before a retry: what may change after which step, and the checks."""

from __future__ import annotations

from typing import Any

import pytest

from services.review_desk.edits import InvalidEdit, order_changes, parse_assignments

ORDER: dict[str, Any] = {
    "orderId": "ord-1",
    "items": [{"sku": "MUG", "qty": 2, "unitPrice": 900}],
    "amount": 1800,
    "currency": "eur",
    "paymentMethod": "pm_card_visa",
    "address": {
        "name": "Ann Smith",
        "line1": "1 Old Street",
        "city": "Utrecht",
        "postal_code": "3511AA",
        "country": "NL",
    },
    "payment": {"paymentIntentId": "pi_1"},
}


def test_a_new_address_replaces_the_address_and_raises_the_shipment_revision() -> None:
    changes = order_changes(ORDER, "BookShipment", {"address.line1": "2 New Street"})
    assert changes == {
        "address": {**ORDER["address"], "line1": "2 New Street"},
        "shipmentRevision": 1,
    }
    again = order_changes(
        {**ORDER, "shipmentRevision": 1}, "BookShipment", {"address.city": "Delft"}
    )
    assert again["shipmentRevision"] == 2


def test_an_edit_to_the_same_value_changes_nothing() -> None:
    assert order_changes(ORDER, "BookShipment", {"address.line1": "1 Old Street"}) == {}


def test_the_payment_method_can_change_only_before_the_charge() -> None:
    assert order_changes(ORDER, "ChargePayment", {"paymentMethod": "pm_card_mastercard"}) == {
        "paymentMethod": "pm_card_mastercard"
    }
    with pytest.raises(InvalidEdit, match="cannot edit 'paymentMethod' after BookShipment"):
        order_changes(ORDER, "BookShipment", {"paymentMethod": "pm_card_mastercard"})


@pytest.mark.parametrize("field", ["amount", "items.0.qty", "orderId", "currency"])
def test_what_stock_and_money_follow_never_changes(field: str) -> None:
    with pytest.raises(InvalidEdit, match=f"cannot edit '{field}'"):
        order_changes(ORDER, "ChargePayment", {field: "1"})


@pytest.mark.parametrize("step", ["EmitReceipt", "Compensate", "RefundUnreservedOrder"])
def test_nothing_changes_once_the_shipment_is_booked(step: str) -> None:
    with pytest.raises(InvalidEdit, match=f"nothing in the order can be edited after {step}"):
        order_changes(ORDER, step, {"address.line1": "2 New Street"})


@pytest.mark.parametrize(
    ("edits", "problem"),
    [
        ({"address.country": "Netherlands"}, "field 'address.country' invalid"),
        ({"address.line1": " "}, "field 'address.line1' invalid"),
        ({"address.postal_code": "x" * 21}, "field 'address.postal_code' invalid"),
    ],
)
def test_the_edited_order_must_pass_the_order_schema(edits: dict[str, str], problem: str) -> None:
    with pytest.raises(InvalidEdit, match="the edited order is not valid") as refused:
        order_changes(ORDER, "BookShipment", edits)
    assert problem in str(refused.value)


def test_edits_are_field_equals_value() -> None:
    assert parse_assignments(["address.line1=2 New St = B"]) == {"address.line1": "2 New St = B"}
    with pytest.raises(InvalidEdit, match="FIELD=VALUE"):
        parse_assignments(["address.line1"])
