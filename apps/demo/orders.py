"""Order documents as the fulfilment definition takes them."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.catalog import PRODUCTS

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Canal Street",
    "city": "Amsterdam",
    "postal_code": "1011 AB",
    "country": "NL",
}


def order_document(
    sku: str, qty: int, *, card: str = "pm_card_visa", line1: str | None = None
) -> dict[str, Any]:
    price, _ = PRODUCTS[sku]
    address = dict(ADDRESS)
    if line1 is not None:
        address["line1"] = line1
    return {
        "orderId": f"ord-{uuid.uuid4().hex[:8]}",
        "items": [{"sku": sku, "qty": qty, "unitPrice": price}],
        "amount": price * qty,
        "currency": "eur",
        "paymentMethod": card,
        "address": address,
    }
