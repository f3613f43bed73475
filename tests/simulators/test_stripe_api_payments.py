"""PaymentIntents through the official SDK: create, confirm, capture, cancel, retrieve."""

from __future__ import annotations

import asyncio

import pytest
import stripe

from simulators.stripe_api import StandInAdmin, StripeStandIn

from . import stripe_fixtures
from .stripe_fixtures import (
    NO_REDIRECTS,
    TEST_KEY,
    card_of,
    card_payment,
    expanded_charge,
    expanded_method,
)

# pytest looks fixtures up among a module's attributes; this makes the shared ones visible.
standin, stripe_client, admin = (
    stripe_fixtures.standin,
    stripe_fixtures.stripe_client,
    stripe_fixtures.admin,
)


async def test_an_automatic_payment_is_captured_on_confirmation(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(card_payment(amount=1234))

    assert intent.object == "payment_intent"
    assert intent.id.startswith("pi_")
    assert str(intent.client_secret).startswith(f"{intent.id}_secret_")
    assert intent.livemode is False
    assert intent.status == "succeeded"
    assert intent.amount == 1234
    assert intent.amount_received == 1234
    assert intent.amount_capturable == 0
    assert intent.currency == "usd"
    assert intent.metadata.to_dict() == {"order_id": "order-1"}
    assert isinstance(intent.latest_charge, str)
    assert intent.latest_charge.startswith("ch_")
    assert str(intent.payment_method).startswith("pm_")
    entry = (await admin.ledger()).entry(intent.id)
    assert (entry.captured, entry.refunded, entry.charge_attempts) == (1234, 0, 1)


async def test_create_then_confirm_then_capture_walks_stripes_statuses(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    created = await intents.create_async(
        {"amount": 5000, "currency": "usd", "automatic_payment_methods": NO_REDIRECTS}
    )
    assert created.status == "requires_payment_method"
    assert created.capture_method == "automatic_async"

    confirmed = await intents.confirm_async(
        created.id, {"payment_method": "pm_card_mastercard", "capture_method": "manual"}
    )
    assert confirmed.status == "requires_capture"
    assert confirmed.amount_capturable == 5000
    assert confirmed.amount_received == 0
    assert (await admin.ledger()).entry(created.id).authorised == 5000

    captured = await intents.capture_async(created.id, {"expand": ["latest_charge"]})
    assert captured.status == "succeeded"
    assert captured.amount_received == 5000
    assert captured.amount_capturable == 0
    charge = expanded_charge(captured)
    assert (charge.captured, charge.amount_captured, charge.paid) == (True, 5000, True)
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.card is not None
    assert charge.payment_method_details.card.brand == "mastercard"
    entry = (await admin.ledger()).entry(created.id)
    assert (entry.authorised, entry.captured) == (0, 5000)


async def test_an_intent_with_a_payment_method_waits_for_confirmation(
    stripe_client: stripe.StripeClient,
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(card_payment(confirm=False))

    assert intent.status == "requires_confirmation"
    confirmed = await stripe_client.v1.payment_intents.confirm_async(intent.id)
    assert confirmed.status == "succeeded"


async def test_manual_capture_may_take_less_than_was_authorised(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(card_payment(capture_method="manual"))
    assert intent.status == "requires_capture"

    captured = await intents.capture_async(intent.id, {"amount_to_capture": 1500})

    assert captured.amount_received == 1500
    entry = (await admin.ledger()).entry(intent.id)
    assert (entry.captured, entry.authorised) == (1500, 0)


async def test_capturing_more_than_was_authorised_is_refused(
    stripe_client: stripe.StripeClient,
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(card_payment(capture_method="manual"))

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await intents.capture_async(intent.id, {"amount_to_capture": 2001})

    assert raised.value.code == "amount_too_large"
    assert raised.value.param == "amount_to_capture"
    assert (await intents.retrieve_async(intent.id)).status == "requires_capture"


async def test_a_captured_intent_cannot_be_captured_again(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(card_payment())

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.payment_intents.capture_async(intent.id)

    assert raised.value.http_status == 400
    assert raised.value.code == "payment_intent_unexpected_state"
    assert (await admin.ledger()).entry(intent.id).captured == 2000


async def test_cancelling_an_authorised_intent_releases_the_money(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(card_payment(capture_method="manual"))

    canceled = await intents.cancel_async(
        intent.id, {"cancellation_reason": "abandoned", "expand": ["latest_charge"]}
    )

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"
    assert canceled.canceled_at is not None
    assert canceled.amount_capturable == 0
    assert expanded_charge(canceled).captured is False
    assert expanded_charge(canceled).refunded is True
    entry = (await admin.ledger()).entry(intent.id)
    assert (entry.authorised, entry.captured, entry.refunded) == (0, 0, 0)


async def test_a_succeeded_intent_cannot_be_cancelled(stripe_client: stripe.StripeClient) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(card_payment())

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.payment_intents.cancel_async(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"


async def test_confirming_without_a_payment_method_is_refused(
    stripe_client: stripe.StripeClient,
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(
        {"amount": 700, "currency": "eur", "automatic_payment_methods": NO_REDIRECTS}
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await intents.confirm_async(intent.id)

    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.param == "payment_method"


async def test_retrieve_returns_the_intent_and_expands_on_request(
    stripe_client: stripe.StripeClient,
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(card_payment(description="order 1"))

    found = await intents.retrieve_async(intent.id, {"expand": ["payment_method"]})

    assert found.id == intent.id
    assert found.description == "order 1"
    card = card_of(expanded_method(found))
    assert (card.last4, card.brand) == ("4242", "visa")


async def test_an_unknown_intent_is_a_404_resource_missing(
    stripe_client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.payment_intents.retrieve_async("pi_doesnotexist")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert "pi_doesnotexist" in str(raised.value.user_message)


async def test_dynamic_payment_methods_need_a_return_url_as_on_stripe(
    stripe_client: stripe.StripeClient,
) -> None:
    intents = stripe_client.v1.payment_intents
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await intents.create_async(card_payment(automatic_payment_methods=None))
    assert raised.value.param == "return_url"

    with_url = await intents.create_async(
        card_payment(automatic_payment_methods=None, return_url="https://shop.invalid/done")
    )
    assert with_url.status == "succeeded"
    assert with_url.automatic_payment_methods is not None
    assert with_url.automatic_payment_methods.to_dict() == {
        "enabled": True,
        "allow_redirects": "always",
    }


async def test_allowed_payment_method_types_card_needs_no_return_url(
    stripe_client: stripe.StripeClient,
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(
        card_payment(automatic_payment_methods=None, allowed_payment_method_types=["card"])
    )

    assert intent.status == "succeeded"
    assert intent.automatic_payment_methods is None
    assert intent.allowed_payment_method_types == ["card"]
    assert intent.payment_method_types == ["card"]


async def test_the_sdks_api_version_refuses_payment_method_types_as_stripe_does(
    stripe_client: stripe.StripeClient,
) -> None:
    params = card_payment(automatic_payment_methods=None)
    params_with_types = {**params, "payment_method_types": ["card"]}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.payment_intents.create_async(params_with_types)  # type: ignore[arg-type]

    assert raised.value.code == "payment_method_types_no_longer_supported"
    assert raised.value.param == "payment_method_types"


async def test_an_older_api_version_keeps_its_older_rules(standin: StripeStandIn) -> None:
    old = stripe.StripeClient(
        TEST_KEY, base_addresses={"api": standin.url}, stripe_version="2022-11-15"
    )
    params = {**card_payment(automatic_payment_methods=None), "payment_method_types": ["card"]}

    typed = await old.v1.payment_intents.create_async(params)  # type: ignore[arg-type]
    default = await old.v1.payment_intents.create_async(
        card_payment(automatic_payment_methods=None)
    )

    assert typed.payment_method_types == ["card"]
    assert typed.status == default.status == "succeeded"
    assert default.capture_method == "automatic"
    assert default.automatic_payment_methods is None
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await old.v1.payment_intents.create_async(
            card_payment(allowed_payment_method_types=["card"])
        )
    assert raised.value.code == "parameter_unknown"


@pytest.mark.parametrize(
    ("changes", "code", "param"),
    [
        ({"amount": None}, "parameter_missing", "amount"),
        ({"amount": "ten"}, "parameter_invalid_integer", "amount"),
        ({"amount": 10}, "amount_too_small", "amount"),
        ({"colour": "blue"}, "parameter_unknown", "colour"),
        ({"payment_method": "pm_nonsense"}, "resource_missing", "payment_method"),
    ],
)
async def test_bad_parameters_are_named_in_the_error(
    stripe_client: stripe.StripeClient,
    admin: StandInAdmin,
    changes: dict[str, object],
    code: str,
    param: str,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.payment_intents.create_async(card_payment(**changes))

    assert raised.value.code == code
    assert raised.value.param == param
    assert raised.value.http_status == 400
    assert (await admin.ledger()).payment_intents == []


async def test_the_synchronous_client_works_from_a_thread(
    standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    intent = await asyncio.to_thread(stripe_client.v1.payment_intents.create, card_payment())

    assert intent.status == "succeeded"
    assert standin.ledger().entry(intent.id).captured == 2000
