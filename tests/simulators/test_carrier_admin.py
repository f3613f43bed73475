"""The admin endpoints and their client: validated fault settings, seeds, stats, shipments."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from simulators.carrier import (
    CarrierSimulator,
    FaultSettings,
    FixedLatency,
    MalformedKind,
    Outcome,
    ShipmentStatus,
)
from simulators.carrier.admin import (
    CarrierAdminError,
    clear_faults,
    get_faults,
    set_faults,
    shipments,
    stats,
)

from . import carrier_fixtures
from .carrier_fixtures import SEED, book, shipment_body

carrier, client, admin = carrier_fixtures.carrier, carrier_fixtures.client, carrier_fixtures.admin


@pytest.mark.parametrize(
    ("faults", "field"),
    [
        ({"rate_429": 1.5}, "rate_429"),
        ({"rate_503": -0.1}, "rate_503"),
        ({"rate_timeout": "often"}, "rate_timeout"),
        ({"retry_after_seconds": -1}, "retry_after_seconds"),
        ({"timeout_delay_seconds": 0}, "timeout_delay_seconds"),
        ({"malformed_kinds": ["xml"]}, "malformed_kinds.0"),
        ({"malformed_kinds": []}, "malformed_kinds"),
        ({"rate_492": 0.1}, "rate_492"),
        ({"latency": {"distribution": "gaussian", "mean_ms": 5}}, "latency"),
        ({"latency": {"distribution": "fixed"}}, "latency.fixed.mean_ms"),
        ({"latency": {"distribution": "uniform", "min_ms": 9, "max_ms": 3}}, "latency.uniform"),
        ({"latency": {"distribution": "exponential", "mean_ms": 0}}, "latency.exponential"),
        ({"seed": "abc"}, "seed"),
    ],
)
async def test_a_bad_fault_setting_is_a_422_naming_the_field(
    admin: httpx.AsyncClient, faults: dict[str, Any], field: str
) -> None:
    response = await admin.post("/_admin/faults", json=faults)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_faults"
    assert any(detail["field"].startswith(field) for detail in error["details"]), error
    assert field in error["message"]


async def test_rates_that_add_up_past_one_are_refused_naming_the_rates(
    admin: httpx.AsyncClient,
) -> None:
    response = await admin.post("/_admin/faults", json={"rate_429": 0.6, "rate_503": 0.6})

    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "rate_429" in message and "rate_503" in message and "1.2" in message


async def test_a_refused_setting_leaves_the_settings_in_force(admin: httpx.AsyncClient) -> None:
    await admin.post("/_admin/faults", json={"rate_503": 0.25})

    await admin.post("/_admin/faults", json={"rate_503": 2})

    assert (await admin.get("/_admin/faults")).json()["rate_503"] == 0.25


async def test_a_body_that_is_not_json_is_refused(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/_admin/faults", content=b"rate_429=1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_faults"


async def test_setting_faults_replaces_them_whole(carrier: CarrierSimulator) -> None:
    await set_faults(carrier.url, rate_429=0.5, retry_after_seconds=3)

    settings = await set_faults(carrier.url, rate_503=0.2)

    assert settings.rate_503 == 0.2
    assert settings.rate_429 == 0.0
    assert settings.retry_after_seconds is None


async def test_the_admin_client_round_trips_every_setting(carrier: CarrierSimulator) -> None:
    wanted = FaultSettings(
        rate_429=0.1,
        retry_after_seconds=2.5,
        rate_503=0.1,
        rate_timeout=0.1,
        timeout_delay_seconds=4,
        rate_malformed=0.1,
        malformed_kinds=[MalformedKind.HTML],
        rate_reject=0.1,
        latency=FixedLatency(distribution="fixed", mean_ms=3),
        seed=99,
    )

    await set_faults(carrier.url, **wanted.model_dump(mode="json"))

    assert await get_faults(carrier.url) == wanted


async def test_the_seed_in_force_is_reported(carrier: CarrierSimulator) -> None:
    explicit = await set_faults(carrier.url, seed=5)
    inherited = await set_faults(carrier.url, rate_429=0.1)
    cleared = await clear_faults(carrier.url)

    assert explicit.seed == 5
    assert inherited.seed == SEED
    assert cleared.seed == SEED
    assert cleared.rate_429 == 0


async def test_without_any_seed_a_random_one_is_drawn_and_reported() -> None:
    async with CarrierSimulator() as simulator:
        settings = await get_faults(simulator.url)
    assert isinstance(settings.seed, int)


async def test_the_admin_client_raises_a_clear_error_for_a_refused_setting(
    carrier: CarrierSimulator,
) -> None:
    with pytest.raises(CarrierAdminError) as raised:
        await set_faults(carrier.url, rate_reject=3)

    assert raised.value.status == 422
    assert "rate_reject" in str(raised.value)


async def test_the_admin_client_says_when_the_simulator_cannot_be_reached() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now that the probe is closed.
    with pytest.raises(CarrierAdminError, match="cannot reach the carrier simulator"):
        await stats(f"http://127.0.0.1:{port}")


async def test_stats_and_shipments_through_the_admin_client(
    carrier: CarrierSimulator, client: httpx.AsyncClient
) -> None:
    first = (await book(client, shipment_body("a"), key="a")).json()
    await book(client, shipment_body("b"), key="b")
    await client.post(f"/v1/shipments/{first['shipment_id']}/cancel")
    await set_faults(carrier.url, rate_503=1.0)
    await book(client, shipment_body("c"), key="c")

    report = await stats(carrier.url)
    booked = await shipments(carrier.url)

    assert report.requests == 4 == sum(report.outcomes.values())
    assert report.outcomes[Outcome.BOOKED] == 2
    assert report.outcomes[Outcome.OK] == 1
    assert report.outcomes[Outcome.UNAVAILABLE] == 1
    assert report.faults_injected == {"unavailable": 1}
    assert (report.bookings_made, report.cancelled) == (2, 1)
    assert [s.order_id for s in booked] == ["a", "b"]
    assert [s.status for s in booked] == [ShipmentStatus.CANCELLED, ShipmentStatus.BOOKED]


async def test_admin_requests_are_not_counted_and_draw_no_faults(
    carrier: CarrierSimulator, client: httpx.AsyncClient
) -> None:
    await set_faults(carrier.url, rate_503=1.0)
    for _ in range(3):
        await get_faults(carrier.url)

    assert (await stats(carrier.url)).requests == 0


def test_the_simulator_refuses_bad_construction_arguments() -> None:
    with pytest.raises(ValueError, match="api_key"):
        CarrierSimulator(api_key="")
    with pytest.raises(ValueError, match="port"):
        CarrierSimulator(port=70000)
    with pytest.raises(RuntimeError, match="not running"):
        _ = CarrierSimulator().url
