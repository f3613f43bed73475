"""The carrier API without faults: booking, idempotency, look-up, cancel, validation, auth."""

from __future__ import annotations

import re

import httpx
import pytest

from simulators.carrier import Shipment, ShipmentStatus
from simulators.carrier.ledger import s10_tracking_number

from . import carrier_fixtures
from .carrier_fixtures import all_shipments, book, shipment_body, with_address

# pytest looks fixtures up among a module's attributes; this makes the shared ones visible.
carrier, client, admin = carrier_fixtures.carrier, carrier_fixtures.client, carrier_fixtures.admin


async def test_a_booking_returns_201_with_the_documented_shipment(
    client: httpx.AsyncClient,
) -> None:
    response = await book(client, shipment_body("order-7"), key="k-7")

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "booked"
    assert body["order_id"] == "order-7"
    assert body["reference"] == "ref-order-7"
    assert body["shipment_id"].startswith("shp_")
    assert re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", body["tracking_number"])
    assert body["carrier"]
    assert body["created_at"]
    assert body["parcels"] == [{"sku": "SKU-1", "qty": 2, "weight_grams": 450}]


async def test_tracking_numbers_carry_a_valid_s10_check_digit(client: httpx.AsyncClient) -> None:
    # The worked example of the UPU S10 standard: serial 12345678 has check digit 5.
    assert s10_tracking_number(12345678, "RR", "GB") == "RR123456785GB"
    first = (await book(client, shipment_body("o-1"))).json()["tracking_number"]
    second = (await book(client, shipment_body("o-2"))).json()["tracking_number"]
    assert first != second
    for number in (first, second):
        assert s10_tracking_number(int(number[2:10]), number[:2], number[11:]) == number


async def test_a_repeated_idempotency_key_returns_the_same_shipment(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await book(client, shipment_body("order-1"), key="same-key")
    again = await book(client, shipment_body("order-1"), key="same-key")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(await all_shipments(admin)) == 1


async def test_a_repeated_key_with_another_body_is_a_409_conflict(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await book(client, shipment_body("order-1"), key="key-a")
    response = await book(client, shipment_body("order-2"), key="key-a")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert "key-a" in response.json()["error"]["message"]
    assert [s.order_id for s in await all_shipments(admin)] == ["order-1"]


async def test_without_a_key_every_request_books_anew(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    first = await book(client, shipment_body("order-1"))
    second = await book(client, shipment_body("order-1"))

    assert first.status_code == second.status_code == 201
    assert first.json()["tracking_number"] != second.json()["tracking_number"]
    assert len(await all_shipments(admin)) == 2


async def test_a_shipment_can_be_looked_up_by_id(client: httpx.AsyncClient) -> None:
    booked = (await book(client, shipment_body())).json()

    response = await client.get(f"/v1/shipments/{booked['shipment_id']}")

    assert response.status_code == 200
    assert response.json() == booked


async def test_an_unknown_shipment_is_a_404(client: httpx.AsyncClient) -> None:
    for request in (client.get("/v1/shipments/shp_nope"), client.post("/v1/shipments/x/cancel")):
        response = await request
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "shipment_not_found"


async def test_cancel_is_idempotent(client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    shipment_id = (await book(client, shipment_body())).json()["shipment_id"]

    first = await client.post(f"/v1/shipments/{shipment_id}/cancel")
    again = await client.post(f"/v1/shipments/{shipment_id}/cancel")

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert first.json()["cancelled_at"] is not None
    assert again.json() == first.json()
    stats = (await admin.get("/_admin/stats")).json()
    assert stats["bookings_made"] == 1
    assert stats["cancelled"] == 1
    [stored] = await all_shipments(admin)
    assert stored.status is ShipmentStatus.CANCELLED


async def test_the_label_url_serves_a_label(client: httpx.AsyncClient) -> None:
    booked = Shipment.model_validate((await book(client, shipment_body())).json())
    assert booked.label_url is not None

    response = await client.get(booked.label_url)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert booked.tracking_number in response.text


@pytest.mark.parametrize(
    ("address", "named"),
    [
        ({"country": "ZZ", "postal_code": "12345"}, "country"),
        ({"country": "US", "postal_code": "ABC"}, "postal_code"),
        ({"country": "DE", "postal_code": "1234"}, "postal_code"),
        ({"line1": "REJECT"}, "line1"),
        ({"line1": "reject "}, "line1"),
    ],
)
async def test_an_undeliverable_address_is_rejected_with_422(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, address: dict[str, str], named: str
) -> None:
    response = await book(client, with_address(**address), key="k")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "address_rejected"
    assert named in error["message"]
    assert await all_shipments(admin) == []


@pytest.mark.parametrize("country", ["US", "CA", "GB", "IE", "DE", "FR", "NL", "BE"])
async def test_well_formed_addresses_of_served_countries_are_booked(
    client: httpx.AsyncClient, country: str
) -> None:
    postal_codes = {
        "US": "94105-1234",
        "CA": "K1A 0B1",
        "GB": "EC1A 1BB",
        "IE": "D02 X285",
        "DE": "10115",
        "FR": "75008",
        "NL": "1012 AB",
        "BE": "1000",
    }
    address = {"country": country.lower(), "postal_code": postal_codes[country]}
    response = await book(client, with_address(**address))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in shipment_body().items() if k != "order_id"}, "order_id"),
        (shipment_body(parcels=[]), "parcels"),
        (shipment_body(parcels=[{"sku": "A", "qty": 0}]), "parcels.0.qty"),
        (shipment_body(service_level="teleport"), "service_level"),
        (shipment_body(colour="red"), "colour"),
        ({**shipment_body(), "address": {"name": "x"}}, "address.line1"),
    ],
)
async def test_a_body_that_does_not_fit_the_api_is_a_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await book(client, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [detail["field"] for detail in error["details"]]
    assert field in error["message"]


async def test_a_body_that_is_not_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/shipments", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key", "Basic dGVzdC1rZXktMTIzOg==", "test-key-123"]
)
async def test_requests_without_the_api_key_are_401_and_book_nothing(
    admin: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await admin.post("/v1/shipments", json=shipment_body(), headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"
    assert await all_shipments(admin) == []
    assert (await admin.get("/_admin/stats")).json()["outcomes"]["unauthorized"] == 1


async def test_unknown_api_paths_answer_in_the_json_error_shape(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/parcels")
    wrong_method = await client.delete("/v1/shipments")

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["message"].startswith("DELETE /v1/shipments")


async def test_stats_count_each_outcome_of_a_healthy_carrier(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    booked = (await book(client, shipment_body(), key="k1")).json()
    await book(client, shipment_body(), key="k1")
    await book(client, shipment_body("other"), key="k1")
    await book(client, with_address(line1="REJECT"))
    await book(client, shipment_body(parcels=[]))
    await client.get(f"/v1/shipments/{booked['shipment_id']}")
    await client.get("/v1/shipments/nope")

    stats = (await admin.get("/_admin/stats")).json()

    assert stats["requests"] == 7 == sum(stats["outcomes"].values())
    expected = {"booked": 1, "replayed": 1, "conflict": 1, "rejected": 1, "invalid": 1}
    expected |= {"ok": 1, "not_found": 1}
    assert {name: n for name, n in stats["outcomes"].items() if n} == expected
    assert stats["faults_injected"] == {}
    assert stats["bookings_made"] == 1


async def cancel_by_key(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/v1/cancellations", json={"idempotency_key": key})


async def test_a_booking_is_cancelled_by_the_idempotency_key_that_booked_it(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    booked = (await book(client, shipment_body("order-9"), key="order-9")).json()

    first = await cancel_by_key(client, "order-9")
    again = await cancel_by_key(client, "order-9")

    assert first.status_code == again.status_code == 200
    assert first.json()["shipment_id"] == booked["shipment_id"]
    assert first.json()["status"] == "cancelled"
    assert again.json() == first.json()
    stats = (await admin.get("/_admin/stats")).json()
    assert (stats["bookings_made"], stats["cancelled"]) == (1, 1)


async def test_cancelling_a_key_that_booked_nothing_is_a_404_and_voids_the_key(
    client: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    response = await cancel_by_key(client, "order-never-booked")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "shipment_not_found"
    # A booking still on its way when the cancel came must not book afterwards.
    late = await book(client, shipment_body("order-never-booked"), key="order-never-booked")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "idempotency_key_cancelled"
    assert await all_shipments(admin) == []
    assert (await cancel_by_key(client, "order-never-booked")).status_code == 404


async def test_a_cancellation_needs_a_key(client: httpx.AsyncClient) -> None:
    for body in ({}, {"idempotency_key": ""}, {"idempotency_key": "k", "extra": 1}):
        response = await client.post("/v1/cancellations", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
