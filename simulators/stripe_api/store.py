"""Where the stand-in keeps its state between runs: nowhere, or a SQLite file.

State lives in memory while the server runs; a store only records each request's
changes (the objects it touched and the answer kept for its idempotency key) in one
transaction, and hands everything back on start. With the SQLite store a restarted
stand-in keeps its ledger and still honours the idempotency keys it has seen, so a
client retrying across the restart is not charged twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from .idempotency import StoredAnswer
from .records import ChargeRecord, PaymentIntentRecord, PaymentMethodRecord, Record, RefundRecord

_KINDS: dict[str, type[BaseModel]] = {
    "payment_intent": PaymentIntentRecord,
    "charge": ChargeRecord,
    "refund": RefundRecord,
    "payment_method": PaymentMethodRecord,
}


def _kind_of(record: Record) -> str:
    for kind, model in _KINDS.items():
        if isinstance(record, model):
            return kind
    raise TypeError(f"not a stand-in record: {type(record).__name__}")


@dataclass
class Snapshot:
    records: list[Record] = field(default_factory=list)
    answers: list[StoredAnswer] = field(default_factory=list)


class StateStore(Protocol):
    def load(self) -> Snapshot:
        """Everything saved so far, objects in the order they were first saved."""
        ...

    def save(self, records: Sequence[Record], answer: StoredAnswer | None) -> None:
        """Record one request's changes, all or nothing."""
        ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Keeps nothing: state ends with the process."""

    def load(self) -> Snapshot:
        return Snapshot()

    def save(self, records: Sequence[Record], answer: StoredAnswer | None) -> None:
        return None

    def clear(self) -> None:
        return None

    def close(self) -> None:
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"""


class SqliteStore:
    """One SQLite file; each request's changes are one transaction.

    The standard library's synchronous driver is used on purpose: a save is a small
    local write, and doing it without yielding to the event loop keeps each request's
    read-check-write atomic with no lock.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def load(self) -> Snapshot:
        snapshot = Snapshot()
        for kind, body in self._db.execute("SELECT kind, body FROM objects ORDER BY rowid"):
            model = _KINDS.get(kind)
            if model is None:
                raise ValueError(f"unknown object kind {kind!r} in the state file")
            record = model.model_validate_json(body)
            assert isinstance(
                record, PaymentIntentRecord | ChargeRecord | RefundRecord | PaymentMethodRecord
            )
            snapshot.records.append(record)
        for (body,) in self._db.execute("SELECT body FROM answers ORDER BY rowid"):
            snapshot.answers.append(StoredAnswer.model_validate_json(body))
        return snapshot

    def save(self, records: Sequence[Record], answer: StoredAnswer | None) -> None:
        if not records and answer is None:
            return
        with _transaction(self._db):
            for record in records:
                # An update keeps the row (and so its place in the load order).
                self._db.execute(
                    "INSERT INTO objects (id, kind, body) VALUES (?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    (record.id, _kind_of(record), record.model_dump_json()),
                )
            if answer is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO answers (scope, key, body) VALUES (?, ?, ?)",
                    (answer.scope, answer.key, answer.model_dump_json()),
                )

    def clear(self) -> None:
        with _transaction(self._db):
            self._db.execute("DELETE FROM objects")
            self._db.execute("DELETE FROM answers")

    def close(self) -> None:
        self._db.close()


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
