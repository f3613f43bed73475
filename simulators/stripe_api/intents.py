"""What the PaymentIntent endpoints do: the status machine and the charges it makes.

Statuses follow Stripe's: a new intent waits for a payment method
(``requires_payment_method``), then for confirmation (``requires_confirmation``);
confirming charges the card, leaving the intent ``requires_capture`` (manual capture)
or ``succeeded`` (automatic), or, on a decline, back at ``requires_payment_method``
with ``last_payment_error`` set. ``canceled`` is reachable from every unfinished status.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import render
from .account import Account
from .cards import TEST_PAYMENT_METHODS, Decline
from .errors import CARD_ERROR, StripeError, invalid, unexpected_state
from .method_types import MethodTypes
from .params import merge_metadata
from .records import CaptureMethod, ChargeRecord, PaymentIntentRecord, PaymentMethodRecord

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (*CONFIRMABLE, "requires_capture", "processing")


@dataclass(frozen=True, slots=True)
class ConfirmOptions:
    """What a confirmation may carry, on its own endpoint or on create with confirm=true."""

    payment_method: str | None = None
    return_url: str | None = None
    capture_method: CaptureMethod | None = None
    echoed: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreateIntent:
    amount: int
    currency: str
    capture_method: CaptureMethod
    methods: MethodTypes
    description: str | None
    metadata: dict[str, str]
    confirm: bool
    confirmation: ConfirmOptions


def create(account: Account, request: CreateIntent) -> PaymentIntentRecord:
    """Create an intent, and confirm it at once when asked to."""
    if request.confirm:
        _require_return_url(request.methods.automatic, request.confirmation.return_url)
    intent_id = account.new_id("pi")
    record = PaymentIntentRecord(
        id=intent_id,
        created=account.now(),
        client_secret=f"{intent_id}_secret_{account.token(25)}",
        amount=request.amount,
        currency=request.currency,
        status="requires_payment_method",
        capture_method=request.capture_method,
        payment_method_types=request.methods.payment_method_types,
        automatic_payment_methods=request.methods.automatic,
        allowed_payment_method_types=request.methods.allowed,
        excluded_payment_method_types=request.methods.excluded,
        description=request.description,
        metadata=request.metadata,
    )
    _attach(account, record, request.confirmation)
    account.touch(record)
    if request.confirm:
        _charge(account, record)
    return record


def confirm(account: Account, intent_id: str, options: ConfirmOptions) -> PaymentIntentRecord:
    record = account.intent(intent_id)
    if record.status not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {record.status}.",
            payment_intent=render.intent(account, record),
        )
    _require_return_url(record.automatic_payment_methods, options.return_url)
    _attach(account, record, options)
    if record.payment_method is None:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has no payment method. "
            "Pass `payment_method` when confirming it, or set one first.",
            param="payment_method",
            payment_intent=render.intent(account, record),
        )
    account.touch(record)
    _charge(account, record)
    return record


def capture(
    account: Account, intent_id: str, amount: int | None, metadata: dict[str, str] | None
) -> PaymentIntentRecord:
    """Capture an authorised intent, wholly or in part; the rest is released."""
    record = account.intent(intent_id)
    if record.status != "requires_capture":
        raise unexpected_state(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{record.status}. Only a PaymentIntent in requires_capture can be captured.",
            payment_intent=render.intent(account, record),
        )
    to_capture = record.amount_capturable if amount is None else amount
    if to_capture > record.amount_capturable:
        raise StripeError(
            400,
            f"The amount_to_capture ({to_capture}) must be no more than the "
            f"amount_capturable ({record.amount_capturable}).",
            code="amount_too_large",
            param="amount_to_capture",
        )
    assert record.latest_charge is not None
    charge = account.charge(record.latest_charge)
    charge.captured = True
    charge.amount_captured = to_capture
    # Stripe shows the uncaptured rest of a partial capture as refunded on the charge.
    charge.amount_refunded = charge.amount - to_capture
    record.status = "succeeded"
    record.amount_received = to_capture
    record.amount_capturable = 0
    record.metadata = merge_metadata(record.metadata, metadata)
    account.touch(charge)
    account.touch(record)
    return record


def cancel(account: Account, intent_id: str, reason: str | None) -> PaymentIntentRecord:
    """Cancel an unfinished intent, releasing any authorisation it holds."""
    record = account.intent(intent_id)
    if record.status not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of "
            f"{record.status}. Only a PaymentIntent in one of {', '.join(CANCELABLE)} "
            "can be canceled.",
            payment_intent=render.intent(account, record),
        )
    if record.status == "requires_capture" and record.latest_charge is not None:
        charge = account.charge(record.latest_charge)
        charge.released = True
        charge.amount_refunded = charge.amount
        account.touch(charge)
    record.status = "canceled"
    record.canceled_at = account.now()
    record.cancellation_reason = reason
    record.amount_capturable = 0
    account.touch(record)
    return record


def _require_return_url(automatic: dict[str, Any] | None, return_url: str | None) -> None:
    # Stripe refuses to confirm an intent open to redirecting payment methods unless it
    # knows where to send the customer back to; matching this keeps code that works here
    # working against Stripe's test mode.
    if automatic and automatic.get("allow_redirects") != "never" and not return_url:
        raise invalid(
            "This PaymentIntent accepts the payment methods enabled in the Dashboard, and "
            "some of them redirect the customer, so confirming it needs a `return_url`. "
            "To accept only methods that never redirect, create it with "
            "`automatic_payment_methods[enabled]=true` and "
            "`automatic_payment_methods[allow_redirects]=never`, or with "
            "`payment_method_types[]=card`.",
            param="return_url",
        )


def _attach(account: Account, record: PaymentIntentRecord, options: ConfirmOptions) -> None:
    if options.payment_method is not None:
        pm = resolve_payment_method(account, options.payment_method)
        record.payment_method = pm.id
        if record.status == "requires_payment_method":
            record.status = "requires_confirmation"
    if options.capture_method is not None:
        record.capture_method = options.capture_method
    record.echoed.update(options.echoed)


def resolve_payment_method(account: Account, name: str) -> PaymentMethodRecord:
    """The payment method ``name`` refers to; a test name mints a new one, as Stripe does."""
    existing = account.payment_methods.get(name)
    if existing is not None:
        return existing
    card = TEST_PAYMENT_METHODS.get(name)
    if card is None:
        raise StripeError(
            400,
            f"No such PaymentMethod: '{name}'",
            code="resource_missing",
            param="payment_method",
            replayable=False,
        )
    created = account.now()
    pm = PaymentMethodRecord(
        id=account.new_id("pm"),
        created=created,
        test_name=name,
        brand=card.brand,
        last4=card.last4,
        funding=card.funding,
        exp_month=12,
        exp_year=datetime.fromtimestamp(created, UTC).year + 3,
        # The same card always has the same fingerprint, as on Stripe.
        fingerprint=hashlib.sha256(name.encode()).hexdigest()[:16],
    )
    account.touch(pm)
    return pm


def _charge(account: Account, record: PaymentIntentRecord) -> None:
    assert record.payment_method is not None
    pm = account.payment_methods[record.payment_method]
    decline = TEST_PAYMENT_METHODS[pm.test_name].decline
    charge = ChargeRecord(
        id=account.new_id("ch"),
        created=account.now(),
        payment_intent=record.id,
        payment_method=pm.id,
        amount=record.amount,
        currency=record.currency,
        status="succeeded" if decline is None else "failed",
        description=record.description,
        metadata=dict(record.metadata),
    )
    record.latest_charge = charge.id
    record.charges.append(charge.id)
    if decline is not None:
        raise _decline(account, record, charge, decline)
    if record.capture_method == "manual":
        record.status = "requires_capture"
        record.amount_capturable = record.amount
    else:
        charge.captured = True
        charge.amount_captured = record.amount
        record.status = "succeeded"
        record.amount_received = record.amount
    record.last_payment_error = None
    account.touch(charge)
    account.touch(record)


def _decline(
    account: Account, record: PaymentIntentRecord, charge: ChargeRecord, decline: Decline
) -> StripeError:
    """Record a declined charge on the intent and return the card error to answer with."""
    charge.failure_code = decline.code
    charge.failure_message = decline.message
    charge.decline_code = decline.decline_code
    account.touch(charge)
    record.status = "requires_payment_method"
    record.last_payment_error = render.last_payment_error(account, charge, decline.param)
    # A declined payment method is detached so the customer has to supply another one.
    record.payment_method = None
    account.touch(record)
    return StripeError(
        402,
        decline.message,
        type=CARD_ERROR,
        code=decline.code,
        decline_code=decline.decline_code,
        param=decline.param,
        extra={
            "charge": charge.id,
            "payment_intent": render.intent(account, record),
            "payment_method": record.last_payment_error.get("payment_method"),
        },
    )
