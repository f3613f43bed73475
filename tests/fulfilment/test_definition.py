"""definitions/fulfilment.asl.json on the local runner, with fakes standing in for the services."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from stepstream.asl.machine import load_machine

DEFINITIONS = Path(__file__).parents[2] / "definitions"
ORDER = {
    "orderId": "o-1",
    "items": [{"sku": "MUG", "qty": 2}],
    "amount": 1800,
    "currency": "eur",
    "paymentMethod": "pm_card_visa",
    "address": {"country": "NL"},
}


class CardDeclined(Exception):
    pass


class OutOfStock(Exception):
    pass


class ShipmentRejected(Exception):
    pass


class CarrierRateLimited(Exception):
    retry_after_seconds: float | None = None


def rate_limited_for(seconds: float) -> type[CarrierRateLimited]:
    """CarrierRateLimited raised with the carrier's Retry-After (the error keeps its name)."""
    return type("CarrierRateLimited", (CarrierRateLimited,), {"retry_after_seconds": seconds})


class CarrierTimeout(Exception):
    pass


class CarrierResponseMalformed(Exception):
    pass


class CarrierRequestRefused(Exception):
    pass


class FakeServices:
    """What the four services would do, in memory; `fail` names the errors to raise, in order."""

    def __init__(self, **fail: list[type[Exception]]) -> None:
        self.fail = {name: list(errors) for name, errors in fail.items()}
        self.calls: list[str] = []

    def _call(self, name: str, result: Any) -> Any:
        self.calls.append(name)
        pending = self.fail.get(name)
        if pending:
            raise pending.pop(0)(f"{name} failed")
        return result

    def functions(self) -> dict[str, Any]:
        return {
            "charge-payment": lambda e, c: self._call(
                "charge-payment",
                {
                    "paymentIntentId": "pi_1",
                    "amount": e["amount"],
                    "currency": "eur",
                    "status": "succeeded",
                },
            ),
            "refund-payment": lambda e, c: self._call("refund-payment", {"refunded": e["amount"]}),
            "reserve-stock": lambda e, c: self._call(
                "reserve-stock", {"reservationId": "r1", "items": e["items"]}
            ),
            "release-stock": lambda e, c: self._call("release-stock", {"released": True}),
            "book-shipment": lambda e, c: self._call(
                "book-shipment",
                {"trackingNumber": "TN1", "shipmentId": "s1", "carrier": "sim"},
            ),
            "cancel-shipment": lambda e, c: self._call(
                "cancel-shipment", {"cancelled": True, "shipmentId": "s1"}
            ),
            "emit-receipt": lambda e, c: self._call(
                "emit-receipt", {"receiptId": "rc1", "total": e["amount"]}
            ),
        }


HOUR = timedelta(hours=1)


def run(services: FakeServices) -> LocalRunner:
    """Run until the order ends or waits for a person (well short of its week-long time-out)."""
    machine = load_machine((DEFINITIONS / "fulfilment.asl.json").read_text())
    runner = LocalRunner(machine, functions=services.functions(), seed=3)
    runner.start(ORDER)
    runner.advance(HOUR.total_seconds())
    return runner


def entered(runner: LocalRunner) -> list[str]:
    return [e.details.name for e in runner.history if e.type.endswith("StateEntered")]  # type: ignore[union-attr]


def test_the_bindings_serve_every_task_of_the_definition() -> None:
    from stepstream.bindings import load_bindings, unbound

    machine = load_machine((DEFINITIONS / "fulfilment.asl.json").read_text())
    bindings = load_bindings((DEFINITIONS / "fulfilment.bindings.json").read_text())
    assert unbound(bindings, machine) == []


def test_the_happy_path_charges_reserves_ships_and_receipts() -> None:
    services = FakeServices()
    runner = run(services)
    assert runner.execution.status == "SUCCEEDED"
    assert services.calls == ["charge-payment", "reserve-stock", "book-shipment", "emit-receipt"]
    output = runner.execution.output
    assert output["shipment"]["trackingNumber"] == "TN1" and output["receipt"]["total"] == 1800


def test_transient_carrier_errors_are_retried_to_success() -> None:
    services = FakeServices(**{"book-shipment": [CarrierRateLimited, CarrierRateLimited]})
    runner = run(services)
    assert runner.execution.status == "SUCCEEDED"
    assert services.calls.count("book-shipment") == 3
    delays = [e.details.retryDelaySeconds for e in runner.history if e.type == "TaskFailed"]  # type: ignore[union-attr]
    assert len(delays) == 2 and all(
        0 <= d <= cap for d, cap in zip(delays, [2, 4], strict=True)
    )  # FULL jitter


def test_a_carrier_retry_after_holds_the_retry_back_up_to_max_delay_seconds() -> None:
    # BookShipment's carrier retrier: IntervalSeconds 2, FULL jitter, MaxDelaySeconds 60.
    limited = [rate_limited_for(300), rate_limited_for(30)]
    services = FakeServices(**{"book-shipment": list[type[Exception]](limited)})
    runner = run(services)
    assert runner.execution.status == "SUCCEEDED"
    failed = [e for e in runner.history if e.type == "TaskFailed"]
    retries = [e for e in runner.history if e.type == "TaskScheduled"][3:5]
    waits = [
        (s.timestamp - f.timestamp).total_seconds() for f, s in zip(failed, retries, strict=True)
    ]
    assert waits == [60, 30]
    reasons = [e.details.retryDelayReason for e in failed]  # type: ignore[union-attr]
    assert reasons == ["capped by MaxDelaySeconds", "retry-after"]


REVERSALS = ["cancel-shipment", "refund-payment", "release-stock"]


def test_a_rejected_shipment_is_compensated_in_parallel_and_fails() -> None:
    services = FakeServices(**{"book-shipment": [ShipmentRejected]})
    runner = run(services)
    assert runner.execution.status == "FAILED"
    assert runner.execution.error == "OrderFulfillmentFailed"
    assert sorted(services.calls[-3:]) == REVERSALS
    assert entered(runner)[-1] == "OrderFailed"
    types = [e.type for e in runner.history]
    started = types.index("ParallelStateStarted")
    first_answer = types.index("TaskSucceeded", started)
    # All three reversals were scheduled before any answered: they ran side by side.
    assert types[started:first_answer].count("TaskScheduled") == 3


def test_a_booking_that_timed_out_is_cancelled_at_the_carrier() -> None:
    # The carrier may have booked although its answer never came.
    timeouts = [CarrierTimeout] * 6
    services = FakeServices(**{"book-shipment": timeouts})
    runner = run(services)
    assert runner.execution.error == "OrderFulfillmentFailed"
    assert services.calls.count("book-shipment") == 6
    assert sorted(services.calls[-3:]) == REVERSALS


def test_a_cancel_shipment_that_fails_is_not_swallowed_but_sent_to_review() -> None:
    services = FakeServices(
        **{"book-shipment": [ShipmentRejected], "cancel-shipment": [CarrierRequestRefused]}
    )
    runner = run(services)
    assert runner.execution.status == "RUNNING"
    [waiting] = runner.execution.pending_tasks()
    ticket = review_ticket(runner)
    assert ticket["state"] == "Compensate"
    assert ticket["errorInfo"]["Error"] == "CarrierRequestRefused"
    runner.send_task_success(waiting.token or "", {"decision": "retry"})
    runner.advance(HOUR.total_seconds())
    assert runner.execution.error == "OrderFulfillmentFailed"
    assert services.calls.count("cancel-shipment") == 2


def test_a_declined_card_compensates_nothing() -> None:
    services = FakeServices(**{"charge-payment": [CardDeclined]})
    runner = run(services)
    assert runner.execution.error == "PaymentDeclined"
    assert services.calls == ["charge-payment"]


def test_out_of_stock_refunds_the_payment_only() -> None:
    services = FakeServices(**{"reserve-stock": [OutOfStock]})
    runner = run(services)
    assert runner.execution.error == "OrderFulfillmentFailed"
    assert services.calls == ["charge-payment", "reserve-stock", "refund-payment"]


def review_ticket(runner: LocalRunner) -> dict[str, Any]:
    ticket = [
        e
        for e in runner.history
        if e.type == "TaskScheduled" and e.details.resourceType == "sqs"  # type: ignore[union-attr]
    ][-1]
    body: dict[str, Any] = ticket.details.parameters["MessageBody"]  # type: ignore[union-attr]
    return body


@pytest.mark.parametrize(
    ("decision", "status", "last_calls", "end"),
    [
        ("retry", "SUCCEEDED", ["book-shipment", "emit-receipt"], "OrderFulfilled"),
        ("compensate", "FAILED", REVERSALS, "OrderFailed"),
        # Failing an order undoes what was done first: no decision leaves the books open.
        ("fail", "FAILED", REVERSALS, "ReviewedAndFailed"),
        ("anything else", "FAILED", REVERSALS, "ReviewedAndFailed"),
    ],
)
def test_an_unknown_failure_waits_for_review_and_follows_the_decision(
    decision: str, status: str, last_calls: list[str], end: str
) -> None:
    services = FakeServices(**{"book-shipment": [CarrierResponseMalformed]})
    runner = run(services)
    assert runner.execution.status == "RUNNING"
    [waiting] = runner.execution.pending_tasks()
    ticket = next(
        e
        for e in runner.history
        if e.type == "TaskScheduled" and e.details.resourceType == "sqs"  # type: ignore[union-attr]
    )
    body = ticket.details.parameters["MessageBody"]  # type: ignore[union-attr]
    assert (
        body["state"] == "BookShipment" and body["errorInfo"]["Error"] == "CarrierResponseMalformed"
    )
    assert body["taskToken"] == waiting.token
    calls_before = len(services.calls)
    runner.send_task_success(waiting.token or "", {"decision": decision})
    runner.advance(HOUR.total_seconds())
    assert runner.execution.status == status
    assert sorted(services.calls[calls_before:]) == sorted(last_calls)
    assert "ChooseAfterReview" in entered(runner)
    assert entered(runner)[-1] == end


def test_a_failed_order_whose_compensation_was_retried_still_ends_as_failed_by_review() -> None:
    services = FakeServices(
        **{"book-shipment": [CarrierResponseMalformed], "refund-payment": [CarrierRequestRefused]}
    )
    runner = run(services)
    for decision in ("fail", "retry"):
        [waiting] = runner.execution.pending_tasks()
        runner.send_task_success(waiting.token or "", {"decision": decision})
        runner.advance(HOUR.total_seconds())
    assert runner.execution.status == "FAILED"
    assert entered(runner)[-1] == "ReviewedAndFailed"
    assert services.calls.count("refund-payment") == 2


def test_a_retry_with_a_corrected_address_cancels_the_old_booking_and_books_the_new() -> None:
    services = FakeServices(**{"book-shipment": [CarrierResponseMalformed]})
    runner = run(services)
    [waiting] = runner.execution.pending_tasks()
    corrected = {"country": "NL", "line1": "2 New Street"}
    changes = {"address": corrected, "shipmentRevision": 1}
    runner.send_task_success(waiting.token or "", {"decision": "retry", "changes": changes})
    runner.advance(HOUR.total_seconds())
    assert runner.execution.status == "SUCCEEDED"
    bookings = [
        e.details.parameters["Payload"]["address"]  # type: ignore[union-attr]
        for e in runner.history
        if e.type == "TaskScheduled" and e.details.parameters.get("FunctionName") == "book-shipment"  # type: ignore[union-attr]
    ]
    assert bookings == [ORDER["address"], corrected]
    assert runner.execution.output["address"] == corrected
    # The booking at the old address may have gone through: it is cancelled first.
    assert services.calls[-3:] == ["cancel-shipment", "book-shipment", "emit-receipt"]
    assert entered(runner)[-6:-2] == [
        "CancelBeforeRebooking",
        "ApplyReviewChanges",
        "RetryAfterReview",
        "BookShipment",
    ]
    assert runner.execution.output["shipmentRevision"] == 1


def test_the_definition_file_is_the_one_checked_in() -> None:
    definition = json.loads((DEFINITIONS / "fulfilment.asl.json").read_text())
    assert definition["States"]["BookShipment"]["Retry"][0] == {
        "ErrorEquals": [
            "CarrierRateLimited",
            "CarrierUnavailable",
            "CarrierTimeout",
            "States.Timeout",
        ],
        "IntervalSeconds": 2,
        "MaxAttempts": 5,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 60,
        "JitterStrategy": "FULL",
    }
