"""The demo's books checker, judged by planting each violation it must catch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.demo.balances import Balances, carrier_checks

BALANCED = Balances(
    captured=3000,
    refunded=1200,
    receipts_total=1800,
    held_in_review=0,
    stock_before=10,
    stock_taken=3,
    stock_released=1,
    stock_now=8,
    shipped_units=2,
    units_in_review=0,
    orders_captured_twice=[],
    live_bookings_not_shipped=[],
    failed_orders_still_booked=[],
)


def test_balanced_books_hold_every_invariant() -> None:
    assert all(BALANCED.invariants().values())


@pytest.mark.parametrize(
    ("planted", "broken"),
    [
        (
            {"live_bookings_not_shipped": ["ord-2"]},
            "every live booking is of a shipped order or one in review",
        ),
        ({"failed_orders_still_booked": ["ord-3"]}, "no failed order keeps a booking"),
    ],
)
def test_a_booking_left_behind_breaks_the_carrier_invariants(
    planted: dict[str, list[str]], broken: str
) -> None:
    invariants = replace(BALANCED, **planted).invariants()  # type: ignore[arg-type]

    assert [name for name, holds in invariants.items() if not holds] == [broken]


def test_the_carrier_checks_name_the_orders_whose_booking_outlived_them() -> None:
    live = {"ord-ok": "booked", "ord-failed": "booked", "ord-review": "booked", "ord-x": "booked"}
    cancelled = {"ord-undone": "cancelled"}
    statuses = {
        "ord-ok": "SUCCEEDED",
        "ord-failed": "FAILED",
        "ord-review": "WAITING_REVIEW",
        "ord-undone": "FAILED",
    }

    not_shipped, failed_booked = carrier_checks({**live, **cancelled}.items(), statuses)

    assert not_shipped == ["ord-failed", "ord-x"]
    assert failed_booked == ["ord-failed"]
