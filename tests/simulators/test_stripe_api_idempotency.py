"""Idempotency keys as Stripe honours them: replay, mismatch, scope, and SDK retries."""

from __future__ import annotations

import pytest
import stripe

from simulators.stripe_api import FaultConfig, StandInAdmin, StripeStandIn

from . import stripe_fixtures
from .stripe_fixtures import OTHER_KEY, card_payment, sdk_client

standin, stripe_client, admin = (
    stripe_fixtures.standin,
    stripe_fixtures.stripe_client,
    stripe_fixtures.admin,
)


def _headers(obj: stripe.StripeObject) -> dict[str, str]:
    assert obj.last_response is not None
    return {name.lower(): value for name, value in obj.last_response.headers.items()}


async def test_the_same_key_and_parameters_replay_the_first_answer_and_charge_once(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    options: stripe.RequestOptions = {"idempotency_key": "exec-1:ChargePayment"}

    first = await intents.create_async(card_payment(), options)
    again = await intents.create_async(card_payment(), options)

    assert again.id == first.id
    assert again.to_dict() == first.to_dict()
    assert _headers(first)["idempotent-replayed"] == "false"
    assert _headers(again)["idempotent-replayed"] == "true"
    assert _headers(again)["original-request"] == _headers(first)["request-id"]
    ledger = await admin.ledger()
    assert [entry.id for entry in ledger.payment_intents] == [first.id]
    assert ledger.totals["usd"].captured == 2000


async def test_the_same_key_with_other_parameters_is_an_idempotency_error(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    options: stripe.RequestOptions = {"idempotency_key": "exec-2:ChargePayment"}
    await intents.create_async(card_payment(amount=2000), options)

    with pytest.raises(stripe.IdempotencyError) as raised:
        await intents.create_async(card_payment(amount=2500), options)

    assert raised.value.http_status == 400
    assert "exec-2:ChargePayment" in str(raised.value.user_message)
    assert (await admin.ledger()).totals["usd"].captured == 2000


async def test_the_same_key_on_another_endpoint_is_an_idempotency_error(
    stripe_client: stripe.StripeClient,
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(card_payment())
    options: stripe.RequestOptions = {"idempotency_key": "shared-key"}
    await stripe_client.v1.refunds.create_async({"payment_intent": intent.id}, options)

    with pytest.raises(stripe.IdempotencyError):
        await stripe_client.v1.payment_intents.cancel_async(intent.id, options=options)


async def test_keys_belong_to_the_api_key_that_sent_them(
    standin: StripeStandIn, stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    other = sdk_client(standin.url, key=OTHER_KEY)
    options: stripe.RequestOptions = {"idempotency_key": "same-key"}

    mine = await stripe_client.v1.payment_intents.create_async(card_payment(), options)
    theirs = await other.v1.payment_intents.create_async(card_payment(), options)

    assert mine.id != theirs.id
    assert len((await admin.ledger()).payment_intents) == 2


async def test_a_declined_answer_is_replayed_without_charging_again(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    params = card_payment(payment_method="pm_card_chargeDeclined")
    options: stripe.RequestOptions = {"idempotency_key": "exec-3:ChargePayment"}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            await stripe_client.v1.payment_intents.create_async(params, options)
        errors.append(raised.value)

    assert errors[0].json_body == errors[1].json_body
    assert errors[1].headers is not None
    assert errors[1].headers["Idempotent-Replayed"] == "true"
    ledger = await admin.ledger()
    assert len(ledger.payment_intents) == 1
    assert ledger.payment_intents[0].charge_attempts == 1


async def test_a_refused_parameter_check_is_not_kept_so_the_key_can_be_reused(
    stripe_client: stripe.StripeClient,
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "exec-4:ChargePayment"}
    with pytest.raises(stripe.InvalidRequestError):
        await stripe_client.v1.payment_intents.create_async(card_payment(amount=1), options)

    intent = await stripe_client.v1.payment_intents.create_async(card_payment(), options)

    assert intent.status == "succeeded"


async def test_a_replayed_capture_captures_once(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(card_payment(capture_method="manual"))
    options: stripe.RequestOptions = {"idempotency_key": "exec-5:Capture"}

    first = await intents.capture_async(intent.id, options=options)
    again = await intents.capture_async(intent.id, options=options)

    assert first.status == again.status == "succeeded"
    assert (await admin.ledger()).entry(intent.id).captured == 2000


async def test_the_sdk_retries_a_server_error_under_its_own_key_and_charges_once(
    standin: StripeStandIn, admin: StandInAdmin
) -> None:
    # The SDK sends one generated Idempotency-Key on every attempt of a POST; the
    # injected 500 strikes before the endpoint acts, so the retry is what takes effect.
    standin.set_faults(FaultConfig(error_next=1))
    retrying = sdk_client(standin.url, retries=1)

    intent = await retrying.v1.payment_intents.create_async(card_payment())

    assert intent.status == "succeeded"
    assert (await admin.faults()).injected.api_errors == 1
    ledger = await admin.ledger()
    assert [entry.id for entry in ledger.payment_intents] == [intent.id]
    assert ledger.totals["usd"].captured == 2000


async def test_without_retries_a_server_error_reaches_the_caller(
    standin: StripeStandIn, stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    standin.set_faults(FaultConfig(error_next=1))

    with pytest.raises(stripe.APIError) as raised:
        await stripe_client.v1.payment_intents.create_async(card_payment())

    assert raised.value.http_status == 500
    assert (await admin.ledger()).payment_intents == []
