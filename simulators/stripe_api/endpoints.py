"""The API surface: each endpoint reads its parameters, acts, and renders the answer.

Reading the parameters comes first and raises only parameter errors, which are never
stored for idempotent replay; acting comes after, as in Stripe, where a stored answer
exists only once an endpoint has begun to act.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, cast

from . import intents, method_types, refunds, render, versions
from .account import Account
from .errors import JsonObject, invalid
from .forms import Params
from .intents import ConfirmOptions, CreateIntent
from .money import check_charge_amount, currency
from .params import ParamReader
from .records import CaptureMethod

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("abandoned", "duplicate", "fraudulent", "requested_by_customer")

# Parameters Stripe shows back on the intent, kept as sent.
_ECHOED = ("receipt_email", "customer", "setup_future_usage", "shipping", "transfer_group")
_ECHOED_ON_CREATE = (*_ECHOED, "statement_descriptor", "statement_descriptor_suffix")
# Parameters accepted so that callers written for Stripe need no change, not acted on.
_IGNORED = (
    "payment_method_options",
    "off_session",
    "error_on_requires_action",
    "use_stripe_sdk",
    "mandate_data",
)


@dataclass(frozen=True, slots=True)
class Call:
    """One API request as an endpoint sees it."""

    account: Account
    params: Params
    path: dict[str, str]
    api_version: str = versions.DEFAULT


Endpoint = Callable[[Call], JsonObject]


def _expand(reader: ParamReader, allowed: Collection[str]) -> list[str]:
    wanted = reader.strings("expand")
    for item in wanted:
        if item not in allowed:
            raise invalid(f"This property cannot be expanded ({item}).", param="expand")
    return wanted


def _positive(reader: ParamReader, key: str) -> int | None:
    value = reader.integer(key)
    if value is not None and value < 1:
        raise invalid(
            f"Invalid {key}: must be a positive integer, got {value}.",
            code="parameter_invalid_integer",
            param=key,
        )
    return value


def _echoed(reader: ParamReader, keys: Collection[str]) -> dict[str, Any]:
    for key in _IGNORED:
        reader.passthrough(key)
    return {key: value for key in keys if (value := reader.passthrough(key)) is not None}


def _confirm_options(reader: ParamReader, echoed_keys: Collection[str]) -> ConfirmOptions:
    return ConfirmOptions(
        payment_method=reader.text("payment_method") or None,
        return_url=reader.text("return_url") or None,
        capture_method=cast(CaptureMethod | None, reader.choice("capture_method", CAPTURE_METHODS)),
        echoed=_echoed(reader, echoed_keys),
    )


def create_intent(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    amount = reader.integer("amount", required=True)
    assert amount is not None
    code = currency(reader.text("currency", required=True) or "")
    check_charge_amount(amount, code)
    methods = method_types.read(reader, call.api_version)
    confirm = bool(reader.boolean("confirm"))
    options = _confirm_options(reader, _ECHOED_ON_CREATE)
    if options.return_url is not None and not confirm:
        raise invalid("`return_url` can only be passed when `confirm` is true.", param="return_url")
    async_capture = versions.is_since(call.api_version, versions.ASYNC_CAPTURE_BY_DEFAULT)
    default_capture: CaptureMethod = "automatic_async" if async_capture else "automatic"
    request = CreateIntent(
        amount=amount,
        currency=code,
        capture_method=options.capture_method or default_capture,
        methods=methods,
        description=reader.text("description") or None,
        metadata=reader.metadata() or {},
        confirm=confirm,
        confirmation=options,
    )
    expand = _expand(reader, render.INTENT_EXPANDABLE)
    reader.finish()
    record = intents.create(call.account, request)
    return render.intent(call.account, record, expand)


def retrieve_intent(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    reader.text("client_secret")
    expand = _expand(reader, render.INTENT_EXPANDABLE)
    reader.finish()
    record = call.account.intent(call.path["id"])
    return render.intent(call.account, record, expand)


def confirm_intent(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    options = _confirm_options(reader, _ECHOED)
    expand = _expand(reader, render.INTENT_EXPANDABLE)
    reader.finish()
    record = intents.confirm(call.account, call.path["id"], options)
    return render.intent(call.account, record, expand)


def capture_intent(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    amount = _positive(reader, "amount_to_capture")
    metadata = reader.metadata()
    for ignored in ("statement_descriptor", "statement_descriptor_suffix", "final_capture"):
        reader.passthrough(ignored)
    reader.passthrough("application_fee_amount")
    expand = _expand(reader, render.INTENT_EXPANDABLE)
    reader.finish()
    record = intents.capture(call.account, call.path["id"], amount, metadata)
    return render.intent(call.account, record, expand)


def cancel_intent(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    reason = reader.choice("cancellation_reason", CANCELLATION_REASONS)
    expand = _expand(reader, render.INTENT_EXPANDABLE)
    reader.finish()
    record = intents.cancel(call.account, call.path["id"], reason)
    return render.intent(call.account, record, expand)


def create_refund(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    request = refunds.CreateRefund(
        payment_intent=reader.text("payment_intent") or None,
        charge=reader.text("charge") or None,
        amount=_positive(reader, "amount"),
        reason=reader.choice("reason", refunds.REASONS),
        metadata=reader.metadata() or {},
    )
    for ignored in ("instructions_email", "refund_application_fee", "reverse_transfer"):
        reader.passthrough(ignored)
    expand = _expand(reader, render.REFUND_EXPANDABLE)
    reader.finish()
    record = refunds.create(call.account, request)
    return render.refund(call.account, record, expand)


def retrieve_refund(call: Call) -> JsonObject:
    reader = ParamReader(call.params)
    expand = _expand(reader, render.REFUND_EXPANDABLE)
    reader.finish()
    return render.refund(call.account, call.account.refund(call.path["id"]), expand)


ROUTES: list[tuple[str, str, Endpoint]] = [
    ("POST", "/v1/payment_intents", create_intent),
    ("GET", "/v1/payment_intents/{id}", retrieve_intent),
    ("POST", "/v1/payment_intents/{id}/confirm", confirm_intent),
    ("POST", "/v1/payment_intents/{id}/capture", capture_intent),
    ("POST", "/v1/payment_intents/{id}/cancel", cancel_intent),
    ("POST", "/v1/refunds", create_refund),
    ("GET", "/v1/refunds/{id}", retrieve_refund),
]
