"""The SQLite schema and connection settings.

Times are integer microseconds since the epoch (UTC): exact, compact, and ordered the
same as the datetimes they stand for, which the timer and listing queries rely on.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from stepstream.store.errors import StoreError

SCHEMA_VERSION = 1

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
    """CREATE TABLE IF NOT EXISTS processed_messages (
        message_id TEXT PRIMARY KEY,
        stream_id TEXT NOT NULL,
        processed_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS state_machines (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        bindings TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (name, version)
    ) WITHOUT ROWID""",
)

SYNCHRONOUS_MODES = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})


def _switch_to_wal(conn: sqlite3.Connection, timeout_ms: int) -> str:
    """Ask for WAL, waiting out another connection that opens the same new file.

    The switch needs the file to itself, and SQLite answers "database is locked" at once,
    without its busy handler, when two connections race to make it on a fresh file.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def connect(
    path: Path, *, synchronous: str, busy_timeout_ms: int, query_only: bool
) -> sqlite3.Connection:
    """A connection in WAL mode with explicit transactions (autocommit otherwise).

    WAL lets readers run while the one writer commits; NORMAL synchronous in WAL mode
    survives a process crash at any moment and only risks the last commits on power loss.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        mode = _switch_to_wal(conn, busy_timeout_ms)
        if str(mode).lower() != "wal":
            raise StoreError(f"SQLite at {path} refused WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-16000")
        if query_only:
            conn.execute("PRAGMA query_only=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table if missing; refuse a file made by a newer schema."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the SQLite store has schema version {found}; this stepstream knows "
                f"up to {SCHEMA_VERSION}"
            )
        for statement in _TABLES:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
