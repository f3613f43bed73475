"""The wire format: form decoding, and what a caller without the SDK (curl) sees."""

from __future__ import annotations

import base64

import httpx
import pytest

from simulators.stripe_api import StripeStandIn
from simulators.stripe_api.errors import StripeError
from simulators.stripe_api.forms import decode

from . import stripe_fixtures
from .stripe_fixtures import TEST_KEY

standin = stripe_fixtures.standin


def test_nested_keys_become_hashes_and_numbered_keys_lists() -> None:
    params = decode(
        "amount=2000&metadata[order_id]=o-1&metadata[note]=&expand[0]=latest_charge"
        "&expand[1]=payment_method&automatic_payment_methods[enabled]=true"
    )

    assert params == {
        "amount": "2000",
        "metadata": {"order_id": "o-1", "note": ""},
        "expand": ["latest_charge", "payment_method"],
        "automatic_payment_methods": {"enabled": "true"},
    }


def test_empty_brackets_append_in_order() -> None:
    assert decode("expand[]=a&expand[]=b&expand[]=c") == {"expand": ["a", "b", "c"]}


def test_numbered_items_are_ordered_by_number_not_by_arrival() -> None:
    assert decode("x[10]=ten&x[2]=two") == {"x": ["two", "ten"]}


def test_percent_encoding_is_undone() -> None:
    assert decode("description=caf%C3%A9+au+lait&metadata%5Bk%5D=v") == {
        "description": "café au lait",
        "metadata": {"k": "v"},
    }


@pytest.mark.parametrize("text", ["metadata=x&metadata[k]=v", "metadata[k]=v&metadata=x"])
def test_a_key_sent_both_as_value_and_hash_is_refused(text: str) -> None:
    with pytest.raises(StripeError) as raised:
        decode(text)

    assert raised.value.status == 400
    assert raised.value.param == "metadata"


def test_a_malformed_key_is_refused_by_name() -> None:
    with pytest.raises(StripeError, match=r"metadata\[k"):
        decode("metadata[k=v")


async def test_basic_auth_as_curl_sends_it_works(standin: StripeStandIn) -> None:
    basic = base64.b64encode(f"{TEST_KEY}:".encode()).decode()
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.post(
            "/v1/payment_intents",
            headers={"Authorization": f"Basic {basic}"},
            data={
                "amount": "900",
                "currency": "USD",
                "automatic_payment_methods[enabled]": "true",
                "automatic_payment_methods[allow_redirects]": "never",
            },
        )

    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["currency"], body["status"]) == (
        900,
        "usd",
        "requires_payment_method",
    )
    assert response.headers["Request-Id"].startswith("req_")
    # Sent without an Idempotency-Key, so there is nothing to replay.
    assert "Idempotent-Replayed" not in response.headers


async def test_a_json_body_is_refused_as_stripe_wants_forms(standin: StripeStandIn) -> None:
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.post(
            "/v1/payment_intents",
            headers={"Authorization": f"Bearer {TEST_KEY}"},
            json={"amount": 900, "currency": "usd"},
        )

    assert response.status_code == 400
    assert "form-encoded" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/customers"), ("DELETE", "/v1/payment_intents/pi_1"), ("GET", "/v1/refunds")],
)
async def test_an_unserved_url_is_a_404_naming_it(
    standin: StripeStandIn, method: str, path: str
) -> None:
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.request(method, path, headers={"Authorization": f"Bearer {TEST_KEY}"})

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert f"{method}: {path}" in error["message"]
