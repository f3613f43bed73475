"""The JSON objects Stripe returns, built from the stand-in's records.

Fields the stand-in never sets are present with Stripe's empty values (``null``, ``{}``)
so that code reading them sees what it would see from Stripe in test mode.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .account import Account
from .errors import JsonObject
from .records import ChargeRecord, PaymentIntentRecord, PaymentMethodRecord, RefundRecord

INTENT_EXPANDABLE = frozenset({"latest_charge", "payment_method"})
REFUND_EXPANDABLE = frozenset({"charge", "payment_intent"})

_NO_ADDRESS: JsonObject = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


_CARD_OPTIONS: JsonObject = {
    "installments": None,
    "mandate_options": None,
    "network": None,
    "request_three_d_secure": "automatic",
}


def _billing_details() -> JsonObject:
    return {"address": dict(_NO_ADDRESS), "email": None, "name": None, "phone": None}


def _card(pm: PaymentMethodRecord) -> JsonObject:
    return {
        "brand": pm.brand,
        "country": "US",
        "display_brand": pm.brand,
        "exp_month": pm.exp_month,
        "exp_year": pm.exp_year,
        "fingerprint": pm.fingerprint,
        "funding": pm.funding,
        "last4": pm.last4,
        "networks": {"available": [pm.brand], "preferred": None},
    }


def payment_method(pm: PaymentMethodRecord) -> JsonObject:
    card = _card(pm)
    card.update(
        checks={"address_line1_check": None, "address_postal_code_check": None, "cvc_check": None},
        generated_from=None,
        three_d_secure_usage={"supported": True},
        wallet=None,
    )
    return {
        "id": pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(),
        "card": card,
        "created": pm.created,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def _outcome(charge: ChargeRecord) -> JsonObject:
    if charge.status == "succeeded":
        return {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "network_status": "declined_by_network",
        "reason": charge.decline_code,
        "risk_level": "normal",
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def charge(account: Account, record: ChargeRecord) -> JsonObject:
    pm = account.payment_methods.get(record.payment_method)
    details: JsonObject = {"type": "card"}
    if pm is not None:
        details["card"] = _card(pm) | {"network_transaction_id": None, "three_d_secure": None}
    return {
        "id": record.id,
        "object": "charge",
        "amount": record.amount,
        "amount_captured": record.amount_captured,
        "amount_refunded": record.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": _billing_details(),
        "calculated_statement_descriptor": "STEPSTREAM",
        "captured": record.captured,
        "created": record.created,
        "currency": record.currency,
        "customer": None,
        "description": record.description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": record.failure_code,
        "failure_message": record.failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(record.metadata),
        "on_behalf_of": None,
        "outcome": _outcome(record),
        "paid": record.status == "succeeded",
        "payment_intent": record.payment_intent,
        "payment_method": record.payment_method,
        "payment_method_details": details,
        "receipt_email": None,
        "receipt_url": None,
        "refunded": record.amount_refunded > 0 and record.amount_refunded >= record.amount,
        "review": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "status": record.status,
        "transfer_group": None,
    }


def last_payment_error(account: Account, record: ChargeRecord, param: str | None) -> JsonObject:
    """The ``last_payment_error`` a declined charge leaves on its PaymentIntent."""
    code = record.failure_code or "card_declined"
    error: JsonObject = {
        "charge": record.id,
        "code": code,
        "decline_code": record.decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/" + code.replace("_", "-"),
        "message": record.failure_message,
        "type": "card_error",
    }
    if param is not None:
        error["param"] = param
    pm = account.payment_methods.get(record.payment_method)
    if pm is not None:
        error["payment_method"] = payment_method(pm)
    return error


def _intent_links(
    account: Account, record: PaymentIntentRecord, expand: Collection[str]
) -> tuple[Any, Any]:
    """``latest_charge`` and ``payment_method``: ids, or objects where expanded."""
    latest: Any = record.latest_charge
    if latest is not None and "latest_charge" in expand:
        latest = charge(account, account.charges[latest])
    method: Any = record.payment_method
    if method is not None and "payment_method" in expand:
        method = payment_method(account.payment_methods[method])
    return latest, method


def intent(
    account: Account, record: PaymentIntentRecord, expand: Collection[str] = ()
) -> JsonObject:
    latest, method = _intent_links(account, record, expand)
    body: JsonObject = {
        "id": record.id,
        "object": "payment_intent",
        "allowed_payment_method_types": record.allowed_payment_method_types,
        "amount": record.amount,
        "amount_capturable": record.amount_capturable,
        "amount_details": {"tip": {}},
        "amount_received": record.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": record.automatic_payment_methods,
        "canceled_at": record.canceled_at,
        "cancellation_reason": record.cancellation_reason,
        "capture_method": record.capture_method,
        "client_secret": record.client_secret,
        "confirmation_method": "automatic",
        "created": record.created,
        "currency": record.currency,
        "customer": None,
        "description": record.description,
        "excluded_payment_method_types": record.excluded_payment_method_types,
        "last_payment_error": record.last_payment_error,
        "latest_charge": latest,
        "livemode": False,
        "metadata": dict(record.metadata),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": method,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": dict(_CARD_OPTIONS)},
        "payment_method_types": list(record.payment_method_types),
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": record.status,
        "transfer_data": None,
        "transfer_group": None,
    }
    body.update(record.echoed)
    return body


def refund(account: Account, record: RefundRecord, expand: Collection[str] = ()) -> JsonObject:
    charge_field: Any = record.charge
    if "charge" in expand:
        charge_field = charge(account, account.charges[record.charge])
    intent_field: Any = record.payment_intent
    if "payment_intent" in expand:
        intent_field = intent(account, account.intents[record.payment_intent])
    return {
        "id": record.id,
        "object": "refund",
        "amount": record.amount,
        "balance_transaction": None,
        "charge": charge_field,
        "created": record.created,
        "currency": record.currency,
        "destination_details": {
            "card": {
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(record.metadata),
        "payment_intent": intent_field,
        "reason": record.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": record.status,
        "transfer_reversal": None,
    }
