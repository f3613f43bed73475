"""Tickets derived from durable state: the executions that wait on a review task.

A ticket comes by message, and a message can be lost (a broker that came back empty)
or never taken in; an execution waiting for review without a ticket would wait unseen.
So the desk compares its open tickets with the review tasks the execution store says
are pending: it opens the missing tickets (the same ticket a message would have
brought, named by the same task token) and expires those whose task no longer waits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.review_desk import repository
from services.review_desk.tickets import MalformedTicket, Ticket, read_ticket
from stepstream.api.waiting import WaitingTask
from stepstream.sql.database import Database

log = logging.getLogger(__name__)

NO_LONGER_WAITS = "its execution no longer waits on this review task (found by reconciliation)"


@dataclass
class Reconciled:
    opened: list[Ticket] = field(default_factory=list)
    expired: list[Ticket] = field(default_factory=list)


async def reconcile(
    database: Database,
    waiting_tasks: Callable[[], Awaitable[Sequence[WaitingTask]]],
    *,
    now: datetime,
) -> Reconciled:
    """Open the tickets of review tasks that have none; expire open ones nothing waits on."""
    # Open tickets are read before the store: a ticket taken in meanwhile may belong to
    # a task the store read did not see yet, and must not be expired for that.
    async with database.transaction() as tx:
        open_before = await repository.list_tickets(tx, include_closed=False, limit=100_000)
    waiting = await waiting_tasks()
    done = Reconciled()
    for task in waiting:
        try:
            ticket = read_ticket(
                task.published, execution_id=task.execution_arn, opened_at=task.scheduled_at
            )
        except MalformedTicket as exc:
            log.error("review task of %s gives no ticket: %s", task.execution_arn, exc)
            continue
        async with database.transaction() as tx:
            if await repository.add(tx, ticket):
                done.opened.append(ticket)
    pending = {task.task_token for task in waiting}
    for ticket in open_before:
        if ticket.task_token in pending:
            continue
        async with database.transaction() as tx:
            if await repository.expire_open(tx, ticket.ticket_id, reason=NO_LONGER_WAITS, at=now):
                done.expired.append(ticket)
    for ticket in done.opened:
        log.warning(
            "ticket %s opened by reconciliation for %s", ticket.ticket_id, ticket.execution_arn
        )
    for ticket in done.expired:
        log.info("ticket %s expired: %s", ticket.ticket_id, NO_LONGER_WAITS)
    return done
