"""Which running executions wait on a published task, read from the execution store.

A narrow, read-only view for processes other than the orchestrator: the review desk
derives its tickets from it, so a ticket whose message was lost (a broker that came back
empty, a desk stopped while the message went by) is found again from durable state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepstream.asl.definition import StateMachineDef
from stepstream.asl.execution import Execution
from stepstream.asl.history import HistoryEvent
from stepstream.asl.machine import load_machine
from stepstream.bindings import Bindings, Publish, published_message, read_stored, resolve
from stepstream.store.base import ExecutionReader
from stepstream.store.records import (
    ExecutionStatus,
    ListPosition,
)

PAGE = 500


@dataclass(frozen=True)
class WaitingTask:
    """A task that published its message and waits for a callback with its token."""

    execution_arn: str
    task_token: str
    # What the orchestrator published for it, as the task put it: message, token, state.
    published: dict[str, Any]
    scheduled_at: datetime


async def tasks_waiting_on(store: ExecutionReader, topic: str) -> list[WaitingTask]:
    """Every pending ``.waitForTaskToken`` task of a running execution bound to ``topic``.

    ``topic`` is the binding's topic name, without the deployment's prefix.
    """
    machines: dict[tuple[str, int], tuple[StateMachineDef, Bindings] | None] = {}
    found: list[WaitingTask] = []
    after: ListPosition | None = None
    while page := await store.list_executions(
        status=ExecutionStatus.RUNNING, limit=PAGE, after=after
    ):
        for record in page:
            key = (record.state_machine_name, record.state_machine_version)
            if key not in machines:
                machines[key] = await _machine(store, *key)
            machine = machines[key]
            if machine is not None:
                found += await _waiting(store, record.execution_arn, *machine, topic)
        after = ListPosition.after(page[-1])
    return found


async def _machine(
    store: ExecutionReader, name: str, version: int
) -> tuple[StateMachineDef, Bindings] | None:
    record = await store.get_state_machine(name, version)
    if record is None:
        return None
    bindings, _problem = read_stored(record.bindings)
    return load_machine(record.definition), bindings


async def _waiting(
    store: ExecutionReader,
    arn: str,
    machine: StateMachineDef,
    bindings: Bindings,
    topic: str,
) -> list[WaitingTask]:
    stored = await store.read(arn)
    events = [HistoryEvent.from_record(event.data) for event in stored]
    execution = Execution.from_history(machine, events, execution_arn=arn)
    waiting = []
    for task in execution.pending_tasks():
        if task.token is None:
            continue
        # A task's id is the version of its TaskScheduled event.
        scheduled = events[int(task.task_id) - 1]
        parameters = getattr(scheduled.details, "parameters", None)
        target = resolve(bindings, task.resource, parameters)
        if not isinstance(target, Publish) or target.topic != topic:
            continue
        frame = execution.state.frames[task.frame_id]
        state_name = frame.state.name if frame.state else ""
        waiting.append(
            WaitingTask(
                execution_arn=arn,
                task_token=task.token,
                published=published_message(parameters, task.token, state_name),
                scheduled_at=scheduled.timestamp,
            )
        )
    return waiting
