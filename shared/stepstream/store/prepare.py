"""Checking and encoding what callers hand the store, shared by every backend.

All backends validate through here before touching their data, so malformed input is
refused with the same message everywhere and an append either writes all or nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from stepstream.store.records import (
    ExecutionRecord,
    ExecutionStatus,
    NewEvent,
    OutboxMessage,
    Timer,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    """The default clock of every store."""
    return datetime.now(UTC)


def encode_json(value: Any, what: str) -> str:
    """Compact JSON text for ``value``, or a ValueError naming ``what`` is not JSON."""
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON-serialisable: {exc}") from exc


_DECODER = json.JSONDecoder()


def decode_object(text: str) -> dict[str, Any]:
    """Decode JSON text the store itself wrote as an object."""
    # raw_decode skips json.loads' argument sniffing; the text is our own, so well-formed.
    value: dict[str, Any] = _DECODER.raw_decode(text)[0]
    return value


def parse_json_text(text: str, what: str) -> Any:
    """Parse JSON text from a caller, or a ValueError naming ``what`` is not JSON."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be JSON text (str), not {type(text).__name__}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON text: {exc}") from exc


def aware_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; a naive datetime is refused since its zone would be a guess."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, and ordered the same as the datetimes."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


@lru_cache(maxsize=4096)
def from_micros(micros: int) -> datetime:
    # Cached: the events of one append share one timestamp, and datetimes are immutable.
    return _EPOCH + timedelta(microseconds=micros)


def encode_headers(headers: tuple[tuple[str, bytes], ...]) -> str:
    return json.dumps([[k, base64.b64encode(v).decode("ascii")] for k, v in headers])


def decode_headers(text: str) -> tuple[tuple[str, bytes], ...]:
    return tuple((k, base64.b64decode(v)) for k, v in json.loads(text))


def check_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    return limit


def check_version(version: int, what: str) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"{what} must be an integer >= 0, got {version!r}")
    return version


def check_status(status: str, what: str) -> ExecutionStatus:
    try:
        return ExecutionStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in ExecutionStatus)
        raise ValueError(f"{what} {status!r} is not one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    type: str
    data_json: str


@dataclass(frozen=True, slots=True)
class PreparedTimer:
    timer_id: str
    due_at: datetime
    payload_json: str


@dataclass(frozen=True, slots=True)
class PreparedAppend:
    """An append whose every part has been checked and encoded."""

    stream_id: str
    expected_version: int
    events: tuple[PreparedEvent, ...]
    outbox: tuple[OutboxMessage, ...]
    timers_set: tuple[PreparedTimer, ...]
    timers_cleared: tuple[str, ...]
    execution: ExecutionRecord | None

    @property
    def new_version(self) -> int:
        return self.expected_version + len(self.events)


def prepare_append(
    stream_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
    *,
    outbox: Sequence[OutboxMessage],
    timers_set: Sequence[Timer],
    timers_cleared: Sequence[str],
    execution: ExecutionRecord | None,
) -> PreparedAppend:
    """Check and encode an append, raising ValueError on the first thing wrong."""
    check_text(stream_id, "stream_id")
    check_version(expected_version, "expected_version")
    return PreparedAppend(
        stream_id=stream_id,
        expected_version=expected_version,
        events=tuple(_prepare_event(e, i) for i, e in enumerate(events, start=1)),
        outbox=tuple(_prepare_outbox(m, i) for i, m in enumerate(outbox, start=1)),
        timers_set=_prepare_timers(stream_id, timers_set),
        timers_cleared=tuple(check_text(t, "a cleared timer id") for t in timers_cleared),
        execution=None if execution is None else _prepare_execution(execution),
    )


def _prepare_event(event: NewEvent, index: int) -> PreparedEvent:
    check_text(event.type, f"event {index} type")
    if not isinstance(event.data, dict):
        raise ValueError(f"event {index} ({event.type}) data must be a dict")
    if event.data_json is not None:
        if not isinstance(event.data_json, str):
            raise ValueError(f"event {index} ({event.type}) data_json must be text")
        return PreparedEvent(event.type, event.data_json)
    return PreparedEvent(event.type, encode_json(event.data, f"event {index} ({event.type}) data"))


def _prepare_outbox(message: OutboxMessage, index: int) -> OutboxMessage:
    what = f"outbox message {index}"
    check_text(message.topic, f"{what} topic")
    if not isinstance(message.value, bytes | bytearray | memoryview):
        raise ValueError(f"{what} value must be bytes, not {type(message.value).__name__}")
    if message.key is not None and not isinstance(message.key, bytes | bytearray | memoryview):
        raise ValueError(f"{what} key must be bytes or None, not {type(message.key).__name__}")
    headers = []
    for header in message.headers:
        if len(header) != 2 or not isinstance(header[0], str) or not isinstance(header[1], bytes):
            raise ValueError(f"{what} headers must be (str, bytes) pairs, got {header!r}")
        headers.append((header[0], bytes(header[1])))
    key = None if message.key is None else bytes(message.key)
    return OutboxMessage(message.topic, bytes(message.value), key, tuple(headers))


def _prepare_timers(stream_id: str, timers: Sequence[Timer]) -> tuple[PreparedTimer, ...]:
    prepared: dict[str, PreparedTimer] = {}
    for timer in timers:
        check_text(timer.timer_id, "timer_id")
        what = f"timer {timer.timer_id!r}"
        if timer.stream_id != stream_id:
            raise ValueError(
                f"{what} belongs to stream {timer.stream_id!r}; only the appended stream "
                f"{stream_id!r} may set its timers"
            )
        if timer.timer_id in prepared:
            raise ValueError(f"{what} is set twice in one append")
        if not isinstance(timer.payload, dict):
            raise ValueError(f"{what} payload must be a dict")
        prepared[timer.timer_id] = PreparedTimer(
            timer.timer_id,
            aware_utc(timer.due_at, f"{what} due_at"),
            encode_json(timer.payload, f"{what} payload"),
        )
    return tuple(prepared.values())


def _prepare_execution(record: ExecutionRecord) -> ExecutionRecord:
    check_text(record.execution_arn, "execution_arn")
    check_text(record.state_machine_name, "execution state_machine_name")
    check_text(record.name, "execution name")
    version = record.state_machine_version
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"execution state_machine_version must be >= 1, got {version!r}")
    status = check_status(record.status, "execution status")
    parse_json_text(record.input, "execution input")
    if record.output is not None:
        parse_json_text(record.output, "execution output")
    stop = record.stop_date
    count = record.redrive_count
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"execution redrive_count must be an integer >= 0, got {count!r}")
    redriven = record.redrive_date
    return replace(
        record,
        status=status,
        start_date=aware_utc(record.start_date, "execution start_date"),
        stop_date=None if stop is None else aware_utc(stop, "execution stop_date"),
        redrive_date=None if redriven is None else aware_utc(redriven, "execution redrive_date"),
    )


@dataclass(frozen=True, slots=True)
class PreparedStateMachine:
    name: str
    definition: str
    bindings: str
    fingerprint: str


def prepare_state_machine(name: str, definition: str, bindings: str) -> PreparedStateMachine:
    """Check a registration; the fingerprint ignores formatting and key order."""
    check_text(name, "state machine name")
    if len(name) > 80 or any(c.isspace() for c in name):
        raise ValueError(f"state machine name must be 1-80 characters, no spaces: {name!r}")
    canonical = _canonical_object(definition, "definition"), _canonical_object(bindings, "bindings")
    digest = hashlib.sha256("\n".join(canonical).encode()).hexdigest()
    return PreparedStateMachine(name, definition, bindings, digest)


def _canonical_object(text: str, what: str) -> str:
    value = parse_json_text(text, what)
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(value).__name__}")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Both backends upsert an execution's index row with this statement (``?`` placeholders;
# PostgreSQL numbers them). On the arn alone: the (machine, name) clash is ruled out
# before, and OR REPLACE would silently delete the other row if it were not.
UPSERT_EXECUTION = (
    "INSERT INTO executions (execution_arn, stream_id, state_machine_name, "
    "state_machine_version, name, status, input, output, error, cause, start_date, "
    "stop_date, redrive_count, redrive_date) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (execution_arn) DO UPDATE SET "
    "state_machine_name = excluded.state_machine_name, "
    "state_machine_version = excluded.state_machine_version, name = excluded.name, "
    "status = excluded.status, input = excluded.input, output = excluded.output, "
    "error = excluded.error, cause = excluded.cause, start_date = excluded.start_date, "
    "stop_date = excluded.stop_date, redrive_count = excluded.redrive_count, "
    "redrive_date = excluded.redrive_date"
)


def execution_row(
    stream_id: str, r: ExecutionRecord, moment: Callable[[datetime], Any] | None = None
) -> tuple[Any, ...]:
    """The values of ``UPSERT_EXECUTION``; ``moment`` converts the dates for the backend."""
    convert = moment or (lambda value: value)
    stop = None if r.stop_date is None else convert(r.stop_date)
    redriven = None if r.redrive_date is None else convert(r.redrive_date)
    return (
        r.execution_arn,
        stream_id,
        r.state_machine_name,
        r.state_machine_version,
        r.name,
        r.status.value,
        r.input,
        r.output,
        r.error,
        r.cause,
        convert(r.start_date),
        stop,
        r.redrive_count,
        redriven,
    )
