"""The demo's table of outcomes and its balances, as a person reads them."""

from __future__ import annotations

from apps.demo.balances import Balances
from apps.demo.scenario import Outcome


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f} EUR"


def render(outcomes: list[Outcome], balances: Balances) -> str:
    lines = [f"{'ORDER':<13} {'PATH':<42} {'STATUS':<15} {'RETRIES':<8} ERROR", "-" * 100]
    for o in outcomes:
        lines.append(
            f"{o.order_id:<13} {o.label:<42} {o.status:<15} {o.retries:<8} {o.error or ''}"
        )
        lines.append(f"{'':<13}   {' > '.join(o.path)}")
    b = balances
    lines += [
        "",
        f"money   captured {_money(b.captured)}, refunded {_money(b.refunded)}, "
        f"receipts {_money(b.receipts_total)}, held in review {_money(b.held_in_review)}",
        f"stock   before {b.stock_before}, taken {b.stock_taken}, released {b.stock_released}, "
        f"now {b.stock_now} (shipped {b.shipped_units}, held in review {b.units_in_review})",
        f"carrier live bookings of orders not shipped: {b.live_bookings_not_shipped or 'none'}",
        "",
    ]
    for name, holds in b.invariants().items():
        lines.append(f"{'ok  ' if holds else 'FAIL'} {name}")
    return "\n".join(lines)
