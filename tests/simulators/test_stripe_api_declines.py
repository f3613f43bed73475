"""Stripe's test payment methods: the good ones pay, the declining ones raise CardError."""

from __future__ import annotations

import pytest
import stripe

from simulators.stripe_api import StandInAdmin

from . import stripe_fixtures
from .stripe_fixtures import (
    card_of,
    card_payment,
    declined_intent,
    expanded_charge,
    expanded_method,
    last_error,
)

standin, stripe_client, admin = (
    stripe_fixtures.standin,
    stripe_fixtures.stripe_client,
    stripe_fixtures.admin,
)


@pytest.mark.parametrize(
    ("payment_method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card"),
        ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
        ("pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent"),
        (
            "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
            "card_declined",
            "card_velocity_exceeded",
        ),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
    ],
)
async def test_a_declining_card_raises_card_error_with_stripes_codes(
    stripe_client: stripe.StripeClient,
    admin: StandInAdmin,
    payment_method: str,
    code: str,
    decline_code: str,
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        await stripe_client.v1.payment_intents.create_async(
            card_payment(payment_method=payment_method)
        )

    error = raised.value
    assert error.http_status == 402
    assert error.code == code
    assert error.error is not None
    assert error.error.type == "card_error"
    assert error.error.decline_code == decline_code
    assert error.user_message
    assert str(error.error.charge).startswith("ch_")
    # The intent exists, waits for another payment method, and took no money.
    intent = declined_intent(error)
    assert intent.status == "requires_payment_method"
    assert intent.payment_method is None
    assert last_error(intent).code == code
    assert last_error(intent).decline_code == decline_code
    entry = (await admin.ledger()).entry(intent.id)
    assert (entry.captured, entry.authorised, entry.charge_attempts) == (0, 0, 1)


async def test_the_failed_charge_records_why_it_failed(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        await stripe_client.v1.payment_intents.create_async(
            card_payment(payment_method="pm_card_visa_chargeDeclinedInsufficientFunds")
        )
    intent_id = declined_intent(raised.value).id

    intent = await stripe_client.v1.payment_intents.retrieve_async(
        intent_id, {"expand": ["latest_charge"]}
    )

    charge = expanded_charge(intent)
    assert (charge.status, charge.paid, charge.captured) == ("failed", False, False)
    assert charge.failure_code == "card_declined"
    assert charge.outcome is not None
    assert charge.outcome.reason == "insufficient_funds"


async def test_after_a_decline_the_same_intent_can_be_paid_with_another_card(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        await stripe_client.v1.payment_intents.create_async(
            card_payment(payment_method="pm_card_chargeDeclined")
        )
    intent_id = declined_intent(raised.value).id

    paid = await stripe_client.v1.payment_intents.confirm_async(
        intent_id, {"payment_method": "pm_card_visa"}
    )

    assert paid.status == "succeeded"
    assert paid.last_payment_error is None
    entry = (await admin.ledger()).entry(intent_id)
    assert (entry.captured, entry.charge_attempts) == (2000, 2)


async def test_a_decline_on_confirm_leaves_a_manual_intent_unauthorised(
    stripe_client: stripe.StripeClient, admin: StandInAdmin
) -> None:
    intents = stripe_client.v1.payment_intents
    intent = await intents.create_async(
        card_payment(confirm=False, capture_method="manual", payment_method=None)
    )

    with pytest.raises(stripe.CardError):
        await intents.confirm_async(intent.id, {"payment_method": "pm_card_chargeDeclined"})

    assert (await intents.retrieve_async(intent.id)).status == "requires_payment_method"
    assert (await admin.ledger()).entry(intent.id).authorised == 0


@pytest.mark.parametrize(
    ("payment_method", "brand", "last4", "funding"),
    [
        ("pm_card_visa", "visa", "4242", "credit"),
        ("pm_card_visa_debit", "visa", "5556", "debit"),
        ("pm_card_mastercard", "mastercard", "4444", "credit"),
        ("pm_card_mastercard_prepaid", "mastercard", "5100", "prepaid"),
        ("pm_card_amex", "amex", "0005", "credit"),
    ],
)
async def test_good_test_cards_pay_and_show_their_card(
    stripe_client: stripe.StripeClient, payment_method: str, brand: str, last4: str, funding: str
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(
        card_payment(payment_method=payment_method, expand=["payment_method"])
    )

    assert intent.status == "succeeded"
    method = expanded_method(intent)
    card = card_of(method)
    assert (card.brand, card.last4, card.funding) == (brand, last4, funding)
    # As on Stripe, a test name mints a new PaymentMethod object.
    assert method.id != payment_method
    assert method.id.startswith("pm_")
