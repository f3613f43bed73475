"""The ticket table's contract, held on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.review_desk import repository
from services.review_desk.tickets import Decision, Ticket, TicketStatus, ticket_id_for
from stepstream.sql.database import Database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ticket(token: str, minutes: int = 0) -> Ticket:
    return Ticket(
        ticket_id=ticket_id_for(token),
        task_token=token,
        execution_arn=f"arn:aws:states:local:000000000000:execution:Fulfilment:{token}",
        failed_state="BookShipment",
        review_state="WaitForHumanReview",
        error="CarrierResponseMalformed",
        cause="garbled",
        order={"orderId": token, "items": [{"sku": "MUG", "qty": 1}]},
        opened_at=T0 + timedelta(minutes=minutes),
    )


async def test_a_ticket_is_kept_once_per_task_token(tickets_db: Database) -> None:
    async with tickets_db.transaction() as tx:
        assert await repository.add(tx, ticket("a"))
        assert not await repository.add(tx, replace(ticket("a"), opened_at=T0 + timedelta(1)))
        assert await repository.get(tx, ticket_id_for("a")) == ticket("a")
        assert await repository.get(tx, "rv-missing") is None


async def test_open_tickets_are_listed_oldest_first(tickets_db: Database) -> None:
    async with tickets_db.transaction() as tx:
        for token, minutes in (("late", 5), ("early", 1), ("done", 0)):
            await repository.add(tx, ticket(token, minutes))
        await repository.claim(
            tx, ticket_id_for("done"), decision=Decision.FAIL, note="", operator="ada", at=T0
        )
        open_ones = await repository.list_tickets(tx, include_closed=False)
        every = await repository.list_tickets(tx, include_closed=True)
    assert [t.task_token for t in open_ones] == ["early", "late"]
    assert [t.task_token for t in every] == ["done", "early", "late"]


async def test_only_an_open_ticket_can_be_claimed(tickets_db: Database) -> None:
    tid = ticket_id_for("a")
    async with tickets_db.transaction() as tx:
        await repository.add(tx, ticket("a"))
        first = await repository.claim(
            tx, tid, decision=Decision.RETRY, note="try again", operator="ada", at=T0
        )
        second = await repository.claim(
            tx, tid, decision=Decision.FAIL, note="", operator="bob", at=T0
        )
        kept = await repository.get(tx, tid)
        waiting = await repository.undelivered(tx)
        await repository.delivered(tx, tid)
        resolved = await repository.get(tx, tid)
        after = await repository.undelivered(tx)
    assert (first, second) == (True, False)
    # Claimed, the decision is recorded but not yet known to have reached the execution.
    assert kept is not None and kept.status is TicketStatus.DECIDING
    assert [t.ticket_id for t in waiting] == [tid] and after == []
    assert resolved is not None and resolved.status is TicketStatus.RESOLVED
    assert (kept.decision, kept.note, kept.operator, kept.closed_at) == (
        Decision.RETRY,
        "try again",
        "ada",
        T0,
    )


async def test_a_claim_can_be_undone_and_a_ticket_expired(tickets_db: Database) -> None:
    tid = ticket_id_for("a")
    async with tickets_db.transaction() as tx:
        await repository.add(tx, ticket("a"))
        await repository.claim(tx, tid, decision=Decision.RETRY, note="n", operator="o", at=T0)
        await repository.reopen(tx, tid)
        reopened = await repository.get(tx, tid)
        await repository.expire(tx, tid, reason="TaskTimedOut: gone", at=T0)
        expired = await repository.get(tx, tid)
    assert reopened == ticket("a")
    assert expired is not None and expired.status is TicketStatus.EXPIRED
    assert expired.closed_reason == "TaskTimedOut: gone" and expired.decision is None
