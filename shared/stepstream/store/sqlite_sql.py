"""The SQLite store's statements, as plain functions of a connection.

A whole append is one function, so it runs as one unit on the connection and no other
coroutine can interleave statements inside its transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from stepstream.sql.sqlite import write_transaction
from stepstream.store.errors import (
    ConcurrencyError,
    DuplicateExecutionName,
    OwnedByAnotherStream,
    StoreError,
)
from stepstream.store.prepare import (
    UPSERT_EXECUTION,
    PreparedAppend,
    PreparedStateMachine,
    decode_headers,
    decode_object,
    encode_headers,
    execution_row,
    from_micros,
    to_micros,
)
from stepstream.store.records import (
    Appended,
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    OutboxMessage,
    PendingMessage,
    StateMachineRecord,
    StoredEvent,
    Timer,
)


def stream_version(conn: sqlite3.Connection, stream_id: str) -> int:
    row = conn.execute("SELECT version FROM streams WHERE stream_id = ?", (stream_id,)).fetchone()
    return 0 if row is None else int(row[0])


def append_batch(
    conn: sqlite3.Connection,
    batch: Sequence[tuple[PreparedAppend, datetime]],
    published: Sequence[int] = (),
) -> list[Appended | StoreError | ValueError]:
    """Run several appends in one transaction, each all-or-nothing on its own.

    The outbox rows ``published`` are deleted in the same transaction: the relay's marks
    then cost no commit of their own.

    This is group commit: appends that queued up while the previous batch was being
    written share one COMMIT, which is most of an append's cost. Each runs inside its
    own savepoint, so one refused append leaves the others in the batch untouched, and
    each sees the ones before it (two racers in one batch: the second is refused).
    An unexpected database error undoes the whole batch and is raised to all of it.
    """
    outcomes: list[Appended | StoreError | ValueError] = []
    with write_transaction(conn):
        if published:
            _delete_published(conn, published)
        for prepared, now in batch:
            conn.execute("SAVEPOINT append")
            try:
                _check(conn, prepared)
                outcomes.append(_write(conn, prepared, now))
            except (StoreError, ValueError) as refused:
                conn.execute("ROLLBACK TO append")
                outcomes.append(refused)
            conn.execute("RELEASE append")
    return outcomes


def _check(conn: sqlite3.Connection, p: PreparedAppend) -> None:
    actual = stream_version(conn, p.stream_id)
    if actual != p.expected_version:
        raise ConcurrencyError(p.stream_id, p.expected_version, actual)
    _check_timer_owners(conn, p)
    if p.execution is not None:
        _check_execution(conn, p.stream_id, p.execution)


def _check_timer_owners(conn: sqlite3.Connection, p: PreparedAppend) -> None:
    if not p.timers_set:
        return
    ids = [t.timer_id for t in p.timers_set]
    marks = ",".join("?" * len(ids))
    sql = f"SELECT timer_id, stream_id FROM timers WHERE timer_id IN ({marks}) AND stream_id <> ?"
    row = conn.execute(sql, [*ids, p.stream_id]).fetchone()
    if row is not None:
        raise OwnedByAnotherStream(f"timer {row[0]!r}", row[1], p.stream_id)


def _check_execution(conn: sqlite3.Connection, stream_id: str, record: ExecutionRecord) -> None:
    owner = conn.execute(
        "SELECT stream_id FROM executions WHERE execution_arn = ?", (record.execution_arn,)
    ).fetchone()
    if owner is not None and owner[0] != stream_id:
        raise OwnedByAnotherStream(f"execution {record.execution_arn!r}", owner[0], stream_id)
    clash = conn.execute(
        "SELECT execution_arn FROM executions "
        "WHERE state_machine_name = ? AND name = ? AND execution_arn <> ?",
        (record.state_machine_name, record.name, record.execution_arn),
    ).fetchone()
    if clash is not None:
        raise DuplicateExecutionName(record.state_machine_name, record.name, clash[0])


def _write(conn: sqlite3.Connection, p: PreparedAppend, recorded_at: datetime) -> Appended:
    now = to_micros(recorded_at)
    sid, base = p.stream_id, p.expected_version
    conn.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
        [(sid, base + i, e.type, e.data_json, now) for i, e in enumerate(p.events, 1)],
    )
    conn.execute(
        "INSERT INTO streams VALUES (?, ?) "
        "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
        (sid, p.new_version),
    )
    written = _write_outbox(conn, p, recorded_at) if p.outbox else ()
    if p.timers_cleared or p.timers_set:
        _write_timers(conn, p)
    if p.execution is not None:
        _upsert_execution(conn, sid, p.execution)
    return Appended(p.new_version, written)


def _write_outbox(
    conn: sqlite3.Connection, p: PreparedAppend, recorded_at: datetime
) -> tuple[PendingMessage, ...]:
    sid, now = p.stream_id, to_micros(recorded_at)
    conn.executemany(
        "INSERT INTO outbox (stream_id, topic, key, value, headers, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(sid, m.topic, m.key, m.value, encode_headers(m.headers), now) for m in p.outbox],
    )
    # The rows got consecutive ids: this connection holds the write lock, and
    # AUTOINCREMENT hands out the next ids in insertion order.
    last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
    first = last - len(p.outbox) + 1
    return tuple(
        PendingMessage(first + i, sid, message, recorded_at) for i, message in enumerate(p.outbox)
    )


def _write_timers(conn: sqlite3.Connection, p: PreparedAppend) -> None:
    sid = p.stream_id
    conn.executemany(
        "DELETE FROM timers WHERE timer_id = ? AND stream_id = ?",
        [(timer_id, sid) for timer_id in p.timers_cleared],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO timers VALUES (?, ?, ?, ?)",
        [(t.timer_id, sid, to_micros(t.due_at), t.payload_json) for t in p.timers_set],
    )


def _upsert_execution(conn: sqlite3.Connection, stream_id: str, r: ExecutionRecord) -> None:
    conn.execute(UPSERT_EXECUTION, execution_row(stream_id, r, to_micros))


def read_events(conn: sqlite3.Connection, stream_id: str, after: int) -> list[StoredEvent]:
    rows = conn.execute(
        "SELECT version, type, data, recorded_at FROM events "
        "WHERE stream_id = ? AND version > ? ORDER BY version",
        (stream_id, after),
    ).fetchall()
    return [
        StoredEvent(stream_id, version, type_, decode_object(data), from_micros(at))
        for version, type_, data, at in rows
    ]


def pending_outbox(conn: sqlite3.Connection, limit: int) -> list[PendingMessage]:
    rows = conn.execute(
        "SELECT id, stream_id, topic, key, value, headers, recorded_at FROM outbox "
        "ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        PendingMessage(
            id_, sid, OutboxMessage(topic, value, key, decode_headers(headers)), from_micros(at)
        )
        for id_, sid, topic, key, value, headers, at in rows
    ]


def _delete_published(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def due_timers(conn: sqlite3.Connection, due_by: datetime, limit: int) -> list[Timer]:
    rows = conn.execute(
        "SELECT timer_id, stream_id, due_at, payload FROM timers "
        "WHERE due_at <= ? ORDER BY due_at, timer_id LIMIT ?",
        (to_micros(due_by), limit),
    )
    return [
        Timer(timer_id, sid, from_micros(due), decode_object(payload))
        for timer_id, sid, due, payload in rows
    ]


_EXECUTION_COLUMNS = (
    "execution_arn, state_machine_name, state_machine_version, name, status, input, "
    "start_date, output, error, cause, stop_date, redrive_count, redrive_date"
)


def _execution(row: tuple[Any, ...]) -> ExecutionRecord:
    arn, machine, version, name, status, input_, start, output, error, cause, stop = row[:11]
    redrives, redriven = row[11:]
    return ExecutionRecord(
        arn,
        machine,
        version,
        name,
        ExecutionStatus(status),
        input_,
        from_micros(start),
        output,
        error,
        cause,
        None if stop is None else from_micros(stop),
        redrives,
        None if redriven is None else from_micros(redriven),
    )


def get_execution(conn: sqlite3.Connection, arn: str) -> ExecutionRecord | None:
    row = conn.execute(
        f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE execution_arn = ?", (arn,)
    ).fetchone()
    return None if row is None else _execution(row)


def list_executions(
    conn: sqlite3.Connection,
    machine: str | None,
    status: ExecutionStatus | None,
    limit: int,
    after: ListPosition | None = None,
    redriven: bool | None = None,
) -> list[ExecutionRecord]:
    where: list[str] = []
    args: list[Any] = []
    if redriven is not None:
        where.append("redrive_count > 0" if redriven else "redrive_count = 0")
    if after is not None:
        where.append("(start_date < ? OR (start_date = ? AND execution_arn > ?))")
        mark = to_micros(after.start_date)
        args += [mark, mark, after.execution_arn]
    if machine is not None:
        where.append("state_machine_name = ?")
        args.append(machine)
    if status is not None:
        where.append("status = ?")
        args.append(status.value)
    sql = f"SELECT {_EXECUTION_COLUMNS} FROM executions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY start_date DESC, execution_arn LIMIT ?"
    return [_execution(row) for row in conn.execute(sql, [*args, limit])]


def put_state_machine(conn: sqlite3.Connection, p: PreparedStateMachine, now: datetime) -> int:
    with write_transaction(conn):
        latest = conn.execute(
            "SELECT version, fingerprint FROM state_machines WHERE name = ? "
            "ORDER BY version DESC LIMIT 1",
            (p.name,),
        ).fetchone()
        conn.execute("DELETE FROM deleted_state_machines WHERE name = ?", (p.name,))
        if latest is not None and latest[1] == p.fingerprint:
            return int(latest[0])
        version = 1 if latest is None else int(latest[0]) + 1
        conn.execute(
            "INSERT INTO state_machines VALUES (?, ?, ?, ?, ?, ?)",
            (p.name, version, p.definition, p.bindings, p.fingerprint, to_micros(now)),
        )
    return version


_MACHINE_COLUMNS = "name, version, definition, bindings, created_at"


def _machine(row: tuple[Any, ...]) -> StateMachineRecord:
    name, version, definition, bindings, created = row
    return StateMachineRecord(name, version, definition, bindings, from_micros(created))


def get_state_machine(
    conn: sqlite3.Connection, name: str, version: int | None
) -> StateMachineRecord | None:
    sql = f"SELECT {_MACHINE_COLUMNS} FROM state_machines WHERE name = ?"
    if version is None:
        sql += f" AND {_NOT_DELETED}"
        row = conn.execute(sql + " ORDER BY version DESC LIMIT 1", (name,)).fetchone()
    else:
        row = conn.execute(sql + " AND version = ?", (name, version)).fetchone()
    return None if row is None else _machine(row)


def list_state_machines(conn: sqlite3.Connection) -> list[StateMachineRecord]:
    rows = conn.execute(
        f"SELECT {_MACHINE_COLUMNS} FROM state_machines AS s "
        "WHERE version = (SELECT MAX(version) FROM state_machines WHERE name = s.name) "
        f"AND {_NOT_DELETED} ORDER BY name"
    )
    return [_machine(row) for row in rows]


_NOT_DELETED = "name NOT IN (SELECT name FROM deleted_state_machines)"


def delete_state_machine(conn: sqlite3.Connection, name: str, now: datetime) -> bool:
    with write_transaction(conn):
        cursor = conn.execute(
            "INSERT OR IGNORE INTO deleted_state_machines "
            "SELECT DISTINCT name, ? FROM state_machines WHERE name = ?",
            (to_micros(now), name),
        )
        return cursor.rowcount > 0
