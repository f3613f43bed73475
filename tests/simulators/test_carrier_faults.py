"""Each fault, set at run time at rate 1.0, produces its outcome and never corrupts state."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from simulators.carrier import CarrierSimulator, Shipment

from . import carrier_fixtures
from .carrier_fixtures import API_KEY, all_shipments, book, eventually, shipment_body

carrier, client, admin = carrier_fixtures.carrier, carrier_fixtures.client, carrier_fixtures.admin


async def set_faults(admin_http: httpx.AsyncClient, **faults: Any) -> dict[str, Any]:
    response = await admin_http.post("/_admin/faults", json=faults)
    assert response.status_code == 200, response.text
    settings: dict[str, Any] = response.json()
    return settings


async def stats(admin_http: httpx.AsyncClient) -> dict[str, Any]:
    report: dict[str, Any] = (await admin_http.get("/_admin/stats")).json()
    return report


async def test_rate_429_answers_too_many_requests_with_retry_after_and_books_nothing(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_429=1.0, retry_after_seconds=7)

    response = await book(client, shipment_body(), key="k")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["retry_after_seconds"] == 7
    assert await all_shipments(admin) == []


async def test_a_fractional_retry_after_is_rounded_up_to_whole_seconds_in_the_header(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_429=1.0, retry_after_seconds=1.2)

    response = await book(client, shipment_body())

    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["retry_after_seconds"] == 1.2


async def test_without_retry_after_a_429_carries_no_such_header(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_429=1.0)

    response = await book(client, shipment_body())

    assert response.status_code == 429
    assert "Retry-After" not in response.headers


async def test_next_429_limits_exactly_that_many_requests_then_serves_them(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, next_429=2, retry_after_seconds=3)

    answers = [(await book(client, shipment_body(), key="k")).status_code for _ in range(3)]

    assert answers == [429, 429, 201]


async def test_the_request_log_shows_each_api_request_its_arrival_and_its_answer(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, next_429=1, retry_after_seconds=30)
    await book(client, shipment_body(), key="k-1")
    await book(client, shipment_body(), key="k-1")
    await client.get("/v1/shipments/shp_nothing")
    await admin.get("/_admin/stats")  # admin calls are not API requests

    logged = (await admin.get("/_admin/requests")).json()["requests"]

    assert [(r["method"], r["path"], r["idempotency_key"]) for r in logged] == [
        ("POST", "/v1/shipments", "k-1"),
        ("POST", "/v1/shipments", "k-1"),
        ("GET", "/v1/shipments/shp_nothing", None),
    ]
    assert [(r["status"], r["retry_after"]) for r in logged] == [
        (429, "30"),
        (201, None),
        (404, None),
    ]
    arrivals = [r["arrived_at"] for r in logged]
    assert arrivals == sorted(arrivals)


async def test_rate_503_answers_unavailable_and_books_nothing(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_503=1.0)

    response = await book(client, shipment_body(), key="k")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert await all_shipments(admin) == []


async def test_a_key_refused_by_a_transient_fault_books_once_on_retry(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_503=1.0)
    assert (await book(client, shipment_body(), key="k")).status_code == 503
    await admin.delete("/_admin/faults")

    retried = await book(client, shipment_body(), key="k")

    assert retried.status_code == 201
    assert len(await all_shipments(admin)) == 1


async def test_rate_reject_refuses_a_good_address_and_books_nothing(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_reject=1.0)

    response = await book(client, shipment_body(), key="k")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "address_rejected"
    assert await all_shipments(admin) == []


async def test_rate_reject_leaves_look_ups_and_cancels_alone(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    shipment_id = (await book(client, shipment_body())).json()["shipment_id"]
    await set_faults(admin, rate_reject=1.0)

    looked_up = await client.get(f"/v1/shipments/{shipment_id}")
    cancelled = await client.post(f"/v1/shipments/{shipment_id}/cancel")

    assert looked_up.status_code == cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def _is_documented_shipment(response: httpx.Response) -> bool:
    try:
        Shipment.model_validate_json(response.content)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("kind", ["truncated_json", "html", "wrong_fields"])
async def test_rate_malformed_answers_200_with_a_body_that_is_not_the_documented_json(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, kind: str
) -> None:
    await set_faults(admin, rate_malformed=1.0, malformed_kinds=[kind])

    response = await book(client, shipment_body(), key="k")

    assert response.status_code == 200
    assert not _is_documented_shipment(response)
    if kind == "html":
        assert response.headers["content-type"].startswith("text/html")
    else:
        assert response.headers["content-type"].startswith("application/json")
    if kind == "truncated_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    if kind == "wrong_fields":
        assert "tracking_number" not in response.json()


async def test_a_malformed_answer_was_booked_and_a_keyed_retry_returns_that_booking(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_malformed=1.0)
    garbled = await book(client, shipment_body("order-9"), key="k9")
    await admin.delete("/_admin/faults")

    retried = await book(client, shipment_body("order-9"), key="k9")

    assert garbled.status_code == 200
    [booked] = await all_shipments(admin)
    assert retried.status_code == 200
    assert retried.json()["tracking_number"] == booked.tracking_number
    assert retried.json()["order_id"] == "order-9"


async def test_rate_timeout_answers_only_after_the_clients_time_out(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_timeout=1.0, timeout_delay_seconds=0.3)

    with pytest.raises(httpx.TimeoutException):
        await book(client, shipment_body(), key="k", timeout=0.1)

    assert (await stats(admin))["outcomes"]["timed_out"] == 1


async def test_a_timed_out_then_retried_booking_books_once(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_timeout=1.0, timeout_delay_seconds=0.3)
    with pytest.raises(httpx.TimeoutException):
        await book(client, shipment_body("order-5"), key="order-5", timeout=0.1)
    await admin.delete("/_admin/faults")

    retried = await book(client, shipment_body("order-5"), key="order-5")

    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    [booked] = await all_shipments(admin)
    assert retried.json()["shipment_id"] == booked.shipment_id
    report = await stats(admin)
    assert report["bookings_made"] == 1
    assert report["outcomes"]["timed_out"] == report["outcomes"]["replayed"] == 1


async def test_a_retry_that_times_out_too_still_books_once(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_timeout=1.0, timeout_delay_seconds=0.3)
    for _ in range(3):
        with pytest.raises(httpx.TimeoutException):
            await book(client, shipment_body(), key="same", timeout=0.1)

    assert len(await all_shipments(admin)) == 1


async def test_a_fixed_latency_delays_every_answer_by_at_least_that_long(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, latency={"distribution": "fixed", "mean_ms": 60})
    loop = asyncio.get_running_loop()

    started = loop.time()
    response = await client.get("/v1/shipments/none")
    elapsed = loop.time() - started

    assert response.status_code == 404
    # A lower bound only: a slow machine can add time, never take it away.
    assert elapsed >= 0.055


async def test_clearing_faults_restores_a_healthy_carrier(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_503=1.0)
    cleared = (await admin.delete("/_admin/faults")).json()

    response = await book(client, shipment_body())

    assert cleared["rate_503"] == 0
    assert response.status_code == 201


async def test_stop_releases_a_slow_answer_at_once() -> None:
    simulator = CarrierSimulator(api_key=API_KEY)
    await simulator.start()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=simulator.url, headers=headers, timeout=30) as http:
        await http.post("/_admin/faults", json={"rate_timeout": 1, "timeout_delay_seconds": 600})
        pending = asyncio.create_task(book(http, shipment_body()))

        async def booked() -> bool:
            report = (await http.get("/_admin/stats")).json()
            return bool(report["bookings_made"] == 1)

        await eventually(booked)
        await simulator.stop()
        # Were the slow answer not cut short, it would come after 600 s, or never.
        response = await asyncio.wait_for(pending, timeout=10)

    assert response.status_code == 201


async def test_healthz_answers_without_a_key_while_every_api_request_fails(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await set_faults(admin, rate_503=1.0)
    assert (await book(client, shipment_body(), key="k")).status_code == 503

    health = await admin.get("/healthz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    logged = (await admin.get("/_admin/requests")).json()["requests"]
    assert [r["path"] for r in logged] == ["/v1/shipments"]
