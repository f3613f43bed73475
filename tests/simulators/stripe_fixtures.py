"""Fixtures and helpers for the Stripe stand-in tests: a running stand-in and SDK clients.

The tests talk to the stand-in only through the official ``stripe`` SDK (its async
methods), as the charge-payment service will, and read the ledger through the admin API.
The helpers below also narrow the SDK's wide types (an expandable field is ``str | Charge
| None``) so the tests stay typed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import stripe
from stripe.params import (
    PaymentIntentCreateParams,
    PaymentIntentCreateParamsAutomaticPaymentMethods,
)

from simulators.stripe_api import StandInAdmin, StripeStandIn

TEST_KEY = "sk_test_stepstream_0000000000000001"
OTHER_KEY = "sk_test_stepstream_0000000000000002"
# Card payments that never redirect need no return_url, on Stripe as here.
NO_REDIRECTS: PaymentIntentCreateParamsAutomaticPaymentMethods = {
    "enabled": True,
    "allow_redirects": "never",
}


def sdk_client(url: str, *, key: str = TEST_KEY, retries: int = 0) -> stripe.StripeClient:
    """An SDK client aimed at the stand-in; retries are off unless a test wants them."""
    return stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=retries)


def card_payment(**changes: Any) -> PaymentIntentCreateParams:
    """Parameters of a $20.00 card payment confirmed at once; keywords replace fields.

    A keyword set to None drops that field, as the SDK drops None values.
    """
    params: dict[str, Any] = {
        "amount": 2000,
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "automatic_payment_methods": NO_REDIRECTS,
        "confirm": True,
        "metadata": {"order_id": "order-1"},
    }
    params.update(changes)
    return cast(PaymentIntentCreateParams, params)


def expanded_charge(intent: stripe.PaymentIntent) -> stripe.Charge:
    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge), f"latest_charge not expanded: {charge!r}"
    return charge


def expanded_method(intent: stripe.PaymentIntent) -> stripe.PaymentMethod:
    method = intent.payment_method
    assert isinstance(method, stripe.PaymentMethod), f"payment_method not expanded: {method!r}"
    return method


def card_of(method: stripe.PaymentMethod) -> stripe.PaymentMethod.Card:
    assert method.card is not None
    return method.card


def declined_intent(error: stripe.CardError) -> stripe.PaymentIntent:
    """The PaymentIntent a card error carries, as Stripe includes it in the error."""
    assert error.error is not None
    assert error.error.payment_intent is not None
    return error.error.payment_intent


def last_error(intent: stripe.PaymentIntent) -> stripe.PaymentIntent.LastPaymentError:
    assert intent.last_payment_error is not None
    return intent.last_payment_error


def error_body(error: stripe.StripeError) -> dict[str, Any]:
    """The ``error`` object of the JSON body the stand-in sent."""
    assert isinstance(error.json_body, dict)
    body = error.json_body["error"]
    assert isinstance(body, dict)
    return body


@pytest.fixture
async def standin() -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn() as running:
        yield running


@pytest.fixture
def stripe_client(standin: StripeStandIn) -> stripe.StripeClient:
    return sdk_client(standin.url)


@pytest.fixture
def admin(standin: StripeStandIn) -> StandInAdmin:
    return StandInAdmin(standin.url)
