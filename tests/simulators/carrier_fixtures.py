"""Fixtures and helpers for the carrier simulator tests: a running simulator and its clients."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from simulators.carrier import CarrierSimulator, Shipment

API_KEY = "test-key-123"
SEED = 20240611


def shipment_body(order_id: str = "order-1", **changes: Any) -> dict[str, Any]:
    """A valid booking request; keyword arguments replace its top-level fields."""
    body: dict[str, Any] = {
        "order_id": order_id,
        "reference": f"ref-{order_id}",
        "address": {
            "name": "Ada Lovelace",
            "line1": "12 St James's Square",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
        "parcels": [{"sku": "SKU-1", "qty": 2, "weight_grams": 450}],
        "service_level": "standard",
    }
    body.update(changes)
    return body


def with_address(**changes: str) -> dict[str, Any]:
    """A valid booking request whose address fields are replaced by ``changes``."""
    body = shipment_body()
    body["address"] = {**body["address"], **changes}
    return body


@pytest.fixture
async def carrier() -> AsyncIterator[CarrierSimulator]:
    simulator = CarrierSimulator(seed=SEED, api_key=API_KEY)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def client(carrier: CarrierSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the carrier API, with the API key."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=carrier.url, headers=headers, timeout=5.0) as http:
        yield http


@pytest.fixture
async def admin(carrier: CarrierSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A raw client of the admin endpoints (no API key needed)."""
    async with httpx.AsyncClient(base_url=carrier.url, timeout=5.0) as http:
        yield http


async def book(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    *,
    key: str | None = None,
    timeout: float | None = None,
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return await http.post("/v1/shipments", json=body, headers=headers, **extra)


async def all_shipments(admin_http: httpx.AsyncClient) -> list[Shipment]:
    response = await admin_http.get("/_admin/shipments")
    assert response.status_code == 200
    return [Shipment.model_validate(item) for item in response.json()["shipments"]]


async def classify_booking(
    http: httpx.AsyncClient, body: dict[str, Any], *, key: str, client_timeout: float
) -> str:
    """Book and name the outcome by what the client can see, as a carrier client would."""
    try:
        response = await book(http, body, key=key, timeout=client_timeout)
    except httpx.TimeoutException:
        return "timed_out"
    names = {201: "booked", 429: "rate_limited", 503: "unavailable", 422: "rejected"}
    if response.status_code in names:
        return names[response.status_code]
    assert response.status_code == 200, response.text
    try:
        Shipment.model_validate_json(response.content)
    except ValidationError:
        return "malformed"
    return "replayed"


def binomial_tolerance(n: int, p: float, sigmas: float = 4.0) -> float:
    """How far a count of successes in ``n`` trials of chance ``p`` may stray from ``n*p``.

    Four standard deviations: a correct simulator fails one check in about 16,000.
    """
    return sigmas * math.sqrt(n * p * (1.0 - p)) + 1.0


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 5.0, interval: float = 0.01
) -> None:
    """Poll ``check`` until it holds; fail if it still does not after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition still false after {timeout} s")
        await asyncio.sleep(interval)
