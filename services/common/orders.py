"""The order document, and the rules an order must meet before anything is started.

One model for the command line that places orders and the services that act on them,
so an order refused at placement would be refused by the services too, and an order
that slips past placement (a start request put straight on the bus) fails with a clear
error instead of deep in a payment library.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from pydantic import Field, model_validator

from services.common.inputs import OrderInput

MAX_QTY = 1000
# 10,000.00 in the currency's minor unit: more for one item is a typo, not a sale.
MAX_UNIT_PRICE = 1_000_000
# Stripe takes at most eight digits in the smallest unit (999,999.99).
MAX_AMOUNT = 99_999_999
# Stripe's ids are a prefix, an underscore and letters or digits; test ids (pm_card_visa)
# add underscores.
PAYMENT_METHOD_PATTERN = r"^pm_[A-Za-z0-9_]{1,200}$"
_ORDER_ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,80}$"  # it names the execution too


class OrderItem(OrderInput):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=1, le=MAX_QTY)
    unit_price: int = Field(alias="unitPrice", gt=0, le=MAX_UNIT_PRICE)


class Address(OrderInput):
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")


class Order(OrderInput):
    """An order as the fulfilment state machine starts with it."""

    order_id: str = Field(alias="orderId", pattern=_ORDER_ID_PATTERN)
    items: list[OrderItem] = Field(min_length=1, max_length=100)
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="in the currency's smallest unit")
    currency: str = Field(pattern=r"^[a-z]{3}$")
    payment_method: str = Field(alias="paymentMethod", pattern=PAYMENT_METHOD_PATTERN)
    address: Address

    @model_validator(mode="after")
    def _amount_is_the_items_total(self) -> Order:
        total = sum(item.qty * item.unit_price for item in self.items)
        if total != self.amount:
            raise ValueError(f"amount {self.amount} is not the items' total {total}")
        return self


@dataclass(frozen=True)
class Shop:
    """What an order is checked against: the catalogue and the payment methods known.

    ``payment_methods`` None means any id of Stripe's shape (a real Stripe account knows
    its own customers' methods; only the stand-in's test cards are a closed list).
    """

    prices: Mapping[str, int]
    payment_methods: Collection[str] | None = None


def shop_problems(skus: Sequence[str], payment_method: str, shop: Shop) -> list[str]:
    """What keeps ``shop`` from selling these items with this payment method, per field."""
    problems = []
    for index, sku in enumerate(skus):
        if sku not in shop.prices:
            known = ", ".join(sorted(shop.prices))
            problems.append(f"field 'items.{index}.sku' invalid: unknown SKU {sku!r} ({known})")
    methods = shop.payment_methods
    if methods is not None and payment_method not in methods:
        problems.append(
            f"field 'paymentMethod' invalid: unknown payment method {payment_method!r} "
            "(the Stripe stand-in knows its pm_card_* test ids)"
        )
    return problems
