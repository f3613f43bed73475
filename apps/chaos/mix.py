"""The orders of a run, drawn from a seed: the same seed always gives the same orders.

Most orders are ordinary (one to a few lines of the catalogue's everyday products); a
share is meant to fail the business's own way: a test card that declines, an address the
carrier rejects, the one rare item that is soon out of stock.
"""

from __future__ import annotations

import random
from typing import Any

from apps.chaos.scenario import Mix
from apps.demo.orders import ADDRESS
from services.common.catalog import PRODUCTS
from simulators.carrier.addresses import REJECT_LINE1

EVERYDAY = tuple(sku for sku, (_, stock) in sorted(PRODUCTS.items()) if stock > 1)
RARE = tuple(sku for sku, (_, stock) in sorted(PRODUCTS.items()) if stock <= 1)
CARDS = ("pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_visa_debit")
DECLINING = ("pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds")
CITIES = (
    ("Amsterdam", "1011 AB", "NL"),
    ("Utrecht", "3511 AA", "NL"),
    ("Rotterdam", "3011 AA", "NL"),
)


def order_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index:06d}" for index in range(count)]


def orders(mix: Mix, *, seed: int, count: int, prefix: str) -> list[dict[str, Any]]:
    """``count`` order documents as the fulfilment definition takes them."""
    rng = random.Random(f"orders:{seed}")
    return [_order(rng, mix, order_id) for order_id in order_ids(prefix, count)]


def _order(rng: random.Random, mix: Mix, order_id: str) -> dict[str, Any]:
    skus = rng.sample(EVERYDAY, rng.randint(1, min(mix.max_lines, len(EVERYDAY))))
    if RARE and rng.random() < mix.rare_item:
        skus = [*skus[:-1], rng.choice(RARE)]
    items: list[dict[str, Any]] = [
        {"sku": sku, "qty": rng.randint(1, mix.max_qty), "unitPrice": PRODUCTS[sku][0]}
        for sku in skus
    ]
    card = rng.choice(DECLINING) if rng.random() < mix.declined_card else rng.choice(CARDS)
    city, postal_code, country = rng.choice(CITIES)
    address = {
        **ADDRESS,
        "line1": f"{rng.randint(1, 400)} Canal Street",
        "city": city,
        "postal_code": postal_code,
        "country": country,
    }
    if rng.random() < mix.rejected_address:
        address["line1"] = REJECT_LINE1
    return {
        "orderId": order_id,
        "items": items,
        "amount": sum(item["qty"] * item["unitPrice"] for item in items),
        "currency": "eur",
        "paymentMethod": card,
        "address": address,
    }


def stock_for(count: int, mix: Mix) -> dict[str, int]:
    """Stock enough for the everyday products of ``count`` orders, and little of the rare."""
    per_sku = count * mix.max_lines * mix.max_qty // max(1, len(EVERYDAY)) + 10
    levels = {sku: per_sku for sku in EVERYDAY}
    levels.update({sku: 1 + count // 500 for sku in RARE})
    return levels
