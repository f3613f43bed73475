"""The embedded execution store: one SQLite file in WAL mode.

Built on the standard ``sqlite3`` module, called inline on the event loop's thread. A
statement here takes tens of microseconds, and handing each call to a thread and back
cost the orchestrator more CPU than the statements themselves (benchmarks/orchestrator.py
measured 7.8 against 6.2 ms per order), so no thread is used. A whole append is one
function, and no coroutine can slip a statement into another's transaction. One writer
connection serialises writes in this process; a second, read-only connection serves
reads. Appends made while a batch waits to be written are committed together in it
(group commit). Other processes may open the same file; ``BEGIN IMMEDIATE`` and the
busy timeout queue their writers behind ours (blocking this loop while they hold the
lock, which their short transactions keep brief). A store is used from one event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from stepstream.sql.sqlite import SYNCHRONOUS_MODES, connect
from stepstream.store import sqlite_sql as sql
from stepstream.store.base import StoreBase
from stepstream.store.errors import StoreNotOpen
from stepstream.store.prepare import (
    PreparedAppend,
    aware_utc,
    check_limit,
    check_status,
    check_text,
    check_version,
    prepare_state_machine,
    utc_now,
)
from stepstream.store.records import (
    Appended,
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    PendingMessage,
    StateMachineRecord,
    StoredEvent,
    Timer,
)
from stepstream.store.sqlite_schema import create_schema

T = TypeVar("T")

# Bounds how long one transaction holds the write lock when appends pile up.
_MAX_BATCH = 256

_Pending = tuple[PreparedAppend, datetime, "asyncio.Future[Appended]"]
_Published = tuple[list[int], "asyncio.Future[None]"]


class _Connection:
    """A sqlite3 connection, called on the thread of the loop that opened it."""

    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None

    def start(self, opener: Callable[[], sqlite3.Connection]) -> None:
        self._conn = opener()

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise StoreNotOpen("SQLiteStore")
        return fn(conn)

    def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class SQLiteStore(StoreBase):
    """An execution store in the SQLite file at ``path`` (created if missing)."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 10_000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if str(path) == ":memory:" or not str(path):
            raise ValueError("SQLiteStore needs a file path; use InMemoryStore for memory")
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_MODES)}")
        self.path = Path(path)
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._writer: _Connection | None = None
        self._reader: _Connection | None = None
        self._queue: list[_Pending] = []
        self._published: list[_Published] = []
        self._flusher: asyncio.Task[None] | None = None

    def _opener(self, *, query_only: bool) -> Callable[[], sqlite3.Connection]:
        return partial(
            connect,
            self.path,
            synchronous=self._synchronous,
            busy_timeout_ms=self._busy_timeout_ms,
            query_only=query_only,
        )

    async def open(self) -> None:
        if self._writer is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer, reader = _Connection(), _Connection()
        try:
            writer.start(self._opener(query_only=False))
            writer.call(create_schema)
            reader.start(self._opener(query_only=True))
        except BaseException:
            reader.stop()
            writer.stop()
            raise
        self._writer, self._reader = writer, reader

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if reader is not None:
            reader.stop()
        if writer is not None:
            writer.stop()

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StoreNotOpen("SQLiteStore")
        return self._writer.call(fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None:
            raise StoreNotOpen("SQLiteStore")
        return self._reader.call(fn)

    def _now(self) -> datetime:
        return aware_utc(self._clock(), "the store's clock")

    async def _append_prepared(self, prepared: PreparedAppend) -> Appended:
        if self._writer is None:
            raise StoreNotOpen("SQLiteStore")
        done: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._queue.append((prepared, self._now(), done))
        self._start_flushing()
        return await done

    def _start_flushing(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        """Write queued appends and published marks, batch by batch, until none are left."""
        try:
            while self._queue or self._published:
                batch, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
                published, self._published = self._published, []
                await self._write_batch(batch, published)
        finally:
            self._flusher = None

    async def _write_batch(self, batch: list[_Pending], published: list[_Published]) -> None:
        work = [(prepared, now) for prepared, now, _ in batch]
        ids = [i for marked, _ in published for i in marked]
        waiting = [done for _, _, done in batch] + [done for _, done in published]
        try:
            outcomes = await self._write(partial(sql.append_batch, batch=work, published=ids))
        except asyncio.CancelledError:
            for done in waiting:
                done.cancel()
            raise
        except Exception as failure:
            for done in waiting:
                if not done.done():
                    done.set_exception(failure)
            return
        for (_, _, appended), outcome in zip(batch, outcomes, strict=True):
            # A caller that stopped waiting still had its append committed (or refused).
            if appended.done():
                continue
            if isinstance(outcome, Appended):
                appended.set_result(outcome)
            else:
                appended.set_exception(outcome)
        for _, marked in published:
            if not marked.done():
                marked.set_result(None)

    async def read(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        check_text(stream_id, "stream_id")
        check_version(after_version, "after_version")
        return await self._read(partial(sql.read_events, stream_id=stream_id, after=after_version))

    async def pending_outbox(self, limit: int = 100) -> list[PendingMessage]:
        check_limit(limit)
        return await self._read(partial(sql.pending_outbox, limit=limit))

    async def mark_published(self, ids: Sequence[int]) -> None:
        """Delete published rows in the next group commit (the relay's marks ride along)."""
        if not ids:
            return
        if self._writer is None:
            raise StoreNotOpen("SQLiteStore")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._published.append((list(ids), done))
        self._start_flushing()
        await done

    async def due_timers(self, now: datetime, limit: int = 100) -> list[Timer]:
        due_by = aware_utc(now, "now")
        check_limit(limit)
        return await self._read(partial(sql.due_timers, due_by=due_by, limit=limit))

    async def get_execution(self, execution_arn: str) -> ExecutionRecord | None:
        check_text(execution_arn, "execution_arn")
        return await self._read(partial(sql.get_execution, arn=execution_arn))

    async def list_executions(
        self,
        state_machine_name: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        *,
        after: ListPosition | None = None,
        redriven: bool | None = None,
    ) -> list[ExecutionRecord]:
        wanted = None if status is None else check_status(status, "status")
        check_limit(limit)
        return await self._read(
            partial(
                sql.list_executions,
                machine=state_machine_name,
                status=wanted,
                limit=limit,
                after=after,
                redriven=redriven,
            )
        )

    async def put_state_machine(self, name: str, definition: str, bindings: str) -> int:
        prepared = prepare_state_machine(name, definition, bindings)
        return await self._write(partial(sql.put_state_machine, p=prepared, now=self._now()))

    async def get_state_machine(
        self, name: str, version: int | None = None
    ) -> StateMachineRecord | None:
        check_text(name, "state machine name")
        if version is not None:
            check_version(version, "version")
        return await self._read(partial(sql.get_state_machine, name=name, version=version))

    async def list_state_machines(self) -> list[StateMachineRecord]:
        return await self._read(sql.list_state_machines)

    async def delete_state_machine(self, name: str) -> bool:
        check_text(name, "state machine name")
        return await self._write(partial(sql.delete_state_machine, name=name, now=self._now()))
