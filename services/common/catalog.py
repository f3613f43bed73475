"""The shop's catalogue: what the commands offer, the demo orders and the stock starts from."""

from __future__ import annotations

# SKU -> (unit price in cents, stock at first start).
PRODUCTS: dict[str, tuple[int, int]] = {
    "MUG": (900, 100),
    "TEE": (1500, 100),
    "POSTER": (1200, 50),
    "RARE": (5000, 1),
}
