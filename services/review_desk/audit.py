"""The desk's audit log: who did what, when, to what, and why. Append-only.

Nothing here updates or deletes an entry. Entries are written in the same transaction
as the change they describe, so a change without its entry (or the reverse) cannot be
committed.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepstream.sql.database import Row, Transaction

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS desk_audit (
        entry_id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS desk_audit_by_subject ON desk_audit (subject, at)",
    "CREATE INDEX IF NOT EXISTS desk_audit_by_time ON desk_audit (at)",
)

EXPORT_FIELDS = ("at", "actor", "action", "subject", "reason", "detail")


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: datetime
    actor: str
    action: str
    subject: str
    reason: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "reason": self.reason,
            "detail": self.detail,
        }


async def record(
    tx: Transaction,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(uuid.uuid4().hex, at, actor, action, subject, reason, detail or {})
    await tx.execute(
        "INSERT INTO desk_audit (entry_id, at, actor, action, subject, reason, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        entry.entry_id,
        at.isoformat(),
        actor,
        action,
        subject,
        reason,
        json.dumps(detail or {}, sort_keys=True),
    )
    return entry


async def entries(
    tx: Transaction, *, subject: str | None = None, limit: int = 1000
) -> list[AuditEntry]:
    """Entries oldest first: all of them, or those about ``subject``."""
    where, args = ("WHERE subject = ? ", [subject]) if subject is not None else ("", [])
    rows = await tx.fetch_all(
        f"SELECT entry_id, at, actor, action, subject, reason, detail FROM desk_audit {where}"
        "ORDER BY at, entry_id LIMIT ?",
        *args,
        limit,
    )
    return [_entry(row) for row in rows]


def as_csv(found: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for entry in found:
        shown = entry.to_json()
        writer.writerow([*(shown[f] for f in EXPORT_FIELDS[:-1]), json.dumps(entry.detail)])
    return out.getvalue()


def _entry(row: Row) -> AuditEntry:
    return AuditEntry(
        row["entry_id"],
        datetime.fromisoformat(row["at"]),
        row["actor"],
        row["action"],
        row["subject"],
        row["reason"],
        json.loads(row["detail"]),
    )
