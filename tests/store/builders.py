"""Small builders for store inputs, so each test states only what it is about."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from stepstream.store import (
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    NewEvent,
    OutboxMessage,
    Timer,
)

# Microseconds included, to prove every backend keeps times exactly.
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


class StoreBackend(Protocol):
    def make(self, clock: Callable[[], datetime]) -> ExecutionStore:
        """A new, unopened handle on this backend's one database."""
        ...


def events(*types: str, **data: Any) -> list[NewEvent]:
    return [NewEvent(t, {"step": i, **data}) for i, t in enumerate(types, start=1)]


def message(
    topic: str = "commands", value: bytes = b"{}", key: bytes | None = b"k"
) -> OutboxMessage:
    return OutboxMessage(topic=topic, value=value, key=key)


def timer(timer_id: str, stream_id: str, seconds: float, **payload: Any) -> Timer:
    return Timer(timer_id, stream_id, T0 + timedelta(seconds=seconds), dict(payload))


def execution(
    arn: str,
    *,
    machine: str = "Fulfilment",
    name: str | None = None,
    status: ExecutionStatus = ExecutionStatus.RUNNING,
    started: float = 0,
    input_: str = '{"order": 1}',
    **rest: Any,
) -> ExecutionRecord:
    return ExecutionRecord(
        execution_arn=arn,
        state_machine_name=machine,
        state_machine_version=1,
        name=name or arn.rsplit(":", 1)[-1],
        status=status,
        input=input_,
        start_date=T0 + timedelta(seconds=started),
        **rest,
    )


def arn(name: str, machine: str = "Fulfilment") -> str:
    return f"arn:aws:states:local:000000000000:execution:{machine}:{name}"


@dataclass(frozen=True)
class Snapshot:
    """Everything an append can touch, to prove a refused append touched nothing."""

    events: dict[str, list[Any]]
    outbox: list[Any]
    timers: list[Any]
    executions: list[Any]


# Later than any timer a test arms: every armed timer is due by then.
END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)


async def armed_timers(store: ExecutionStore) -> list[Timer]:
    """Every armed timer, earliest first."""
    return await store.due_timers(END_OF_TIME, limit=1000)


async def snapshot(store: ExecutionStore, streams: list[str]) -> Snapshot:
    return Snapshot(
        events={s: await store.read(s) for s in streams},
        outbox=await store.pending_outbox(limit=1000),
        timers=await armed_timers(store),
        executions=await store.list_executions(limit=1000),
    )
