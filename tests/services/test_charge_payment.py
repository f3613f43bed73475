"""ChargePayment and RefundPayment as domain logic, over an in-memory Stripe and records."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.charge_payment.errors import (
    CardDeclined,
    PaymentAlreadyReversed,
    PaymentConflict,
    PaymentRateLimited,
    PaymentServiceUnavailable,
)
from services.charge_payment.payments import (
    ChargeOrder,
    Payments,
    PaymentStatus,
    RefundOrder,
    key_base,
)
from services.common.errors import InvalidOrder
from services.common.inputs import decode_input
from tests.services.payment_fakes import FakePaymentGateway, MemoryPaymentRecords

ORDER = {
    "orderId": "o-1",
    "items": [{"sku": "MUG", "qty": 2, "unitPrice": 900}],
    "amount": 1800,
    "currency": "EUR",
    "paymentMethod": "pm_card_visa",
}


def charge_order(**changes: Any) -> ChargeOrder:
    return decode_input(ChargeOrder, {**ORDER, **changes}, command="charge-payment")


def refund_order(**changes: Any) -> RefundOrder:
    return decode_input(RefundOrder, {**ORDER, **changes}, command="refund-payment")


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway()


@pytest.fixture
def records() -> MemoryPaymentRecords:
    return MemoryPaymentRecords()


@pytest.fixture
def payments(gateway: FakePaymentGateway, records: MemoryPaymentRecords) -> Payments:
    return Payments(gateway=gateway, records=records)


async def test_a_charge_takes_the_amount_and_answers_what_the_definition_selects(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    answer = await payments.charge(charge_order(), idempotency_key="exec-1#ChargePayment")

    [intent] = gateway.intents.values()
    assert answer == {
        "paymentIntentId": intent.id,
        "amount": 1800,
        "currency": "eur",
        "status": "succeeded",
    }
    assert gateway.captured == 1800


async def test_a_repeated_charge_answers_the_same_without_calling_stripe(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    first = await payments.charge(charge_order(), idempotency_key="k")
    calls = list(gateway.calls)
    again = await payments.charge(charge_order(), idempotency_key="k")
    other_key = await payments.charge(charge_order(), idempotency_key="another-execution")

    assert first == again == other_key
    assert gateway.calls == calls == ["create", "confirm"]
    assert gateway.captured == 1800 and len(gateway.intents) == 1


async def test_the_same_command_twice_at_once_charges_once_and_answers_alike(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    answers = await asyncio.gather(
        *(payments.charge(charge_order(), idempotency_key="k") for _ in range(3))
    )

    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["status"] == "succeeded"
    assert gateway.captured == 1800 and len(gateway.intents) == 1


async def test_a_twin_that_finished_first_is_taken_as_the_answer(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold_the_first_create(operation: str) -> None:
        if operation == "create" and not entered.is_set():
            entered.set()
            await release.wait()

    gateway.before = hold_the_first_create
    slow = asyncio.create_task(payments.charge(charge_order(), idempotency_key="k"))
    await entered.wait()
    fast = await payments.charge(charge_order(), idempotency_key="k")
    release.set()

    assert await slow == fast
    assert gateway.calls.count("confirm") == 1 and gateway.captured == 1800


async def test_a_declined_card_is_card_declined_with_its_decline_code_every_time(
    payments: Payments, gateway: FakePaymentGateway, records: MemoryPaymentRecords
) -> None:
    order = charge_order(paymentMethod="pm_card_chargeDeclined")
    with pytest.raises(CardDeclined, match="decline_code=generic_decline"):
        await payments.charge(order, idempotency_key="k")
    calls = len(gateway.calls)
    with pytest.raises(CardDeclined, match="decline_code=generic_decline"):
        await payments.charge(order, idempotency_key="k")

    assert len(gateway.calls) == calls
    assert gateway.captured == 0
    record = await records.get("o-1")
    assert record is not None and record.status is PaymentStatus.DECLINED


@pytest.mark.parametrize(
    "fault", [PaymentRateLimited("429"), PaymentServiceUnavailable("Stripe answered 500")]
)
async def test_a_transient_stripe_error_is_raised_and_the_retry_charges_once(
    payments: Payments, gateway: FakePaymentGateway, fault: Exception
) -> None:
    gateway.fail_next("confirm", fault)
    with pytest.raises(type(fault)):
        await payments.charge(charge_order(), idempotency_key="k")

    answer = await payments.charge(charge_order(), idempotency_key="k")

    assert answer["status"] == "succeeded"
    assert gateway.captured == 1800 and len(gateway.intents) == 1


async def test_a_charge_whose_answer_was_lost_is_found_captured_on_the_retry(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    gateway.lose_next_answer("confirm", PaymentServiceUnavailable("connection reset"))
    with pytest.raises(PaymentServiceUnavailable):
        await payments.charge(charge_order(), idempotency_key="k")

    answer = await payments.charge(charge_order(), idempotency_key="k")

    assert answer["status"] == "succeeded"
    assert gateway.calls.count("confirm") == 1
    assert gateway.captured == 1800


async def test_the_same_order_for_another_amount_is_a_conflict(payments: Payments) -> None:
    await payments.charge(charge_order(), idempotency_key="k")

    with pytest.raises(PaymentConflict, match=r"1800 eur.*2000 eur"):
        await payments.charge(charge_order(amount=2000), idempotency_key="k2")


async def test_a_refund_gives_back_what_was_captured_once(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    charged = await payments.charge(charge_order(), idempotency_key="k")

    first = await payments.refund(refund_order())
    again = await payments.refund(refund_order())

    assert first == again
    assert first["action"] == "refunded" and first["refunded"] == 1800
    assert first["paymentIntentId"] == charged["paymentIntentId"]
    assert gateway.refunded == 1800 and len(gateway.refunds) == 1


async def test_refunds_at_once_refund_once(payments: Payments, gateway: FakePaymentGateway) -> None:
    await payments.charge(charge_order(), idempotency_key="k")

    answers = await asyncio.gather(*(payments.refund(refund_order()) for _ in range(3)))

    assert all(answer["action"] == "refunded" for answer in answers)
    assert gateway.refunded == 1800 and len(gateway.refunds) == 1


async def test_refunding_an_order_never_charged_does_nothing_and_blocks_a_late_charge(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    answer = await payments.refund(refund_order())

    assert answer["action"] == "none" and answer["refunded"] == 0
    assert gateway.calls == []
    with pytest.raises(PaymentAlreadyReversed):
        await payments.charge(charge_order(), idempotency_key="late-duplicate")
    assert gateway.captured == 0


async def test_refunding_a_declined_order_does_nothing(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    with pytest.raises(CardDeclined):
        await payments.charge(
            charge_order(paymentMethod="pm_card_chargeDeclined"), idempotency_key="k"
        )

    answer = await payments.refund(refund_order())

    assert answer["action"] == "none"
    assert "refund" not in gateway.calls and "cancel" not in gateway.calls


async def test_an_intent_created_but_never_confirmed_is_cancelled(
    payments: Payments, gateway: FakePaymentGateway
) -> None:
    gateway.fail_next("confirm", PaymentServiceUnavailable("Stripe could not be reached"))
    with pytest.raises(PaymentServiceUnavailable):
        await payments.charge(charge_order(), idempotency_key="k")

    answer = await payments.refund(refund_order())

    assert answer["action"] == "cancelled"
    [intent] = gateway.intents.values()
    assert intent.status == "canceled" and gateway.captured == 0
    with pytest.raises(PaymentAlreadyReversed):
        await payments.charge(charge_order(), idempotency_key="k")


async def test_a_refund_without_a_record_uses_the_intent_the_order_names(
    gateway: FakePaymentGateway,
) -> None:
    charged = await Payments(gateway=gateway, records=MemoryPaymentRecords()).charge(
        charge_order(), idempotency_key="k"
    )
    # The service's database was replaced since; the order document still knows.
    fresh = Payments(gateway=gateway, records=MemoryPaymentRecords())

    answer = await fresh.refund(refund_order(payment=charged))

    assert answer["action"] == "refunded" and gateway.refunded == 1800


async def test_a_refund_that_failed_on_the_way_is_finished_by_the_repeat(
    payments: Payments, gateway: FakePaymentGateway, records: MemoryPaymentRecords
) -> None:
    await payments.charge(charge_order(), idempotency_key="k")
    gateway.lose_next_answer("refund", PaymentServiceUnavailable("answer lost"))
    with pytest.raises(PaymentServiceUnavailable):
        await payments.refund(refund_order())

    answer = await payments.refund(refund_order())

    assert answer["action"] == "refunded"
    assert gateway.refunded == 1800 and len(gateway.refunds) == 1
    record = await records.get("o-1")
    assert record is not None and record.status is PaymentStatus.REFUNDED


def test_stripe_keys_are_short_and_stable_per_order_and_command_key() -> None:
    long_key = "arn:aws:states:us-east-1:123456789012:execution:Fulfilment:" + "x" * 400
    assert key_base("o-1", long_key) == key_base("o-1", long_key)
    assert key_base("o-1", long_key) != key_base("o-1", long_key + "y")
    assert key_base("o-1", "k") != key_base("o-2", "k")
    assert len(key_base("o-1", long_key) + "-confirm") <= 255


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"amount": 0}, "field 'amount' invalid"),
        ({"amount": 12.5}, "field 'amount' invalid"),
        ({"currency": "euro"}, "field 'currency' invalid"),
        ({"paymentMethod": None}, "field 'paymentMethod' invalid"),
    ],
)
def test_an_order_that_cannot_be_charged_is_invalid_naming_the_field(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidOrder, match=problem):
        charge_order(**changes)


def test_an_order_without_an_id_is_invalid() -> None:
    document = {key: value for key, value in ORDER.items() if key != "orderId"}
    with pytest.raises(InvalidOrder, match="field 'orderId' missing"):
        decode_input(ChargeOrder, document, command="charge-payment")
    with pytest.raises(InvalidOrder, match="needs an order object as its input, got null"):
        decode_input(ChargeOrder, None, command="charge-payment")


@pytest.mark.parametrize("amount", [10**23, 100_000_000])
def test_an_absurd_amount_is_a_clear_refusal_not_an_overflow(amount: int) -> None:
    with pytest.raises(InvalidOrder, match="field 'amount' invalid"):
        charge_order(amount=amount)
