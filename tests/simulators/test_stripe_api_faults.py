"""Authentication, injected faults, the admin API, and an unreachable stand-in."""

from __future__ import annotations

import httpx
import pytest
import stripe

from simulators.stripe_api import (
    FaultConfig,
    StandInAdmin,
    StandInAdminError,
    StripeStandIn,
)

from . import stripe_fixtures
from .stripe_fixtures import TEST_KEY, card_payment, error_body, sdk_client

standin, stripe_client, admin = (
    stripe_fixtures.standin,
    stripe_fixtures.stripe_client,
    stripe_fixtures.admin,
)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sk_live_0000000000000000000000", "Invalid API Key provided: sk_live_"),
        ("pk_test_0000000000000000000000", "Invalid API Key provided"),
        ("not-a-key", "Invalid API Key provided"),
    ],
)
async def test_a_missing_or_wrong_key_is_an_authentication_error(
    standin: StripeStandIn, key: str, message: str
) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        await sdk_client(standin.url, key=key).v1.payment_intents.create_async(card_payment())

    assert raised.value.http_status == 401
    assert message in str(raised.value.user_message)
    assert raised.value.json_body == {
        "error": {"type": "invalid_request_error", "message": raised.value.user_message}
    }
    assert "0000000000000000" not in str(raised.value.user_message)


async def test_a_request_without_an_authorization_header_is_refused(
    standin: StripeStandIn,
) -> None:
    # The SDK will not send a request without a key, so this one goes out by hand.
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.get("/v1/payment_intents/pi_x")

    assert response.status_code == 401
    assert "did not provide an API key" in response.json()["error"]["message"]
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_a_stand_in_given_keys_accepts_only_those() -> None:
    async with StripeStandIn(api_keys=[TEST_KEY]) as running:
        paid = await sdk_client(running.url).v1.payment_intents.create_async(card_payment())
        assert paid.status == "succeeded"
        with pytest.raises(stripe.AuthenticationError):
            await sdk_client(running.url, key="sk_test_someone_else").v1.refunds.retrieve_async(
                "re_x"
            )


def test_a_live_key_is_refused_when_building_the_stand_in() -> None:
    with pytest.raises(ValueError, match="not a test-mode key"):
        StripeStandIn(api_keys=["sk_live_123456789"])


async def test_an_injected_rate_limit_raises_rate_limit_error_and_changes_nothing(
    standin: StripeStandIn, stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    await admin.set_faults(FaultConfig(rate_limit_next=1))

    with pytest.raises(stripe.RateLimitError) as raised:
        await stripe_client.v1.payment_intents.create_async(card_payment())
    assert raised.value.http_status == 429
    # The SDK builds RateLimitError without the code; it is in the body Stripe sends.
    assert error_body(raised.value)["code"] == "rate_limit"
    assert (await admin.ledger()).payment_intents == []

    intent = await stripe_client.v1.payment_intents.create_async(card_payment())
    assert intent.status == "succeeded"
    injected = (await admin.faults()).injected
    assert (injected.requests, injected.rate_limited) == (2, 1)


async def test_the_sdk_does_not_retry_a_rate_limit_by_itself(
    standin: StripeStandIn, admin: StandInAdmin
) -> None:
    # stripe-python retries 409s and 5xx only (or when Stripe-Should-Retry says so), so a
    # 429 reaches the caller even with retries on; backing off is the caller's job.
    await admin.set_faults(FaultConfig(rate_limit_next=1))

    with pytest.raises(stripe.RateLimitError):
        await sdk_client(standin.url, retries=2).v1.payment_intents.create_async(card_payment())

    assert (await admin.faults()).injected.requests == 1


async def test_a_rate_of_one_limits_every_request(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    await admin.set_faults(FaultConfig(rate_limit_rate=1.0))

    for _ in range(3):
        with pytest.raises(stripe.RateLimitError):
            await stripe_client.v1.refunds.retrieve_async("re_x")

    await admin.clear_faults()
    with pytest.raises(stripe.InvalidRequestError):
        await stripe_client.v1.refunds.retrieve_async("re_x")


async def _outcomes(seed: int, count: int) -> list[str]:
    faults = FaultConfig(rate_limit_rate=0.3, error_rate=0.3, seed=seed)
    outcomes = []
    async with StripeStandIn(faults=faults) as running:
        client = sdk_client(running.url)
        for _ in range(count):
            try:
                await client.v1.payment_intents.create_async(card_payment())
                outcomes.append("ok")
            except stripe.StripeError as error:
                outcomes.append(type(error).__name__)
    return outcomes


async def test_seeded_faults_repeat_exactly_and_mix_all_outcomes() -> None:
    first = await _outcomes(seed=7, count=30)

    assert await _outcomes(seed=7, count=30) == first
    assert {"ok", "RateLimitError", "APIError"} <= set(first)


async def test_latency_slows_answers_without_changing_them(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    view = await admin.set_faults(FaultConfig(latency_ms=20))

    intent = await stripe_client.v1.payment_intents.create_async(card_payment())

    assert view.config.latency_ms == 20
    assert intent.status == "succeeded"


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"rate_limit_rate": 1.5}, "rate_limit_rate"),
        ({"error_rate": -0.1}, "error_rate"),
        ({"rate_limit_rate": 0.6, "error_rate": 0.6}, "must not exceed 1"),
        ({"latency": 10}, "latency"),
        ([1, 2], "JSON object"),
    ],
)
async def test_a_bad_fault_configuration_is_refused_naming_the_problem(
    standin: StripeStandIn, payload: object, named: str
) -> None:
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.post("/_admin/faults", json=payload)

    assert response.status_code == 400
    assert named in response.json()["error"]["message"]


async def test_a_bad_fault_configuration_in_raw_json_is_refused(standin: StripeStandIn) -> None:
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.post("/_admin/faults", content=b"{not json")

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


async def test_the_admin_client_reports_health_and_refusals(
    standin: StripeStandIn, admin: StandInAdmin
) -> None:
    assert await admin.healthy()
    with pytest.raises(StandInAdminError, match="404"):
        await StandInAdmin(standin.url + "/nowhere").ledger()


async def test_an_unreachable_stand_in_raises_api_connection_error() -> None:
    running = StripeStandIn()
    await running.start()
    url = running.url
    await running.stop()

    with pytest.raises(stripe.APIConnectionError):
        await sdk_client(url).v1.payment_intents.create_async(card_payment())
    assert not await StandInAdmin(url).healthy()


async def test_healthz_answers_without_a_key_while_every_api_request_fails(
    standin: StripeStandIn, stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    await admin.set_faults(FaultConfig(rate_limit_rate=1.0))
    with pytest.raises(stripe.RateLimitError):
        await stripe_client.v1.refunds.retrieve_async("re_x")

    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        health = await http.get("/healthz")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert (await admin.faults()).injected.requests == 1
