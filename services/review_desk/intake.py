"""Taking tickets in from the human-review topic, once each.

The orchestrator's outbox relay may publish a ticket twice; the task token is the
ticket's identity, so the second copy is recognised and dropped. A message that is not
a ticket is dead-lettered with the reason (``PoisonMessage``) and intake goes on.
"""

from __future__ import annotations

import logging

from services.review_desk import repository
from services.review_desk.tickets import MalformedTicket, Ticket, read_ticket
from stepstream.messaging.bus import Record
from stepstream.messaging.contracts import PUBLISH_KIND
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.sql.database import Database

log = logging.getLogger(__name__)


class TicketIntake:
    """A ``consume`` handler keeping every ticket published for review."""

    def __init__(self, *, database: Database) -> None:
        self.database = database

    async def handle(self, envelope: Envelope, record: Record) -> None:
        await self.take(envelope)

    async def take(self, envelope: Envelope) -> Ticket:
        """Keep the ticket ``envelope`` carries (or find the one it repeats)."""
        if envelope.kind != PUBLISH_KIND:
            raise PoisonMessage(
                f"unexpected message kind {envelope.kind!r}: "
                f"review tickets come as {PUBLISH_KIND!r}"
            )
        try:
            # The envelope's time, not now: a copy delivered later is still the same ticket.
            ticket = read_ticket(
                envelope.payload, execution_id=envelope.execution_id, opened_at=envelope.created_at
            )
        except MalformedTicket as exc:
            raise PoisonMessage(str(exc)) from None
        async with self.database.transaction() as tx:
            added = await repository.add(tx, ticket)
        if added:
            log.info(
                "ticket %s opened: %s failed in %s with %s",
                ticket.ticket_id,
                ticket.execution_arn,
                ticket.failed_state,
                ticket.error,
            )
        else:
            log.info("ticket %s received again; kept once", ticket.ticket_id)
        return ticket
