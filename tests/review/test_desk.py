"""The desk's operations against a fake of the execution API (tickets in a real SQLite file)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.review_desk import repository
from services.review_desk.desk import (
    InvalidDecision,
    ReviewDesk,
    TaskNoLongerPending,
    TicketClosed,
    TicketNotFound,
)
from services.review_desk.tickets import Decision, Ticket, TicketStatus, ticket_id_for
from stepstream.api.errors import ApiError
from stepstream.sql.database import Database
from tests.review.fakes import FakeExecutions

ARN = "arn:aws:states:local:000000000000:execution:Fulfilment:ord-7"
NOW = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def ticket(token: str = "tok-7") -> Ticket:
    return Ticket(
        ticket_id=ticket_id_for(token),
        task_token=token,
        execution_arn=ARN,
        failed_state="BookShipment",
        review_state="WaitForHumanReview",
        error="CarrierResponseMalformed",
        cause="garbled answer",
        order={"orderId": "ord-7"},
        opened_at=NOW,
    )


@pytest.fixture
async def desk(sqlite_tickets: Database) -> tuple[ReviewDesk, FakeExecutions]:
    executions = FakeExecutions()
    executions.add(
        ARN,
        "RUNNING",
        [("ChargePayment", ""), ("BookShipment", ""), ("Inner", "/0"), ("WaitForHumanReview", "")],
        startDate="2026-04-01T09:00:00+00:00",
    )
    executions.schedule(ARN, "tok-7")
    async with sqlite_tickets.transaction() as tx:
        await repository.add(tx, ticket())
    return ReviewDesk(database=sqlite_tickets, executions=executions, clock=lambda: NOW), executions


async def test_resolving_answers_the_task_with_the_decision_note_and_operator(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    resolved = await review.resolve(
        ticket().ticket_id, decision="retry", note="carrier is back", operator="ada"
    )
    assert executions.answers == [
        ("tok-7", {"decision": "retry", "note": "carrier is back", "operator": "ada"})
    ]
    assert resolved.status is TicketStatus.RESOLVED
    assert (resolved.decision, resolved.operator, resolved.closed_at) == (
        Decision.RETRY,
        "ada",
        NOW,
    )
    assert await review.list_tickets() == []
    assert [t.ticket_id for t in await review.list_tickets(include_closed=True)] == [
        resolved.ticket_id
    ]


async def test_a_second_decision_for_a_resolved_ticket_is_refused(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    await review.resolve(ticket().ticket_id, decision="compensate", operator="ada")
    with pytest.raises(TicketClosed, match=r"already resolved \(compensate\) by ada"):
        await review.resolve(ticket().ticket_id, decision="fail", operator="bob")
    assert len(executions.answers) == 1


async def test_two_operators_deciding_at_once_send_one_answer(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    outcomes = await asyncio.gather(
        review.resolve(ticket().ticket_id, decision="retry", operator="ada"),
        review.resolve(ticket().ticket_id, decision="fail", operator="bob"),
        return_exceptions=True,
    )
    assert sum(isinstance(o, Ticket) for o in outcomes) == 1
    assert sum(isinstance(o, TicketClosed) for o in outcomes) == 1
    assert len(executions.answers) == 1
    winner = next(o for o in outcomes if isinstance(o, Ticket))
    assert executions.answers[0][1]["operator"] == winner.operator


async def test_a_task_that_no_longer_waits_is_refused_and_its_ticket_expires(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    executions.waiting.clear()
    with pytest.raises(TaskNoLongerPending, match="no longer waits"):
        await review.resolve(ticket().ticket_id, decision="retry", operator="ada")
    expired = await review.ticket(ticket().ticket_id)
    assert expired.status is TicketStatus.EXPIRED and expired.decision is None
    assert "TaskTimedOut" in (expired.closed_reason or "")
    with pytest.raises(TicketClosed, match="has expired"):
        await review.resolve(ticket().ticket_id, decision="retry", operator="ada")


async def test_a_decision_that_cannot_be_delivered_leaves_the_ticket_open(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    executions.outage = ConnectionError("broker unreachable")
    with pytest.raises(ConnectionError):
        await review.resolve(ticket().ticket_id, decision="retry", operator="ada")
    assert (await review.ticket(ticket().ticket_id)).status is TicketStatus.OPEN
    executions.outage = ApiError("ServiceUnavailable", "try later")
    with pytest.raises(ApiError):
        await review.resolve(ticket().ticket_id, decision="retry", operator="ada")
    executions.outage = None
    assert (
        await review.resolve(ticket().ticket_id, decision="retry", operator="ada")
    ).operator == "ada"


async def test_bad_requests_are_refused_before_anything_is_sent(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    with pytest.raises(InvalidDecision, match="one of retry, compensate, fail; got 'maybe'"):
        await review.resolve(ticket().ticket_id, decision="maybe", operator="ada")
    with pytest.raises(TicketNotFound, match="rv-nope"):
        await review.resolve("rv-nope", decision="retry", operator="ada")
    assert executions.answers == []
    assert (await review.ticket(ticket().ticket_id)).status is TicketStatus.OPEN


async def test_showing_a_ticket_shows_its_execution_top_level_path(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, _ = desk
    shown = await review.show(ticket().ticket_id)
    assert shown.execution is not None
    assert shown.execution.status == "RUNNING"
    assert shown.execution.path == ("ChargePayment", "BookShipment", "WaitForHumanReview")
    assert shown.execution.current_state == "WaitForHumanReview"
    document = shown.to_json()
    assert document["ticketId"] == ticket().ticket_id and document["error"] == ticket().error


async def test_a_ticket_is_shown_without_its_execution_when_that_cannot_be_read(
    sqlite_tickets: Database,
) -> None:
    async with sqlite_tickets.transaction() as tx:
        await repository.add(tx, ticket())
    offline = await ReviewDesk(database=sqlite_tickets).show(ticket().ticket_id)
    assert offline.execution is None and "no running stack" in (offline.unavailable or "")
    unknown = await ReviewDesk(database=sqlite_tickets, executions=FakeExecutions()).show(
        ticket().ticket_id
    )
    assert unknown.execution is None and "ExecutionDoesNotExist" in (unknown.unavailable or "")


# A desk that stopped after recording a decision and before delivering it.


async def _decided_then_stopped(review: ReviewDesk, decision: Decision = Decision.RETRY) -> None:
    async with review.database.transaction() as tx:
        await repository.claim(
            tx, ticket().ticket_id, decision=decision, note="n", operator="ada", at=NOW
        )


def _later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


async def test_a_decision_left_on_its_way_is_sent_again(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    await _decided_then_stopped(review)
    review.clock = lambda: _later(60)
    [settled] = await review.redeliver()
    assert executions.answers == [("tok-7", {"decision": "retry", "note": "n", "operator": "ada"})]
    assert settled.status is TicketStatus.RESOLVED
    assert await review.redeliver() == []


async def test_a_decision_that_had_arrived_is_not_sent_twice(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    await _decided_then_stopped(review)
    await executions.send_task_success("tok-7", '{"decision": "retry"}')  # got there, then a crash
    review.clock = lambda: _later(60)
    [settled] = await review.redeliver()
    assert len(executions.answers) == 1
    assert settled.status is TicketStatus.RESOLVED


async def test_a_recent_decision_is_left_to_the_operator_sending_it(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    await _decided_then_stopped(review)
    review.clock = lambda: _later(1)
    assert await review.redeliver() == []
    assert executions.answers == []
    assert (await review.ticket(ticket().ticket_id)).status is TicketStatus.DECIDING


async def test_a_task_that_ended_some_other_way_expires_its_ticket(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    await _decided_then_stopped(review)
    executions.waiting.discard("tok-7")  # timed out, say, with no answer from the desk
    review.clock = lambda: _later(60)
    [settled] = await review.redeliver()
    assert settled.status is TicketStatus.EXPIRED and executions.answers == []


async def test_order_changes_left_on_their_way_are_sent_again_with_the_decision(
    desk: tuple[ReviewDesk, FakeExecutions],
) -> None:
    review, executions = desk
    await _decided_then_stopped(review)
    changes = {"address": {"line1": "2 New Street"}, "shipmentRevision": 1}
    async with review.database.transaction() as tx:
        await repository.keep_changes(tx, ticket().ticket_id, changes)
    review.clock = lambda: _later(60)
    await review.redeliver()
    assert executions.answers == [
        ("tok-7", {"decision": "retry", "note": "n", "operator": "ada", "changes": changes})
    ]
