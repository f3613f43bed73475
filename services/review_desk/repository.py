"""The review desk's ticket table, in SQL both SQLite and PostgreSQL accept.

A ticket leaves ``open`` only through a conditional update (``... WHERE status = 'open'``),
so two operators deciding at once cannot both win. It stays ``deciding`` until its
decision has reached the execution, so a desk that stops in between can send it again.
"""

from __future__ import annotations

import json
from datetime import datetime

from services.review_desk.tickets import Decision, Ticket, TicketStatus
from stepstream.sql.database import Row, Transaction

DEFAULT_SCHEMA = "review_desk"

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS review_tickets (
        ticket_id TEXT PRIMARY KEY,
        task_token TEXT NOT NULL UNIQUE,
        execution_arn TEXT NOT NULL,
        failed_state TEXT,
        review_state TEXT NOT NULL,
        error TEXT,
        cause TEXT,
        order_document TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        status TEXT NOT NULL,
        decision TEXT,
        note TEXT,
        operator TEXT,
        closed_at TEXT,
        closed_reason TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS review_tickets_by_status ON review_tickets (status, opened_at)",
)

_COLUMNS = (
    "ticket_id, task_token, execution_arn, failed_state, review_state, error, cause, "
    "order_document, opened_at, status, decision, note, operator, closed_at, closed_reason"
)


async def add(tx: Transaction, ticket: Ticket) -> bool:
    """Keep a new ticket; False when its task token already has one."""
    changed = await tx.execute(
        f"INSERT INTO review_tickets ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        ticket.ticket_id,
        ticket.task_token,
        ticket.execution_arn,
        ticket.failed_state,
        ticket.review_state,
        ticket.error,
        ticket.cause,
        json.dumps(ticket.order),
        ticket.opened_at.isoformat(),
        str(ticket.status),
        str(ticket.decision) if ticket.decision else None,
        ticket.note,
        ticket.operator,
        ticket.closed_at.isoformat() if ticket.closed_at else None,
        ticket.closed_reason,
    )
    return changed > 0


async def get(tx: Transaction, ticket_id: str) -> Ticket | None:
    found = await tx.fetch_one(
        f"SELECT {_COLUMNS} FROM review_tickets WHERE ticket_id = ?{tx.for_update}", ticket_id
    )
    return None if found is None else _ticket(found)


async def list_tickets(tx: Transaction, *, include_closed: bool, limit: int = 1000) -> list[Ticket]:
    """Tickets, oldest first: the open ones, or all of them."""
    where = "" if include_closed else "WHERE status = 'open' "
    rows = await tx.fetch_all(
        f"SELECT {_COLUMNS} FROM review_tickets {where}ORDER BY opened_at, ticket_id LIMIT ?",
        limit,
    )
    return [_ticket(row) for row in rows]


async def backlog(tx: Transaction) -> tuple[int, datetime | None]:
    """How many tickets wait for a decision, and when the oldest of them was opened."""
    row = await tx.fetch_one(
        "SELECT COUNT(*) AS waiting, MIN(opened_at) AS oldest FROM review_tickets "
        "WHERE status = 'open'"
    )
    if row is None or not row["waiting"]:
        return 0, None
    return int(row["waiting"]), datetime.fromisoformat(row["oldest"])


async def claim(
    tx: Transaction,
    ticket_id: str,
    *,
    decision: Decision,
    note: str,
    operator: str,
    at: datetime,
) -> bool:
    """Record the decision on an open ticket; False when it was no longer open."""
    changed = await tx.execute(
        "UPDATE review_tickets SET status = 'deciding', decision = ?, note = ?, operator = ?, "
        "closed_at = ? WHERE ticket_id = ? AND status = 'open'",
        str(decision),
        note,
        operator,
        at.isoformat(),
        ticket_id,
    )
    return changed > 0


async def delivered(tx: Transaction, ticket_id: str) -> None:
    """The decision reached the execution: the ticket is resolved."""
    await tx.execute(
        "UPDATE review_tickets SET status = 'resolved' WHERE ticket_id = ? AND status = 'deciding'",
        ticket_id,
    )


async def undelivered(tx: Transaction, *, limit: int = 100) -> list[Ticket]:
    """Tickets whose decision was recorded but not yet known to have arrived."""
    rows = await tx.fetch_all(
        f"SELECT {_COLUMNS} FROM review_tickets WHERE status = 'deciding' "
        "ORDER BY closed_at, ticket_id LIMIT ?",
        limit,
    )
    return [_ticket(row) for row in rows]


async def reopen(tx: Transaction, ticket_id: str) -> None:
    """Undo a claim whose decision could not be delivered."""
    await tx.execute(
        "UPDATE review_tickets SET status = 'open', decision = NULL, note = NULL, "
        "operator = NULL, closed_at = NULL WHERE ticket_id = ? AND status = 'deciding'",
        ticket_id,
    )


async def expire(tx: Transaction, ticket_id: str, *, reason: str, at: datetime) -> None:
    """Close a ticket whose task no longer waits for an answer."""
    await tx.execute(
        "UPDATE review_tickets SET status = 'expired', decision = NULL, note = NULL, "
        "operator = NULL, closed_at = ?, closed_reason = ? WHERE ticket_id = ?",
        at.isoformat(),
        reason,
        ticket_id,
    )


async def expire_open(tx: Transaction, ticket_id: str, *, reason: str, at: datetime) -> bool:
    """Expire a ticket only while no operator has claimed it; False when it had left open."""
    changed = await tx.execute(
        "UPDATE review_tickets SET status = 'expired', closed_at = ?, closed_reason = ? "
        "WHERE ticket_id = ? AND status = 'open'",
        at.isoformat(),
        reason,
        ticket_id,
    )
    return changed > 0


def _ticket(row: Row) -> Ticket:
    return Ticket(
        ticket_id=row["ticket_id"],
        task_token=row["task_token"],
        execution_arn=row["execution_arn"],
        failed_state=row["failed_state"],
        review_state=row["review_state"],
        error=row["error"],
        cause=row["cause"],
        order=json.loads(row["order_document"]),
        opened_at=datetime.fromisoformat(row["opened_at"]),
        status=TicketStatus(row["status"]),
        decision=Decision(row["decision"]) if row["decision"] else None,
        note=row["note"],
        operator=row["operator"],
        closed_at=datetime.fromisoformat(row["closed_at"]) if row["closed_at"] else None,
        closed_reason=row["closed_reason"],
    )


# -- the changes a decision carries, and who holds a ticket ------------------------------

EXTRA_DDL: tuple[str, ...] = (
    # Kept beside the ticket (not in its row) so that databases made before edits existed
    # need no migration; written in the claim's transaction, read to send a decision again.
    """CREATE TABLE IF NOT EXISTS review_ticket_changes (
        ticket_id TEXT PRIMARY KEY,
        changes TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS review_ticket_holders (
        ticket_id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        held_since TEXT NOT NULL
    )""",
)


async def keep_changes(tx: Transaction, ticket_id: str, changes: dict[str, object]) -> None:
    await tx.execute("DELETE FROM review_ticket_changes WHERE ticket_id = ?", ticket_id)
    if changes:
        await tx.execute(
            "INSERT INTO review_ticket_changes (ticket_id, changes) VALUES (?, ?)",
            ticket_id,
            json.dumps(changes, sort_keys=True),
        )


async def changes_of(tx: Transaction, ticket_id: str) -> dict[str, object]:
    row = await tx.fetch_one(
        "SELECT changes FROM review_ticket_changes WHERE ticket_id = ?", ticket_id
    )
    found: dict[str, object] = json.loads(row["changes"]) if row else {}
    return found


async def hold(tx: Transaction, ticket_id: str, operator: str, *, at: datetime) -> str:
    """Who holds the ticket after trying to take it for ``operator`` (they, or another)."""
    await tx.execute(
        "INSERT INTO review_ticket_holders (ticket_id, operator, held_since) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        ticket_id,
        operator,
        at.isoformat(),
    )
    holder = await holder_of(tx, ticket_id)
    assert holder is not None
    return holder[0]


async def let_go(tx: Transaction, ticket_id: str, operator: str | None = None) -> bool:
    """Release the ticket (only ``operator``'s hold, when given); whether one was released."""
    if operator is None:
        sql = "DELETE FROM review_ticket_holders WHERE ticket_id = ?"
        return await tx.execute(sql, ticket_id) > 0
    changed = await tx.execute(
        "DELETE FROM review_ticket_holders WHERE ticket_id = ? AND operator = ?",
        ticket_id,
        operator,
    )
    return changed > 0


async def holder_of(tx: Transaction, ticket_id: str) -> tuple[str, datetime] | None:
    row = await tx.fetch_one(
        "SELECT operator, held_since FROM review_ticket_holders WHERE ticket_id = ?", ticket_id
    )
    return None if row is None else (row["operator"], datetime.fromisoformat(row["held_since"]))


async def holders(tx: Transaction) -> dict[str, str]:
    rows = await tx.fetch_all("SELECT ticket_id, operator FROM review_ticket_holders")
    return {row["ticket_id"]: row["operator"] for row in rows}
