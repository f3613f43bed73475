"""The values that go into and come out of an execution store.

Plain frozen dataclasses: the store copies what it is given and hands back fresh
values, so nothing a caller mutates afterwards can change what was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ExecutionStatus(StrEnum):
    """An execution's status, in Step Functions' words."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its type name and its JSON data.

    ``data_json``, when given, is ``data`` encoded already (compact JSON text), and the
    store keeps it as it is instead of encoding ``data`` again: a caller that needs the
    text too (the orchestrator publishes it) encodes each event once.
    """

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    data_json: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as recorded: ``version`` counts from 1 within its stream."""

    stream_id: str
    version: int
    type: str
    data: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to publish once the append that carries it has committed."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """An outbox row not yet published; ``id`` grows in append order."""

    id: int
    stream_id: str
    message: OutboxMessage
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Appended:
    """What one append wrote: the stream's new version and its outbox rows, in order."""

    version: int
    outbox: tuple[PendingMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class Timer:
    """A durable timer owned by one stream; ``timer_id`` is unique store-wide."""

    timer_id: str
    stream_id: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One row of the executions index, the projection behind list and describe.

    ``input`` and ``output`` are JSON text, as Step Functions returns them.
    """

    execution_arn: str
    state_machine_name: str
    state_machine_version: int
    name: str
    status: ExecutionStatus
    input: str
    start_date: datetime
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: datetime | None = None
    # How many times it was redriven, and when last (RedriveExecution).
    redrive_count: int = 0
    redrive_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListPosition:
    """Where a page of executions ended; the next page starts after it."""

    start_date: datetime
    execution_arn: str

    @classmethod
    def after(cls, record: ExecutionRecord) -> ListPosition:
        return cls(record.start_date, record.execution_arn)


@dataclass(frozen=True, slots=True)
class StateMachineRecord:
    """One version of a registered state machine; definition and bindings are JSON text."""

    name: str
    version: int
    definition: str
    bindings: str
    created_at: datetime
