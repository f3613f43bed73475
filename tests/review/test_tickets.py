"""Reading review tickets out of what the orchestrator publishes on the human-review topic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.review_desk.tickets import (
    Decision,
    MalformedTicket,
    TicketStatus,
    parse_decision,
    read_ticket,
    ticket_id_for,
)

ARN = "arn:aws:states:local:000000000000:execution:Fulfilment:ord-1"
OPENED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def published(**message: Any) -> dict[str, Any]:
    body = {
        "executionArn": ARN,
        "taskToken": "tok-1",
        "state": "BookShipment",
        "errorInfo": {"Error": "CarrierResponseMalformed", "Cause": "no JSON in the answer"},
        "order": {"orderId": "ord-1", "amount": 1800},
        **message,
    }
    return {"message": body, "task_token": body.get("taskToken"), "state": "WaitForHumanReview"}


def test_a_ticket_names_the_failure_the_order_and_the_task_to_answer() -> None:
    ticket = read_ticket(published(), execution_id=ARN, opened_at=OPENED)
    assert ticket.task_token == "tok-1"
    assert ticket.execution_arn == ARN
    assert (ticket.failed_state, ticket.review_state) == ("BookShipment", "WaitForHumanReview")
    assert (ticket.error, ticket.cause) == ("CarrierResponseMalformed", "no JSON in the answer")
    assert ticket.order == {"orderId": "ord-1", "amount": 1800}
    assert ticket.status is TicketStatus.OPEN and ticket.opened_at == OPENED


def test_the_ticket_id_is_derived_from_the_task_token() -> None:
    first = read_ticket(published(), execution_id=ARN, opened_at=OPENED)
    again = read_ticket(published(), execution_id=ARN, opened_at=datetime.now(UTC))
    other = read_ticket(published(taskToken="tok-2"), execution_id=ARN, opened_at=OPENED)
    assert first.ticket_id == again.ticket_id == ticket_id_for("tok-1")
    assert other.ticket_id != first.ticket_id
    assert first.ticket_id.startswith("rv-")


def test_a_structured_cause_is_kept_as_json_text() -> None:
    payload = published(errorInfo={"Error": "Boom", "Cause": {"errorMessage": "x"}})
    assert read_ticket(payload, execution_id=ARN, opened_at=OPENED).cause == '{"errorMessage": "x"}'


def test_the_token_of_the_envelope_serves_when_the_body_has_none() -> None:
    payload = published()
    del payload["message"]["taskToken"]
    assert read_ticket(payload, execution_id=ARN, opened_at=OPENED).task_token == "tok-1"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"state": "Review"}, "field 'message' missing"),
        ({"message": "hello", "state": "Review"}, "field 'message' invalid"),
        ({"message": {"executionArn": ARN}, "state": "Review"}, "carries no task token"),
        (
            {"message": {"taskToken": "a"}, "task_token": "b", "state": "Review"},
            "two different task tokens",
        ),
        ({"message": {"taskToken": "a", "executionArn": "other"}, "state": "R"}, "execution ARNs"),
    ],
)
def test_a_message_that_is_not_a_ticket_is_refused_saying_why(
    payload: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedTicket, match=reason):
        read_ticket(payload, execution_id=ARN, opened_at=OPENED)


def test_decisions_are_the_three_the_definition_branches_on() -> None:
    assert [parse_decision(d) for d in ("retry", "compensate", "fail")] == list(Decision)
    with pytest.raises(ValueError, match="one of retry, compensate, fail; got 'skip'"):
        parse_decision("skip")
