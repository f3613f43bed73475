"""A seeded mix of faults: the same seed gives the same outcomes, in the configured shares."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from simulators.carrier import CarrierSimulator

from . import carrier_fixtures
from .carrier_fixtures import (
    API_KEY,
    all_shipments,
    binomial_tolerance,
    classify_booking,
    eventually,
    shipment_body,
)

carrier, client, admin = carrier_fixtures.carrier, carrier_fixtures.client, carrier_fixtures.admin

RATES = {
    "rate_429": 0.15,
    "rate_503": 0.10,
    "rate_timeout": 0.05,
    "rate_malformed": 0.10,
    "rate_reject": 0.10,
}
# What a client sees for each fault; a request without one is booked.
SEEN_AS = {
    "rate_429": "rate_limited",
    "rate_503": "unavailable",
    "rate_timeout": "timed_out",
    "rate_malformed": "malformed",
    "rate_reject": "rejected",
}
# The simulator's names for the faults, as its stats count them.
FAULT_NAME = {
    "rate_429": "rate_limited",
    "rate_503": "unavailable",
    "rate_timeout": "timeout",
    "rate_malformed": "malformed",
    "rate_reject": "reject",
}
# A healthy answer on a loaded two-core machine can take a few hundred milliseconds; the
# client must give up well after that and well before a time-out fault answers.
CLIENT_TIMEOUT = 1.5
FAULTS: dict[str, Any] = {**RATES, "retry_after_seconds": 1, "timeout_delay_seconds": 4.0}


async def run_sequence(http: httpx.AsyncClient, n: int, tag: str) -> list[str]:
    """Book ``n`` orders one after another and name what each came to."""
    return [
        await classify_booking(
            http, shipment_body(f"{tag}-{i}"), key=f"{tag}-{i}", client_timeout=CLIENT_TIMEOUT
        )
        for i in range(n)
    ]


async def test_the_same_seed_gives_the_same_sequence_of_outcomes(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await admin.post("/_admin/faults", json={**FAULTS, "seed": 42})
    first = await run_sequence(client, 40, "a")
    await admin.post("/_admin/faults", json={**FAULTS, "seed": 42})
    second = await run_sequence(client, 40, "b")
    await admin.post("/_admin/faults", json={**FAULTS, "seed": 43})
    other_seed = await run_sequence(client, 40, "c")

    assert first == second
    assert len(set(first)) >= 4, "the mix should show several outcomes"
    assert other_seed != first


async def test_two_simulators_with_the_same_seed_agree() -> None:
    sequences = []
    for _ in range(2):
        async with CarrierSimulator(seed=7, api_key=API_KEY) as simulator:
            headers = {"Authorization": f"Bearer {API_KEY}"}
            async with httpx.AsyncClient(base_url=simulator.url, headers=headers) as http:
                settings = (await http.post("/_admin/faults", json=FAULTS)).json()
                assert settings["seed"] == 7
                sequences.append(await run_sequence(http, 40, "o"))

    assert sequences[0] == sequences[1]


async def test_over_400_requests_each_outcome_keeps_its_configured_share(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    n, lanes = 400, 16
    await admin.post("/_admin/faults", json={**FAULTS, "seed": 1234})
    tally: Counter[str] = Counter()

    async def lane(start: int) -> None:
        # Lanes run side by side so the time-outs overlap; the tally does not depend on order.
        for i in range(start, n, lanes):
            order = f"order-{i}"
            outcome = await classify_booking(
                client, shipment_body(order), key=order, client_timeout=CLIENT_TIMEOUT
            )
            tally[outcome] += 1

    await asyncio.gather(*(lane(start) for start in range(lanes)))

    assert sum(tally.values()) == n
    for rate_field, rate in RATES.items():
        count = tally[SEEN_AS[rate_field]]
        assert abs(count - n * rate) <= binomial_tolerance(n, rate), (rate_field, count)
    healthy = 1.0 - sum(RATES.values())
    assert abs(tally["booked"] - n * healthy) <= binomial_tolerance(n, healthy)
    await _assert_stats_add_up(admin, tally, n)


async def _assert_stats_add_up(admin_http: httpx.AsyncClient, tally: Counter[str], n: int) -> None:
    async def all_counted() -> bool:
        return bool((await admin_http.get("/_admin/stats")).json()["requests"] == n)

    await eventually(all_counted)
    report = (await admin_http.get("/_admin/stats")).json()
    assert {name: count for name, count in report["outcomes"].items() if count} == dict(tally)
    injected = {FAULT_NAME[field]: tally[SEEN_AS[field]] for field in RATES}
    assert report["faults_injected"] == {fault: n for fault, n in injected.items() if n}
    # Time-outs and malformed answers were served in full, so they booked too.
    booked_by_client = tally["booked"] + tally["timed_out"] + tally["malformed"]
    shipments = await all_shipments(admin_http)
    assert report["bookings_made"] == booked_by_client == len(shipments)
    assert len({s.order_id for s in shipments}) == len(shipments)
