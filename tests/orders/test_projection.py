"""The projection, fed recorded fulfilment histories: one row per order, each event once."""

from __future__ import annotations

import pytest

from services.order_view.projection import (
    MalformedHistory,
    OrderRow,
    OrderStatus,
    has_gap,
    project,
    read_events,
    unapplied,
)
from tests.orders.recorded import SCENARIOS, Recorded, recorded

HAPPY_PATH = ("ChargePayment", "ReserveStock", "BookShipment", "EmitReceipt", "OrderFulfilled")


def fold(history: Recorded, batch_size: int | None = None) -> OrderRow:
    row: OrderRow | None = None
    for batch in history.batches(batch_size or len(history.events)):
        row = project(row, history.execution_arn, history.state_machine, read_events(batch))
    assert row is not None
    return row


def test_a_fulfilled_order_shows_its_path_tracking_and_receipt() -> None:
    row = fold(recorded("happy"))
    assert row.order_id == "ord-happy"
    assert row.status is OrderStatus.SUCCEEDED
    assert row.path == HAPPY_PATH
    assert (row.tracking_number, row.receipt_id, row.receipt_total) == ("TN1", "rc1", 1800)
    assert (row.error, row.cause, row.retries, row.current_state) == (None, None, 0, None)
    assert row.last_event_id == len(recorded("happy").events)
    assert row.started_at is not None and row.updated_at >= row.started_at


def test_carrier_errors_retried_to_success_are_counted_and_forgotten() -> None:
    row = fold(recorded("carrier-retried"))
    assert row.status is OrderStatus.SUCCEEDED
    assert row.retries == 2
    assert row.path == HAPPY_PATH  # a retry stays in its state
    assert row.error is None


def test_while_retrying_the_last_error_shows() -> None:
    history = recorded("carrier-retried")
    first_failure = next(i for i, e in enumerate(history.events) if e["type"] == "TaskFailed")
    row = project(
        None,
        history.execution_arn,
        history.state_machine,
        read_events(history.events[: first_failure + 1]),
    )
    assert row is not None
    assert (row.status, row.current_state) == (OrderStatus.RUNNING, "BookShipment")
    assert (row.error, row.retries) == ("CarrierRateLimited", 1)


@pytest.mark.parametrize(
    ("scenario", "path", "error"),
    [
        (
            "shipment-rejected",
            (
                "ChargePayment",
                "ReserveStock",
                "BookShipment",
                "Compensate",
                "AfterCompensation",
                "OrderFailed",
            ),
            "OrderFulfillmentFailed",
        ),
        ("card-declined", ("ChargePayment", "PaymentDeclined"), "PaymentDeclined"),
        (
            "out-of-stock",
            ("ChargePayment", "ReserveStock", "RefundUnreservedOrder", "OrderFailed"),
            "OrderFulfillmentFailed",
        ),
    ],
)
def test_failed_orders_show_where_they_went_and_why(
    scenario: str, path: tuple[str, ...], error: str
) -> None:
    row = fold(recorded(scenario))
    assert row.status is OrderStatus.FAILED
    assert row.path == path
    assert row.error == error and row.cause
    assert row.tracking_number is None and row.receipt_id is None


def test_a_redriven_order_runs_again_and_its_old_failure_is_gone() -> None:
    history = recorded("card-declined")
    last = history.events[-1]
    redriven = {
        "id": last["id"] + 1,
        "previousEventId": last["id"],
        "timestamp": last["timestamp"],
        "type": "ExecutionRedriven",
        "details": {"redriveCount": 1},
        "scope": "",
    }
    entered = {
        **redriven,
        "id": last["id"] + 2,
        "previousEventId": last["id"] + 1,
        "type": "FailStateEntered",
        "details": {"name": "PaymentDeclined", "input": {}},
    }
    row = fold(recorded("card-declined"))
    row = project(row, history.execution_arn, history.state_machine, read_events([redriven]))
    assert row is not None and (row.status, row.error, row.cause) == (
        OrderStatus.RUNNING,
        None,
        None,
    )
    row = project(row, history.execution_arn, history.state_machine, read_events([entered]))
    assert row is not None and row.path == ("ChargePayment", "PaymentDeclined", "PaymentDeclined")


def test_an_order_waiting_for_review_says_what_went_wrong() -> None:
    row = fold(recorded("review-waiting"))
    assert row.status is OrderStatus.WAITING_REVIEW
    assert row.current_state == "WaitForHumanReview"
    assert row.path[-2:] == ("BookShipment", "WaitForHumanReview")
    assert row.error == "CarrierResponseMalformed"


def test_an_order_retried_after_review_runs_on_and_succeeds() -> None:
    row = fold(recorded("review-retried"))
    assert row.status is OrderStatus.SUCCEEDED
    assert row.path == (
        "ChargePayment",
        "ReserveStock",
        "BookShipment",
        "WaitForHumanReview",
        "ChooseAfterReview",
        "BookShipment",
        "EmitReceipt",
        "OrderFulfilled",
    )
    assert row.error is None and row.tracking_number == "TN1"


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("batch_size", [1, 2, 5, 7])
def test_how_events_are_batched_does_not_change_the_row(scenario: str, batch_size: int) -> None:
    history = recorded(scenario)
    assert fold(history, batch_size) == fold(history)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_events_delivered_again_change_nothing(scenario: str) -> None:
    history = recorded(scenario)
    row = fold(history)
    for batch in history.batches(3):
        again = project(row, history.execution_arn, history.state_machine, read_events(batch))
        assert again is row


def test_only_events_after_the_last_applied_are_applied_each_once() -> None:
    events = read_events(recorded("happy").events)
    row = project(None, "arn", "Fulfilment", events[:5])
    assert row is not None and row.last_event_id == 5
    fresh = unapplied(row, [*events[3:8], *events[6:9]])
    assert [event.id for event in fresh] == [6, 7, 8, 9]
    assert not has_gap(row, fresh)
    assert has_gap(row, events[7:9])
    assert has_gap(None, events[1:3]) and not has_gap(None, events[:3])


def test_a_row_started_mid_history_is_named_by_its_execution() -> None:
    history = recorded("happy")
    arn = "arn:aws:states:local:000000000000:execution:Fulfilment:ord-late"
    row = project(None, arn, "Fulfilment", read_events(history.events[6:]))
    assert row is not None
    assert row.order_id == "ord-late"
    assert row.path == HAPPY_PATH[1:]
    assert row.status is OrderStatus.SUCCEEDED


def test_unreadable_events_are_refused_naming_the_event() -> None:
    good = recorded("happy").events[0]
    with pytest.raises(MalformedHistory, match="event 1 is not a JSON object"):
        read_events([good, "text"])
    with pytest.raises(MalformedHistory, match="event 0"):
        read_events([{"type": "TaskStateEntered", "id": 1}])
    with pytest.raises(MalformedHistory, match="event 0"):
        read_events([{**good, "type": "NoSuchEvent", "details": {"x": 1}}])
