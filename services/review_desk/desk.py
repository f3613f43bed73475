"""The review desk: the tickets waiting for an operator, and sending their decisions.

A decision goes back with the ticket's task token as the task's output,
``{"decision", "note", "operator"}`` (and ``"changes"`` to the order for a retry with
corrections), which the definition's ChooseAfterReview reads. The ticket is claimed
first, by a conditional update, and the claim is undone when the decision cannot be
delivered, so two operators deciding at once cannot both send. Every decision, hold and
release is written to the audit log in the same transaction as the change itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from services.review_desk import audit, repository
from services.review_desk.edits import InvalidEdit, order_changes
from services.review_desk.tickets import Decision, Ticket, TicketStatus, parse_decision
from stepstream.api.errors import ApiError
from stepstream.sql.database import Database

# What the API answers for a token whose task no longer waits.
_NOT_PENDING = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
# How long a recorded decision may be on its way before the desk sends it again.
REDELIVERY_GRACE = timedelta(seconds=30)


class ExecutionApi(Protocol):
    """The part of ``StepStreamClient`` the desk uses."""

    async def describe_execution(self, execution_arn: str) -> dict[str, Any]: ...

    async def get_execution_history(
        self, execution_arn: str, *, reverse: bool = False
    ) -> dict[str, Any]: ...

    async def send_task_success(self, task_token: str, output_text: str) -> dict[str, Any]: ...


class ReviewError(Exception):
    """A refused desk operation; ``code`` names the reason, as API errors do."""

    code = "ReviewError"

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.code}: {message}")
        self.message = message

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class TicketNotFound(ReviewError):
    code = "TicketNotFound"


class TicketClosed(ReviewError):
    code = "TicketAlreadyClosed"


class TaskNoLongerPending(ReviewError):
    code = "TaskTimedOut"


class InvalidDecision(ReviewError):
    code = "InvalidDecision"


class TicketHeld(ReviewError):
    """Another operator has claimed the ticket."""

    code = "TicketClaimedByAnother"


@dataclass(frozen=True)
class Outcome:
    """One ticket's result in a batch: resolved, or refused with the reason."""

    ticket_id: str
    ok: bool
    status: str
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ticketId": self.ticket_id,
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class ExecutionSummary:
    """What the operator sees of a ticket's execution."""

    status: str
    path: tuple[str, ...]
    current_state: str | None
    error: str | None
    cause: str | None
    start_date: str | None
    stop_date: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "path": list(self.path),
            "currentState": self.current_state,
            "error": self.error,
            "cause": self.cause,
            "startDate": self.start_date,
            "stopDate": self.stop_date,
        }


@dataclass(frozen=True)
class TicketDetails:
    """A ticket with its execution; ``execution`` is None when it could not be read (why)."""

    ticket: Ticket
    execution: ExecutionSummary | None
    unavailable: str | None = None

    def to_json(self) -> dict[str, Any]:
        shown = self.ticket.to_json()
        shown["execution"] = self.execution.to_json() if self.execution else None
        if self.unavailable:
            shown["executionUnavailable"] = self.unavailable
        return shown


def _now() -> datetime:
    return datetime.now(UTC)


class ReviewDesk:
    """Tickets in ``database``; the execution side through ``executions`` (None: offline)."""

    def __init__(
        self,
        *,
        database: Database,
        executions: ExecutionApi | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.database = database
        self.executions = executions
        self.clock = clock

    async def list_tickets(self, *, include_closed: bool = False) -> list[Ticket]:
        """Open tickets, oldest first; with ``include_closed``, resolved and expired too."""
        async with self.database.transaction() as tx:
            return await repository.list_tickets(tx, include_closed=include_closed)

    async def ticket(self, ticket_id: str) -> Ticket:
        async with self.database.transaction() as tx:
            found = await repository.get(tx, ticket_id)
        if found is None:
            raise TicketNotFound(f"no review ticket {ticket_id!r}")
        return found

    async def show(self, ticket_id: str) -> TicketDetails:
        """A ticket and its execution: status, path of states entered, error."""
        ticket = await self.ticket(ticket_id)
        if self.executions is None:
            return TicketDetails(ticket, None, "no running stack to ask about the execution")
        try:
            described = await self.executions.describe_execution(ticket.execution_arn)
            history = await self.executions.get_execution_history(ticket.execution_arn)
        except ApiError as exc:
            return TicketDetails(ticket, None, str(exc))
        return TicketDetails(ticket, summarize(described, history.get("events", [])))

    async def resolve(
        self,
        ticket_id: str,
        *,
        decision: str,
        note: str = "",
        operator: str,
        edits: Mapping[str, str] | None = None,
        batch: str | None = None,
    ) -> Ticket:
        """Send the operator's decision for an open ticket, and mark it resolved.

        ``edits`` (``{"address.line1": "..."}``) correct the order before a retry; they
        are checked against the order schema and sent as the decision's ``changes``.
        """
        chosen = _decision(decision)
        if not operator.strip():
            raise ReviewError("an operator name is needed to resolve a ticket")
        if edits and chosen is not Decision.RETRY:
            raise InvalidDecision("order edits go with a retry only")
        if self.executions is None:
            raise ReviewError("no running stack to send the decision to")
        changes: dict[str, Any] = {}
        if edits:
            found = await self.ticket(ticket_id)
            try:
                changes = order_changes(found.order, found.failed_state, edits)
            except InvalidEdit as exc:
                raise InvalidDecision(str(exc)) from None
        ticket = await self._claim(ticket_id, chosen, note, operator, changes, batch)
        output = _output(str(chosen), note, operator, changes)
        try:
            await self.executions.send_task_success(ticket.task_token, json.dumps(output))
        except ApiError as exc:
            if exc.code not in _NOT_PENDING:
                await self._reopen(ticket_id, operator, str(exc))
                raise
            if await self._arrived(ticket, str(chosen)):
                await self._delivered(ticket_id)  # the desk's redelivery got there first
                return await self.ticket(ticket_id)
            await self._expire(ticket_id, str(exc))
            raise TaskNoLongerPending(
                f"ticket {ticket_id}: its task no longer waits for a decision ({exc.message})"
            ) from None
        except BaseException as exc:
            await self._reopen(ticket_id, operator, f"{type(exc).__name__}: {exc}")
            raise
        await self._delivered(ticket_id)
        return await self.ticket(ticket_id)

    async def resolve_many(
        self,
        ticket_ids: Sequence[str],
        *,
        decision: str,
        note: str,
        operator: str,
    ) -> list[Outcome]:
        """One decision for many tickets, each on its own; a refusal stops none of the rest."""
        batch = uuid.uuid4().hex[:12]
        outcomes = []
        for ticket_id in dict.fromkeys(ticket_ids):
            try:
                done = await self.resolve(
                    ticket_id, decision=decision, note=note, operator=operator, batch=batch
                )
            except (ReviewError, ApiError) as exc:
                outcomes.append(Outcome(ticket_id, False, "refused", exc.message))
            else:
                outcomes.append(Outcome(ticket_id, True, str(done.status)))
        return outcomes

    async def claim(self, ticket_id: str, *, operator: str) -> str:
        """Take an open ticket to work on; ``TicketHeld`` when another operator has it."""
        async with self.database.transaction() as tx:
            ticket = await repository.get(tx, ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no review ticket {ticket_id!r}")
            if ticket.status is not TicketStatus.OPEN:
                raise TicketClosed(_closed_message(ticket))
            holder = await repository.hold(tx, ticket_id, operator, at=self.clock())
            if holder != operator:
                raise TicketHeld(f"ticket {ticket_id} is claimed by {holder}")
            await audit.record(
                tx, at=self.clock(), actor=operator, action="claim", subject=ticket_id
            )
        return holder

    async def release(self, ticket_id: str, *, operator: str, anyone: bool = False) -> None:
        """Give a claimed ticket back; ``anyone`` (an admin) releases another's claim."""
        async with self.database.transaction() as tx:
            held = await repository.holder_of(tx, ticket_id)
            if held is None:
                return
            if held[0] != operator and not anyone:
                raise TicketHeld(f"ticket {ticket_id} is claimed by {held[0]}, not by {operator}")
            await repository.let_go(tx, ticket_id)
            await audit.record(
                tx,
                at=self.clock(),
                actor=operator,
                action="release",
                subject=ticket_id,
                detail={"heldBy": held[0]},
            )

    async def holders(self) -> dict[str, str]:
        async with self.database.transaction() as tx:
            return await repository.holders(tx)

    async def holder(self, ticket_id: str) -> str | None:
        async with self.database.transaction() as tx:
            held = await repository.holder_of(tx, ticket_id)
        return None if held is None else held[0]

    async def audit_trail(self, subject: str | None = None) -> list[audit.AuditEntry]:
        async with self.database.transaction() as tx:
            return await audit.entries(tx, subject=subject, limit=100_000)

    async def redeliver(self, *, older_than: timedelta = REDELIVERY_GRACE) -> list[Ticket]:
        """Finish the decisions a stopped desk recorded but may not have delivered.

        Only tickets decided longer than ``older_than`` ago, so an operator's own send is
        never raced. The execution's history tells whether the decision arrived; if the
        task still waits it is sent again; if the task ended some other way, the ticket
        expires. Returns the tickets it settled.
        """
        if self.executions is None:
            return []
        async with self.database.transaction() as tx:
            waiting = await repository.undelivered(tx)
        cutoff = self.clock() - older_than
        settled = []
        for ticket in waiting:
            if ticket.closed_at is not None and ticket.closed_at > cutoff:
                continue
            await self._send_again(ticket)
            settled.append(await self.ticket(ticket.ticket_id))
        return settled

    async def _send_again(self, ticket: Ticket) -> None:
        assert self.executions is not None and ticket.decision is not None
        async with self.database.transaction() as tx:
            changes = await repository.changes_of(tx, ticket.ticket_id)
        output = _output(str(ticket.decision), ticket.note or "", ticket.operator or "", changes)
        try:
            await self.executions.send_task_success(ticket.task_token, json.dumps(output))
        except ApiError as exc:
            if exc.code not in _NOT_PENDING:
                return  # still undeliverable; tried again next time
            if await self._arrived(ticket, str(ticket.decision)):
                await self._delivered(ticket.ticket_id)
            else:
                await self._expire(ticket.ticket_id, str(exc))
            return
        await self._delivered(ticket.ticket_id)

    async def _arrived(self, ticket: Ticket, decision: str) -> bool:
        """Whether the execution's history shows ``decision`` answering the ticket's task."""
        assert self.executions is not None
        history = await self.executions.get_execution_history(ticket.execution_arn)
        return decision_arrived(history.get("events", []), ticket.task_token, decision)

    async def _delivered(self, ticket_id: str) -> None:
        async with self.database.transaction() as tx:
            await repository.delivered(tx, ticket_id)

    async def _claim(
        self,
        ticket_id: str,
        decision: Decision,
        note: str,
        operator: str,
        changes: dict[str, Any],
        batch: str | None,
    ) -> Ticket:
        async with self.database.transaction() as tx:
            ticket = await repository.get(tx, ticket_id)
            if ticket is None:
                raise TicketNotFound(f"no review ticket {ticket_id!r}")
            held = await repository.holder_of(tx, ticket_id)
            if held is not None and held[0] != operator and ticket.status is TicketStatus.OPEN:
                raise TicketHeld(f"ticket {ticket_id} is claimed by {held[0]}")
            claimed = ticket.status is TicketStatus.OPEN and await repository.claim(
                tx, ticket_id, decision=decision, note=note, operator=operator, at=self.clock()
            )
            if claimed:
                await repository.keep_changes(tx, ticket_id, changes)
                await repository.let_go(tx, ticket_id)
                detail: dict[str, Any] = {
                    "decision": str(decision),
                    "executionArn": ticket.execution_arn,
                }
                if changes:
                    detail["changes"] = changes
                    detail["before"] = {
                        key: ticket.order.get(key) if isinstance(ticket.order, dict) else None
                        for key in changes
                    }
                if batch:
                    detail["batch"] = batch
                await audit.record(
                    tx,
                    at=self.clock(),
                    actor=operator,
                    action="decide",
                    subject=ticket_id,
                    reason=note,
                    detail=detail,
                )
        if not claimed:
            raise TicketClosed(_closed_message(ticket))
        return ticket

    async def _reopen(self, ticket_id: str, operator: str, why: str) -> None:
        async with self.database.transaction() as tx:
            await repository.reopen(tx, ticket_id)
            await audit.record(
                tx,
                at=self.clock(),
                actor=operator,
                action="decision-not-sent",
                subject=ticket_id,
                reason=why,
            )

    async def _expire(self, ticket_id: str, reason: str) -> None:
        async with self.database.transaction() as tx:
            await repository.expire(tx, ticket_id, reason=reason, at=self.clock())
            await audit.record(
                tx, at=self.clock(), actor="desk", action="expire", subject=ticket_id, reason=reason
            )


def _output(decision: str, note: str, operator: str, changes: dict[str, Any]) -> dict[str, Any]:
    output: dict[str, Any] = {"decision": decision, "note": note, "operator": operator}
    if changes:
        output["changes"] = changes
    return output


def _decision(value: str) -> Decision:
    try:
        return parse_decision(value)
    except ValueError as exc:
        raise InvalidDecision(str(exc)) from None


def _closed_message(ticket: Ticket) -> str:
    if ticket.status is TicketStatus.EXPIRED:
        return f"ticket {ticket.ticket_id} has expired: {ticket.closed_reason}"
    if ticket.status is TicketStatus.RESOLVED:
        return (
            f"ticket {ticket.ticket_id} was already resolved ({ticket.decision}) "
            f"by {ticket.operator} at {ticket.closed_at.isoformat() if ticket.closed_at else '?'}"
        )
    return f"ticket {ticket.ticket_id} was resolved by someone else just now"


def summarize(described: dict[str, Any], events: list[dict[str, Any]]) -> ExecutionSummary:
    """The execution's status and error, and its top-level states entered, in order."""
    path: list[str] = []
    current: str | None = None
    for event in events:
        if event.get("scope"):
            continue  # inside a Parallel or Map: the state that holds it is in the path
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            current = str(event.get("stateEnteredEventDetails", {}).get("name", "?"))
            path.append(current)
        elif kind.endswith("StateExited"):
            current = None
    return ExecutionSummary(
        status=str(described.get("status", "UNKNOWN")),
        path=tuple(path),
        current_state=current,
        error=described.get("error"),
        cause=described.get("cause"),
        start_date=described.get("startDate"),
        stop_date=described.get("stopDate"),
    )


def decision_arrived(events: list[dict[str, Any]], task_token: str, decision: str) -> bool:
    """Whether the task scheduled with ``task_token`` succeeded with ``decision``."""
    scope: str | None = None
    for event in events:
        details = event.get("taskScheduledEventDetails") or {}
        if scope is None:
            if details.get("taskToken") == task_token:
                scope = event.get("scope", "")
            continue
        if event.get("scope", "") != scope or not event["type"].startswith("Task"):
            continue
        if event["type"] in ("TaskFailed", "TaskTimedOut"):
            return False
        if event["type"] == "TaskSucceeded":
            output = json.loads(event["taskSucceededEventDetails"].get("output") or "null")
            return isinstance(output, dict) and output.get("decision") == decision
    return False
