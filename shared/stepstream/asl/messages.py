"""What an execution is told (messages in) and what it asks of the world (effects out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stepstream.asl.history import HistoryEvent
from stepstream.asl.resources import ResourceRef


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A task's worker finished and answered with its output."""

    task_id: str
    output: Any


@dataclass(frozen=True, slots=True)
class TaskError:
    """A task's worker failed: `error` is the error name (an exception's class name).

    `retry_after_seconds` is the worker's hint (a Retry-After it was sent) of how long to
    wait before a retry; see `stepstream.asl.retry_after`.
    """

    task_id: str
    error: str
    cause: str = ""
    retry_after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class TaskPickedUp:
    """A worker started on the task (recorded as TaskStarted)."""

    task_id: str


@dataclass(frozen=True, slots=True)
class TaskHeartbeat:
    task_id: str


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str


@dataclass(frozen=True, slots=True)
class StopRequested:
    error: str | None = None
    cause: str | None = None


Message = TaskResult | TaskError | TaskPickedUp | TaskHeartbeat | TimerFired | StopRequested


@dataclass(frozen=True, slots=True)
class ScheduleTask:
    """Send this work to the resource's worker; answer with TaskResult or TaskError."""

    task_id: str
    resource: ResourceRef
    payload: Any
    task_token: str | None
    timeout_seconds: int | None
    heartbeat_seconds: int | None
    state_name: str
    scope: str


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Deliver TimerFired(timer_id) at `due_at`; starting an armed timer again moves it."""

    timer_id: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


Effect = ScheduleTask | StartTimer | CancelTimer


@dataclass(frozen=True, slots=True)
class Decision:
    """The events to append to the history and the effects to carry out, in order."""

    events: list[HistoryEvent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
