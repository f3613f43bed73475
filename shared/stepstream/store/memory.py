"""An execution store in memory: the fake for unit tests, with the real stores' rules.

It checks and encodes input exactly as the durable stores do and keeps JSON as text,
so a test against it sees the same errors and gets the same fresh copies back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from stepstream.store.base import StoreBase
from stepstream.store.errors import (
    ConcurrencyError,
    DuplicateExecutionName,
    OwnedByAnotherStream,
    StoreNotOpen,
)
from stepstream.store.prepare import (
    PreparedAppend,
    aware_utc,
    check_limit,
    check_status,
    check_text,
    check_version,
    decode_object,
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


@dataclass(frozen=True, slots=True)
class _Row:
    type: str
    data_json: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class _TimerRow:
    stream_id: str
    due_at: datetime
    payload_json: str


@dataclass(frozen=True, slots=True)
class _MachineRow:
    record: StateMachineRecord
    fingerprint: str


class InMemoryStore(StoreBase):
    """A store that lives as long as the object; ``clock`` stamps what it records."""

    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._open = False
        self._streams: dict[str, list[_Row]] = {}
        self._outbox: dict[int, PendingMessage] = {}
        self._last_outbox_id = 0
        self._timers: dict[str, _TimerRow] = {}
        self._executions: dict[str, tuple[str, ExecutionRecord]] = {}
        self._machines: dict[str, list[_MachineRow]] = {}
        self._deleted_machines: set[str] = set()

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    def _now(self) -> datetime:
        return aware_utc(self._clock(), "the store's clock")

    def _check_open(self) -> None:
        if not self._open:
            raise StoreNotOpen("InMemoryStore")

    async def _append_prepared(self, prepared: PreparedAppend) -> Appended:
        self._check_open()
        # Every check runs before the first write, and nothing here awaits, so an
        # append is atomic with respect to every other coroutine.
        self._check_append(prepared)
        return self._write(prepared, self._now())

    def _check_append(self, p: PreparedAppend) -> None:
        actual = len(self._streams.get(p.stream_id, ()))
        if actual != p.expected_version:
            raise ConcurrencyError(p.stream_id, p.expected_version, actual)
        for timer in p.timers_set:
            row = self._timers.get(timer.timer_id)
            if row is not None and row.stream_id != p.stream_id:
                raise OwnedByAnotherStream(f"timer {timer.timer_id!r}", row.stream_id, p.stream_id)
        if p.execution is not None:
            self._check_execution(p.stream_id, p.execution)

    def _check_execution(self, stream_id: str, record: ExecutionRecord) -> None:
        known = self._executions.get(record.execution_arn)
        if known is not None and known[0] != stream_id:
            raise OwnedByAnotherStream(f"execution {record.execution_arn!r}", known[0], stream_id)
        for arn, (_, other) in self._executions.items():
            same_name = (other.state_machine_name, other.name) == (
                record.state_machine_name,
                record.name,
            )
            if same_name and arn != record.execution_arn:
                raise DuplicateExecutionName(record.state_machine_name, record.name, arn)

    def _write(self, p: PreparedAppend, now: datetime) -> Appended:
        rows = self._streams.setdefault(p.stream_id, [])
        rows.extend(_Row(e.type, e.data_json, now) for e in p.events)
        written = []
        for message in p.outbox:
            self._last_outbox_id += 1
            pending = PendingMessage(self._last_outbox_id, p.stream_id, message, now)
            self._outbox[self._last_outbox_id] = pending
            written.append(pending)
        for timer_id in p.timers_cleared:
            row = self._timers.get(timer_id)
            if row is not None and row.stream_id == p.stream_id:
                del self._timers[timer_id]
        for timer in p.timers_set:
            self._timers[timer.timer_id] = _TimerRow(p.stream_id, timer.due_at, timer.payload_json)
        if p.execution is not None:
            self._executions[p.execution.execution_arn] = (p.stream_id, p.execution)
        return Appended(p.new_version, tuple(written))

    async def read(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        self._check_open()
        check_text(stream_id, "stream_id")
        check_version(after_version, "after_version")
        rows = self._streams.get(stream_id, [])
        return [
            StoredEvent(stream_id, version, row.type, decode_object(row.data_json), row.recorded_at)
            for version, row in enumerate(rows[after_version:], start=after_version + 1)
        ]

    async def pending_outbox(self, limit: int = 100) -> list[PendingMessage]:
        self._check_open()
        check_limit(limit)
        return list(self._outbox.values())[:limit]

    async def mark_published(self, ids: Sequence[int]) -> None:
        self._check_open()
        for message_id in ids:
            self._outbox.pop(message_id, None)

    async def due_timers(self, now: datetime, limit: int = 100) -> list[Timer]:
        self._check_open()
        moment = aware_utc(now, "now")
        check_limit(limit)
        return [t for t in self._sorted_timers() if t.due_at <= moment][:limit]

    def _sorted_timers(self) -> list[Timer]:
        timers = [
            Timer(timer_id, row.stream_id, row.due_at, decode_object(row.payload_json))
            for timer_id, row in self._timers.items()
        ]
        return sorted(timers, key=lambda t: (t.due_at, t.timer_id))

    async def get_execution(self, execution_arn: str) -> ExecutionRecord | None:
        self._check_open()
        check_text(execution_arn, "execution_arn")
        known = self._executions.get(execution_arn)
        return None if known is None else known[1]

    async def list_executions(
        self,
        state_machine_name: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        *,
        after: ListPosition | None = None,
        redriven: bool | None = None,
    ) -> list[ExecutionRecord]:
        self._check_open()
        check_limit(limit)
        wanted = None if status is None else check_status(status, "status")
        records = [
            record
            for _, record in self._executions.values()
            if state_machine_name in (None, record.state_machine_name)
            and wanted in (None, record.status)
            and (after is None or _comes_after(record, after))
            and redriven in (None, record.redrive_count > 0)
        ]
        records.sort(key=lambda r: r.execution_arn)
        records.sort(key=lambda r: r.start_date, reverse=True)
        return records[:limit]

    async def put_state_machine(self, name: str, definition: str, bindings: str) -> int:
        self._check_open()
        prepared = prepare_state_machine(name, definition, bindings)
        versions = self._machines.setdefault(name, [])
        self._deleted_machines.discard(name)
        if versions and versions[-1].fingerprint == prepared.fingerprint:
            return versions[-1].record.version
        record = StateMachineRecord(
            name, len(versions) + 1, prepared.definition, prepared.bindings, self._now()
        )
        versions.append(_MachineRow(record, prepared.fingerprint))
        return record.version

    async def get_state_machine(
        self, name: str, version: int | None = None
    ) -> StateMachineRecord | None:
        self._check_open()
        check_text(name, "state machine name")
        versions = self._machines.get(name, [])
        if version is None:
            return versions[-1].record if versions and name not in self._deleted_machines else None
        check_version(version, "version")
        return versions[version - 1].record if 1 <= version <= len(versions) else None

    async def list_state_machines(self) -> list[StateMachineRecord]:
        self._check_open()
        return [
            self._machines[name][-1].record
            for name in sorted(self._machines)
            if name not in self._deleted_machines
        ]

    async def delete_state_machine(self, name: str) -> bool:
        self._check_open()
        check_text(name, "state machine name")
        if name not in self._machines or name in self._deleted_machines:
            return False
        self._deleted_machines.add(name)
        return True


def _comes_after(record: ExecutionRecord, mark: ListPosition) -> bool:
    """Whether ``record`` lists after ``mark``: newest start first, then by ARN."""
    if record.start_date != mark.start_date:
        return record.start_date < mark.start_date
    return record.execution_arn > mark.execution_arn
