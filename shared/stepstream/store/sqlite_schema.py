"""The SQLite store's schema (connections come from ``stepstream.sql.sqlite``).

Times are integer microseconds since the epoch (UTC): exact, compact, and ordered the
same as the datetimes they stand for, which the timer and listing queries rely on.
"""

from __future__ import annotations

import sqlite3

from stepstream.sql.sqlite import write_transaction
from stepstream.store.errors import StoreError

SCHEMA_VERSION = 2

_TABLES = (
    """CREATE TABLE IF NOT EXISTS streams (
        stream_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS events (
        stream_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (stream_id, version)
    ) WITHOUT ROWID""",
    # AUTOINCREMENT so that an id is never reused after its row is published and
    # deleted: a late mark_published must not remove a newer message.
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        key BLOB,
        value BLOB NOT NULL,
        headers TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS timers (
        timer_id TEXT PRIMARY KEY,
        stream_id TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        payload TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS timers_by_due ON timers (due_at, timer_id)",
    """CREATE TABLE IF NOT EXISTS executions (
        execution_arn TEXT PRIMARY KEY,
        stream_id TEXT NOT NULL,
        state_machine_name TEXT NOT NULL,
        state_machine_version INTEGER NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        start_date INTEGER NOT NULL,
        stop_date INTEGER,
        UNIQUE (state_machine_name, name)
    )""",
    "CREATE INDEX IF NOT EXISTS executions_by_start ON executions (start_date, execution_arn)",
    "CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, start_date)",
    """CREATE TABLE IF NOT EXISTS state_machines (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        bindings TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (name, version)
    ) WITHOUT ROWID""",
    # A deleted state machine keeps its versions (executions still running need them);
    # only its name is gone, until it is created again.
    """CREATE TABLE IF NOT EXISTS deleted_state_machines (
        name TEXT PRIMARY KEY,
        deleted_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
)


# What each version adds to the one before; a file is brought up to date step by step.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE executions ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE executions ADD COLUMN redrive_date INTEGER",
    ),
}


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table if missing; refuse a file made by a newer schema."""
    with write_transaction(conn):
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the SQLite store has schema version {found}; this stepstream knows "
                f"up to {SCHEMA_VERSION}"
            )
        for statement in _TABLES:
            conn.execute(statement)
        for version in range(max(found, 1) + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
