"""An operator at the review desk: answers each open ticket after a delay, with a decision
drawn from the scenario's weights and seed, through the same desk the CLI uses."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from apps.chaos.scenario import Operator
from apps.chaos.timeline import Timeline
from services.review_desk.desk import ReviewDesk, ReviewError
from services.review_desk.tickets import Ticket
from stepstream.api.errors import ApiError
from stepstream.messaging.bus import PublishFailed

NAME = "chaos-operator"


class PlayedOperator:
    def __init__(self, desk: ReviewDesk, plan: Operator, *, seed: int, timeline: Timeline) -> None:
        self.desk = desk
        self.plan = plan
        self.seed = seed
        self.timeline = timeline
        self._handled: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def decision(self, ticket: Ticket) -> str:
        """The same ticket always gets the same decision from the same seed."""
        rng = random.Random(f"{self.seed}:{ticket.ticket_id}")
        choices = ("retry", "compensate", "fail")
        weights = (self.plan.retry, self.plan.compensate, self.plan.fail)
        return rng.choices(choices, weights)[0]

    async def run(self, poll: float = 0.5) -> None:
        """Answer tickets until cancelled."""
        try:
            while True:
                try:
                    tickets = await self.desk.list_tickets()
                except Exception as exc:  # the database is busy: look again shortly
                    self.timeline.record("operator-error", error=repr(exc))
                    tickets = []
                for ticket in tickets:
                    if ticket.ticket_id not in self._handled:
                        self._handled.add(ticket.ticket_id)
                        task = asyncio.create_task(self._answer(ticket))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                await asyncio.sleep(poll)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _answer(self, ticket: Ticket) -> None:
        waited = (datetime.now(UTC) - ticket.opened_at).total_seconds()
        await asyncio.sleep(max(0.0, self.plan.delay_seconds - waited))
        decision = self.decision(ticket)
        try:
            await self.desk.resolve(
                ticket.ticket_id, decision=decision, note="stepstream chaos", operator=NAME
            )
        except (ReviewError, ApiError, PublishFailed) as exc:
            # A closed or expired ticket, a stack that did not answer in time, or a
            # broker that was gone: the desk reopens a ticket whose decision was not
            # sent, and a person would try again; so does this one, at the next look.
            self.timeline.record(
                "decision-refused", ticket=ticket.ticket_id, error=f"{type(exc).__name__}: {exc}"
            )
            self._handled.discard(ticket.ticket_id)
            return
        self.timeline.record(
            "decided", ticket=ticket.ticket_id, execution=ticket.execution_arn, decision=decision
        )
