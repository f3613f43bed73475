"""charge-payment against the Stripe stand-in, through the official SDK and a SQLite file.

The stand-in's ledger is the proof: what was captured and refunded, per PaymentIntent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.charge_payment.errors import (
    CardDeclined,
    PaymentRateLimited,
    PaymentRequestRefused,
    PaymentServiceUnavailable,
)
from services.charge_payment.payment_records import DDL, SqlPaymentRecords
from services.charge_payment.payments import (
    ChargeOrder,
    PaymentRecord,
    Payments,
    PaymentStatus,
    RefundOrder,
    key_base,
)
from services.charge_payment.stripe_gateway import StripeGateway, environment_proxy
from services.common.inputs import decode_input
from simulators.stripe_api import FaultConfig, Ledger, StripeStandIn
from stepstream.sql.database import Database, open_database

TEST_KEY = "sk_test_stepstream_services_0001"
ORDER: dict[str, Any] = {
    "orderId": "o-1",
    "amount": 1800,
    "currency": "eur",
    "paymentMethod": "pm_card_visa",
}


def charge_order(**changes: Any) -> ChargeOrder:
    return decode_input(ChargeOrder, {**ORDER, **changes}, command="charge-payment")


def refund_order(**changes: Any) -> RefundOrder:
    return decode_input(RefundOrder, {**ORDER, **changes}, command="refund-payment")


@pytest.fixture
async def standin() -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(api_keys=[TEST_KEY]) as running:
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway.connect(api_key=TEST_KEY, api_base=standin.url, timeout_seconds=5)
    try:
        yield gateway
    finally:
        await gateway.close()


async def _database(path: Path) -> Database:
    return await open_database(f"sqlite:///{path}", default_schema="unused", ddl=DDL)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await _database(tmp_path / "payments.db")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def records(database: Database) -> SqlPaymentRecords:
    return SqlPaymentRecords(database)


@pytest.fixture
def payments(gateway: StripeGateway, records: SqlPaymentRecords) -> Payments:
    return Payments(gateway=gateway, records=records)


def captured(ledger: Ledger) -> int:
    return sum(entry.captured for entry in ledger.payment_intents)


async def test_a_charge_captures_the_order_amount_on_stripe(
    payments: Payments, standin: StripeStandIn
) -> None:
    answer = await payments.charge(charge_order(), idempotency_key="exec-1#ChargePayment")

    entry = standin.ledger().entry(answer["paymentIntentId"])
    assert (entry.status, entry.captured, entry.currency) == ("succeeded", 1800, "eur")
    assert entry.charge_attempts == 1
    assert entry.metadata == {"order_id": "o-1"}
    assert answer == {
        "paymentIntentId": entry.id,
        "amount": 1800,
        "currency": "eur",
        "status": "succeeded",
    }


async def test_a_duplicated_charge_charges_once(payments: Payments, standin: StripeStandIn) -> None:
    first = await payments.charge(charge_order(), idempotency_key="k")
    second = await payments.charge(charge_order(), idempotency_key="k")

    assert first == second
    ledger = standin.ledger()
    assert len(ledger.payment_intents) == 1 and captured(ledger) == 1800


async def test_stripes_idempotency_keys_cover_a_record_lost_after_the_charge(
    gateway: StripeGateway, standin: StripeStandIn, tmp_path: Path
) -> None:
    # The first process charged and then lost its database; the retry starts afresh.
    lost = await _database(tmp_path / "lost.db")
    first = await Payments(gateway=gateway, records=SqlPaymentRecords(lost)).charge(
        charge_order(), idempotency_key="k"
    )
    await lost.close()
    fresh = await _database(tmp_path / "fresh.db")
    try:
        second = await Payments(gateway=gateway, records=SqlPaymentRecords(fresh)).charge(
            charge_order(), idempotency_key="k"
        )
    finally:
        await fresh.close()

    assert first == second
    assert captured(standin.ledger()) == 1800 and len(standin.ledger().payment_intents) == 1


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
    ],
)
async def test_a_declined_card_is_card_declined_with_stripes_decline_code(
    payments: Payments, standin: StripeStandIn, card: str, decline_code: str
) -> None:
    with pytest.raises(CardDeclined, match=f"decline_code={decline_code}"):
        await payments.charge(charge_order(paymentMethod=card), idempotency_key="k")
    with pytest.raises(CardDeclined, match=f"decline_code={decline_code}"):
        await payments.charge(charge_order(paymentMethod=card), idempotency_key="k")

    [entry] = standin.ledger().payment_intents
    assert entry.captured == 0 and entry.charge_attempts == 1


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (FaultConfig(rate_limit_rate=1.0), PaymentRateLimited),
        (FaultConfig(error_rate=1.0), PaymentServiceUnavailable),
    ],
)
async def test_stripe_faults_are_named_and_a_retry_after_them_charges_once(
    payments: Payments, standin: StripeStandIn, faults: FaultConfig, error: type[Exception]
) -> None:
    standin.set_faults(faults)
    with pytest.raises(error):
        await payments.charge(charge_order(), idempotency_key="k")
    standin.set_faults(FaultConfig())

    await payments.charge(charge_order(), idempotency_key="k")

    assert captured(standin.ledger()) == 1800 and len(standin.ledger().payment_intents) == 1


@pytest.mark.parametrize(("sent", "hint"), [(20, 20.0), (None, None)])
async def test_a_stripe_429_carries_its_retry_after_for_the_definition_s_retry(
    payments: Payments, standin: StripeStandIn, sent: int | None, hint: float | None
) -> None:
    standin.set_faults(FaultConfig(rate_limit_rate=1.0, retry_after_seconds=sent))

    with pytest.raises(PaymentRateLimited) as raised:
        await payments.charge(charge_order(), idempotency_key="k")

    assert raised.value.retry_after_seconds == hint


async def test_an_unreachable_stripe_is_payment_service_unavailable(
    records: SqlPaymentRecords,
) -> None:
    stopped = StripeStandIn()
    await stopped.start()
    url = stopped.url
    await stopped.stop()
    gateway = StripeGateway.connect(api_key=TEST_KEY, api_base=url, timeout_seconds=5)
    try:
        with pytest.raises(PaymentServiceUnavailable, match="could not be reached"):
            await Payments(gateway=gateway, records=records).charge(
                charge_order(), idempotency_key="k"
            )
    finally:
        await gateway.close()


async def test_a_key_stripe_does_not_accept_is_refused(
    standin: StripeStandIn, records: SqlPaymentRecords
) -> None:
    gateway = StripeGateway.connect(
        api_key="sk_test_not_this_one", api_base=standin.url, timeout_seconds=5
    )
    try:
        with pytest.raises(PaymentRequestRefused, match="401"):
            await Payments(gateway=gateway, records=records).charge(
                charge_order(), idempotency_key="k"
            )
    finally:
        await gateway.close()


async def test_a_refund_gives_the_captured_money_back_once(
    payments: Payments, standin: StripeStandIn
) -> None:
    charged = await payments.charge(charge_order(), idempotency_key="k")

    first = await payments.refund(refund_order(payment=charged))
    again = await payments.refund(refund_order(payment=charged))

    assert first == again and first["action"] == "refunded"
    entry = standin.ledger().entry(charged["paymentIntentId"])
    assert (entry.captured, entry.refunded, entry.net) == (1800, 1800, 0)
    assert entry.refunds == [first["refundId"]]


async def test_a_refund_whose_record_was_lost_does_not_refund_twice(
    payments: Payments, standin: StripeStandIn, records: SqlPaymentRecords
) -> None:
    charged = await payments.charge(charge_order(), idempotency_key="k")
    await payments.refund(refund_order(payment=charged))
    # Put the record back as it was before the refund, as if that write never happened.
    record = await records.get("o-1")
    assert record is not None and record.status is PaymentStatus.REFUNDED
    restored = replace(record, status=PaymentStatus.CAPTURED, refund_id=None, refunded=0)
    assert await records.replace(restored, expected=PaymentStatus.REFUNDED)

    answer = await payments.refund(refund_order(payment=charged))

    assert answer["action"] == "refunded" and answer["refunded"] == 1800
    assert len(standin.ledger().entry(charged["paymentIntentId"]).refunds) == 1


async def test_an_intent_created_but_never_confirmed_is_cancelled_by_the_refund(
    gateway: StripeGateway, records: SqlPaymentRecords, standin: StripeStandIn
) -> None:
    intent = await gateway.create_intent(charge_order(), idempotency_key="k-create")
    await records.claim(
        PaymentRecord("o-1", key_base("o-1", "k"), 1800, "eur", PaymentStatus.CREATED, intent.id)
    )

    answer = await Payments(gateway=gateway, records=records).refund(refund_order())

    assert answer["action"] == "cancelled"
    entry = standin.ledger().entry(intent.id)
    assert (entry.status, entry.captured, entry.refunded) == ("canceled", 0, 0)


async def test_nothing_is_sent_to_stripe_to_refund_an_order_never_charged(
    payments: Payments, standin: StripeStandIn
) -> None:
    answer = await payments.refund(refund_order())

    assert answer["action"] == "none"
    assert standin.ledger().payment_intents == []


def _proxy_environment(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


async def test_the_environments_proxy_carries_the_stripe_calls(
    standin: StripeStandIn, records: SqlPaymentRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in answers the proxy's absolute-form requests itself; the API address
    # resolves nowhere, so only the proxy can have carried the charge.
    _proxy_environment(monkeypatch, HTTP_PROXY=standin.url)
    gateway = StripeGateway.connect(
        api_key=TEST_KEY, api_base="http://stripe.invalid", timeout_seconds=5
    )
    try:
        charged = await Payments(gateway=gateway, records=records).charge(
            charge_order(), idempotency_key="k"
        )
    finally:
        await gateway.close()

    assert standin.ledger().entry(charged["paymentIntentId"]).captured == 1800


def test_no_proxy_keeps_the_stripe_calls_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    _proxy_environment(monkeypatch, HTTP_PROXY="http://proxy.invalid:3128", NO_PROXY="127.0.0.1")
    assert environment_proxy("http://127.0.0.1:12111") == (None, None)
    proxy, _ = environment_proxy("http://stripe.invalid")
    assert str(proxy) == "http://proxy.invalid:3128"
