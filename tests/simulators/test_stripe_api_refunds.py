"""Refunds through the SDK: full, partial, too much, and of what was never captured."""

from __future__ import annotations

from typing import cast

import pytest
import stripe
from stripe.params import RefundCreateParams

from simulators.stripe_api import StandInAdmin

from . import stripe_fixtures
from .stripe_fixtures import card_payment, declined_intent, expanded_charge

standin, stripe_client, admin = (
    stripe_fixtures.standin,
    stripe_fixtures.stripe_client,
    stripe_fixtures.admin,
)


def _refund_charge(refund: stripe.Refund) -> stripe.Charge:
    assert isinstance(refund.charge, stripe.Charge), f"charge not expanded: {refund.charge!r}"
    return refund.charge


async def _paid_intent(client: stripe.StripeClient, amount: int = 2000) -> stripe.PaymentIntent:
    return await client.v1.payment_intents.create_async(card_payment(amount=amount))


async def test_a_refund_without_an_amount_gives_back_everything(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intent = await _paid_intent(stripe_client)

    refund = await stripe_client.v1.refunds.create_async(
        {"payment_intent": intent.id, "reason": "requested_by_customer"}
    )

    assert refund.object == "refund"
    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 2000, "usd")
    assert refund.payment_intent == intent.id
    assert refund.charge == intent.latest_charge
    assert refund.reason == "requested_by_customer"
    charged = await stripe_client.v1.payment_intents.retrieve_async(
        intent.id, {"expand": ["latest_charge"]}
    )
    charge = expanded_charge(charged)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    entry = (await admin.ledger()).entry(intent.id)
    assert (entry.captured, entry.refunded, entry.net) == (2000, 2000, 0)
    assert entry.refunds == [refund.id]


async def test_partial_refunds_add_up_and_cannot_exceed_what_was_captured(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intent = await _paid_intent(stripe_client)
    refunds = stripe_client.v1.refunds
    await refunds.create_async({"payment_intent": intent.id, "amount": 500})
    await refunds.create_async({"payment_intent": intent.id, "amount": 700})

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        await refunds.create_async({"payment_intent": intent.id, "amount": 801})
    assert too_much.value.code == "amount_too_large"
    assert too_much.value.param == "amount"
    assert "$8.00" in str(too_much.value.user_message)

    rest = await refunds.create_async({"payment_intent": intent.id})
    assert rest.amount == 800
    with pytest.raises(stripe.InvalidRequestError) as again:
        await refunds.create_async({"payment_intent": intent.id, "amount": 1})
    assert again.value.code == "charge_already_refunded"

    entry = (await admin.ledger()).entry(intent.id)
    assert (entry.captured, entry.refunded, entry.net) == (2000, 2000, 0)
    assert len(entry.refunds) == 3


async def test_a_partly_captured_intent_refunds_only_what_was_captured(
    stripe_client: stripe.StripeClient,
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(card_payment(capture_method="manual"))
    await intents.capture_async(intent.id, {"amount_to_capture": 1200})

    with pytest.raises(stripe.InvalidRequestError):
        await stripe_client.v1.refunds.create_async({"payment_intent": intent.id, "amount": 1201})
    refund = await stripe_client.v1.refunds.create_async({"payment_intent": intent.id})

    assert refund.amount == 1200


async def test_an_authorised_but_uncaptured_intent_cannot_be_refunded(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(
        card_payment(capture_method="manual")
    )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.refunds.create_async({"payment_intent": intent.id})

    assert raised.value.code == "payment_intent_unexpected_state"
    assert (await admin.ledger()).entry(intent.id).refunded == 0


async def test_a_declined_intent_has_nothing_to_refund(
    stripe_client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.CardError) as declined:
        await stripe_client.v1.payment_intents.create_async(
            card_payment(payment_method="pm_card_chargeDeclined")
        )

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.refunds.create_async(
            {"payment_intent": declined_intent(declined.value).id}
        )

    assert raised.value.code == "payment_intent_unexpected_state"


async def test_a_refund_can_name_the_charge_and_is_retrievable(
    stripe_client: stripe.StripeClient,
) -> None:
    intent = await _paid_intent(stripe_client)
    assert isinstance(intent.latest_charge, str)

    refund = await stripe_client.v1.refunds.create_async(
        {"charge": intent.latest_charge, "amount": 300, "metadata": {"order_id": "order-1"}}
    )
    found = await stripe_client.v1.refunds.retrieve_async(refund.id, {"expand": ["charge"]})

    assert found.payment_intent == intent.id
    assert found.metadata is not None
    assert found.metadata.to_dict() == {"order_id": "order-1"}
    assert _refund_charge(found).amount_refunded == 300


@pytest.mark.parametrize(
    ("params", "code", "http_status"),
    [
        ({}, "parameter_missing", 400),
        ({"payment_intent": "pi_missing"}, "resource_missing", 404),
        ({"payment_intent": "PAID", "amount": 0}, "parameter_invalid_integer", 400),
        ({"payment_intent": "PAID", "reason": "bored"}, None, 400),
    ],
)
async def test_bad_refund_requests_are_refused_clearly(
    stripe_client: stripe.StripeClient,
    params: dict[str, object],
    code: str | None,
    http_status: int,
) -> None:
    intent = await _paid_intent(stripe_client)
    resolved = {k: intent.id if v == "PAID" else v for k, v in params.items()}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.refunds.create_async(cast(RefundCreateParams, resolved))

    assert raised.value.code == code
    assert raised.value.http_status == http_status
    assert raised.value.user_message


async def test_an_unknown_refund_is_a_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await stripe_client.v1.refunds.retrieve_async("re_missing")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
