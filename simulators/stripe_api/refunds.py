"""What the refund endpoint does: give back some or all of a captured charge."""

from __future__ import annotations

from dataclasses import dataclass

from .account import Account
from .errors import StripeError, invalid, unexpected_state
from .money import display
from .records import ChargeRecord, PaymentIntentRecord, RefundRecord

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


@dataclass(frozen=True, slots=True)
class CreateRefund:
    payment_intent: str | None
    charge: str | None
    amount: int | None
    reason: str | None
    metadata: dict[str, str]


def create(account: Account, request: CreateRefund) -> RefundRecord:
    """Refund ``amount`` (by default all that is left) of a PaymentIntent's charge."""
    intent, charge = _target(account, request)
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise StripeError(
            400,
            f"Charge {charge.id} has already been refunded.",
            code="charge_already_refunded",
            extra={"charge": charge.id},
        )
    amount = remaining if request.amount is None else request.amount
    if amount > remaining:
        raise StripeError(
            400,
            f"Refund amount ({display(amount, charge.currency)}) is greater than unrefunded "
            f"amount on charge ({display(remaining, charge.currency)})",
            code="amount_too_large",
            param="amount",
        )
    record = RefundRecord(
        id=account.new_id("re"),
        created=account.now(),
        amount=amount,
        currency=charge.currency,
        charge=charge.id,
        payment_intent=intent.id,
        reason=request.reason,
        metadata=request.metadata,
    )
    charge.amount_refunded += amount
    account.touch(charge)
    account.touch(record)
    return record


def _target(account: Account, request: CreateRefund) -> tuple[PaymentIntentRecord, ChargeRecord]:
    if request.payment_intent is None and request.charge is None:
        raise invalid(
            "One of `payment_intent` or `charge` is required to create a refund.",
            code="parameter_missing",
            param="payment_intent",
        )
    if request.payment_intent is not None and request.charge is not None:
        raise invalid("Pass only one of `payment_intent` or `charge`.", param="charge")
    if request.charge is not None:
        charge = account.charge(request.charge, param="charge")
        intent = account.intent(charge.payment_intent, param="charge")
    else:
        assert request.payment_intent is not None
        intent = account.intent(request.payment_intent, param="payment_intent")
        if intent.latest_charge is None:
            raise _not_refundable(intent)
        charge = account.charge(intent.latest_charge, param="payment_intent")
    if charge.status != "succeeded" or not charge.captured:
        raise _not_refundable(intent)
    return intent, charge


def _not_refundable(intent: PaymentIntentRecord) -> StripeError:
    if intent.status == "requires_capture":
        return unexpected_state(
            f"PaymentIntent {intent.id} has not been captured, so there is nothing to "
            "refund; cancel it to release the authorisation.",
            param="payment_intent",
        )
    return unexpected_state(
        f"PaymentIntent {intent.id} has a status of {intent.status} and no captured "
        "charge to refund.",
        param="payment_intent",
    )
