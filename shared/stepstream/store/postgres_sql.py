"""The PostgreSQL store's statements, each run on a connection the store hands in.

Rows go in as arrays through ``unnest``, so a statement costs one round trip however
many rows it carries. Queries name tables unqualified: the pool sets
``search_path`` to the store's schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stepstream.sql.postgres import numbered
from stepstream.store.errors import (
    ConcurrencyError,
    DuplicateExecutionName,
    OwnedByAnotherStream,
)
from stepstream.store.prepare import (
    UPSERT_EXECUTION,
    PreparedAppend,
    decode_headers,
    decode_object,
    encode_headers,
    execution_row,
)
from stepstream.store.records import (
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    OutboxMessage,
    PendingMessage,
    StateMachineRecord,
    StoredEvent,
    Timer,
)

# asyncpg ships no type information; a connection is only ever passed through here.
Connection = Any


_MOVE_STREAM = "UPDATE streams SET version = $3 WHERE stream_id = $1 AND version = $2 RETURNING 1"
# A first append may also find a row at version 0, left by an append without events.
_START_STREAM = (
    "INSERT INTO streams VALUES ($1, $3) ON CONFLICT (stream_id) "
    "DO UPDATE SET version = excluded.version WHERE streams.version = 0 RETURNING 1"
)
_WRITE_CORE = """
WITH moved AS ({move}),
new_events AS (
    INSERT INTO events
    SELECT $1, $2 + n, t, d::json, $4
    FROM unnest($5::text[], $6::text[]) WITH ORDINALITY AS u(t, d, n)
    WHERE EXISTS (SELECT FROM moved)
),
new_messages AS (
    INSERT INTO outbox (stream_id, topic, key, value, headers, recorded_at)
    SELECT $1, t, k, v, h, $4
    FROM unnest($7::text[], $8::bytea[], $9::bytea[], $10::text[]) WITH ORDINALITY
        AS u(t, k, v, h, n)
    WHERE EXISTS (SELECT FROM moved)
    ORDER BY n
    RETURNING id
)
SELECT (SELECT count(*) FROM moved), ARRAY(SELECT id FROM new_messages ORDER BY id)
"""


_UPSERT_EXECUTION = numbered(UPSERT_EXECUTION)


async def write_core(
    conn: Connection, p: PreparedAppend, now: datetime
) -> tuple[PendingMessage, ...]:
    """Move the stream to its new version and write its events and outbox, in one statement.

    Everything hangs on the stream's row: the UPDATE (or first INSERT) locks it until
    commit, so a racing appender waits, then finds the version moved and matches
    nothing, and a statement that matches nothing writes nothing. One statement is also
    one round trip, and on its own (no other effects) it needs no explicit transaction.
    Outbox ids are drawn in the order the caller gave the messages (ORDER BY n); the
    written rows are returned in that order.
    """
    move = _START_STREAM if p.expected_version == 0 else _MOVE_STREAM
    moved, ids = await conn.fetchrow(
        _WRITE_CORE.format(move=move),
        p.stream_id,
        p.expected_version,
        p.new_version,
        now,
        [e.type for e in p.events],
        [e.data_json for e in p.events],
        [m.topic for m in p.outbox],
        [m.key for m in p.outbox],
        [m.value for m in p.outbox],
        [encode_headers(m.headers) for m in p.outbox],
    )
    if not moved:
        actual = await conn.fetchval(
            "SELECT version FROM streams WHERE stream_id = $1", p.stream_id
        )
        raise ConcurrencyError(p.stream_id, p.expected_version, actual or 0)
    return tuple(
        PendingMessage(id_, p.stream_id, message, now)
        for id_, message in zip(ids, p.outbox, strict=True)
    )


async def write_timers(conn: Connection, p: PreparedAppend) -> None:
    if p.timers_cleared:
        await conn.execute(
            "DELETE FROM timers WHERE stream_id = $1 AND timer_id = ANY($2::text[])",
            p.stream_id,
            list(p.timers_cleared),
        )
    if not p.timers_set:
        return
    rows = await conn.fetch(
        "INSERT INTO timers SELECT t, $1, d, x::json "
        "FROM unnest($2::text[], $3::timestamptz[], $4::text[]) AS u(t, d, x) "
        "ON CONFLICT (timer_id) DO UPDATE SET due_at = excluded.due_at, "
        "payload = excluded.payload WHERE timers.stream_id = excluded.stream_id "
        "RETURNING timer_id",
        p.stream_id,
        [t.timer_id for t in p.timers_set],
        [t.due_at for t in p.timers_set],
        [t.payload_json for t in p.timers_set],
    )
    refused = {t.timer_id for t in p.timers_set} - {row[0] for row in rows}
    if refused:
        timer_id = min(refused)
        owner = await conn.fetchval("SELECT stream_id FROM timers WHERE timer_id = $1", timer_id)
        raise OwnedByAnotherStream(f"timer {timer_id!r}", owner, p.stream_id)


async def upsert_execution(conn: Connection, stream_id: str, r: ExecutionRecord) -> None:
    """Write the index row; a name held by a racing append fails on the unique key."""
    rows = await conn.fetch(
        "SELECT execution_arn, stream_id FROM executions "
        "WHERE execution_arn = $1 OR (state_machine_name = $2 AND name = $3)",
        r.execution_arn,
        r.state_machine_name,
        r.name,
    )
    for arn, owner in rows:
        if arn == r.execution_arn and owner != stream_id:
            raise OwnedByAnotherStream(f"execution {arn!r}", owner, stream_id)
    for arn, _ in rows:
        if arn != r.execution_arn:
            raise DuplicateExecutionName(r.state_machine_name, r.name, arn)
    await conn.execute(_UPSERT_EXECUTION, *execution_row(stream_id, r))


async def existing_execution_named(conn: Connection, machine: str, name: str) -> str | None:
    arn: str | None = await conn.fetchval(
        "SELECT execution_arn FROM executions WHERE state_machine_name = $1 AND name = $2",
        machine,
        name,
    )
    return arn


async def read_events(conn: Connection, stream_id: str, after: int) -> list[StoredEvent]:
    rows = await conn.fetch(
        "SELECT version, type, data, recorded_at FROM events "
        "WHERE stream_id = $1 AND version > $2 ORDER BY version",
        stream_id,
        after,
    )
    return [StoredEvent(stream_id, v, t, decode_object(d), at) for v, t, d, at in rows]


async def pending_outbox(conn: Connection, limit: int) -> list[PendingMessage]:
    rows = await conn.fetch(
        "SELECT id, stream_id, topic, key, value, headers, recorded_at FROM outbox "
        "ORDER BY id LIMIT $1",
        limit,
    )
    return [
        PendingMessage(id_, sid, OutboxMessage(topic, value, key, decode_headers(headers)), at)
        for id_, sid, topic, key, value, headers, at in rows
    ]


async def due_timers(conn: Connection, due_by: datetime, limit: int) -> list[Timer]:
    rows = await conn.fetch(
        "SELECT timer_id, stream_id, due_at, payload FROM timers "
        "WHERE due_at <= $1 ORDER BY due_at, timer_id LIMIT $2",
        due_by,
        limit,
    )
    return [Timer(t, sid, due, decode_object(payload)) for t, sid, due, payload in rows]


EXECUTION_COLUMNS = (
    "execution_arn, state_machine_name, state_machine_version, name, status, input, "
    "start_date, output, error, cause, stop_date, redrive_count, redrive_date"
)


def execution_from_row(row: Any) -> ExecutionRecord:
    arn, machine, version, name, status, input_, start, output, error, cause, stop = row[:11]
    redrives, redriven = row[11], row[12]
    return ExecutionRecord(
        arn, machine, version, name, ExecutionStatus(status), input_, start, output, error,
        cause, stop, redrives, redriven,
    )  # fmt: skip


async def list_executions(
    conn: Connection,
    machine: str | None,
    status: ExecutionStatus | None,
    limit: int,
    after: ListPosition | None = None,
    redriven: bool | None = None,
) -> list[ExecutionRecord]:
    rows = await conn.fetch(
        f"SELECT {EXECUTION_COLUMNS} FROM executions "
        "WHERE ($1::text IS NULL OR state_machine_name = $1) "
        "AND ($2::text IS NULL OR status = $2) "
        "AND ($6::boolean IS NULL OR (redrive_count > 0) = $6) "
        "AND ($4::timestamptz IS NULL "
        "OR start_date < $4 OR (start_date = $4 AND execution_arn > $5)) "
        "ORDER BY start_date DESC, execution_arn LIMIT $3",
        machine,
        None if status is None else status.value,
        limit,
        None if after is None else after.start_date,
        None if after is None else after.execution_arn,
        redriven,
    )
    return [execution_from_row(row) for row in rows]


MACHINE_COLUMNS = "name, version, definition, bindings, created_at"


def machine_from_row(row: Any) -> StateMachineRecord:
    name, version, definition, bindings, created = row
    return StateMachineRecord(name, version, definition, bindings, created)
