"""Running definitions in tests: the local runner on a virtual clock, with a fixed seed.

Besides running machines, this module holds what the specification tests share: a task
that waits for a callback and hands its token to the test, the names of the states an
execution entered, a canonical snapshot of an execution's state, and a runner that checks
after every decision that the history alone rebuilds the execution exactly.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from stepstream.asl.execution import Execution
from stepstream.asl.frames import ExecutionState, Frame, Group
from stepstream.asl.history import HistoryEvent
from stepstream.asl.local import LocalRunner
from stepstream.asl.machine import load_machine
from stepstream.asl.messages import Message

Functions = Mapping[str, Callable[[Any, Any], Any]]

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
CALLBACK_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def runner(
    definition: dict[str, Any], functions: Functions | None = None, seed: int = 7
) -> LocalRunner:
    return LocalRunner(load_machine(definition), functions=functions, virtual_time=True, seed=seed)


def run(
    definition: dict[str, Any],
    execution_input: Any = None,
    functions: Functions | None = None,
    seed: int = 7,
) -> LocalRunner:
    """Run to the end (or until only callbacks are awaited) and return the runner."""
    local = runner(definition, functions, seed)
    local.run({} if execution_input is None else execution_input)
    return local


def types(history: list[HistoryEvent]) -> list[str]:
    return [event.type for event in history]


def of_type(history: list[HistoryEvent], kind: str) -> list[HistoryEvent]:
    return [event for event in history if event.type == kind]


def machine(states: dict[str, Any], start_at: str | None = None, **top: Any) -> dict[str, Any]:
    """A definition from its states; StartAt defaults to the first state."""
    return {"StartAt": start_at or next(iter(states)), "States": states, **top}


def lambda_task(function: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"{LAMBDA_ARN}{function}", **fields}


def invoke_task(function: str, payload: Any = "$", **fields: Any) -> dict[str, Any]:
    """A lambda:invoke Task whose Payload is selected by `payload` (a path)."""
    parameters = {"FunctionName": function, "Payload.$": payload}
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": parameters,
        **fields,
    }


def callback_task(function: str = "publish", **fields: Any) -> dict[str, Any]:
    """A .waitForTaskToken Task handing {"token": $$.Task.Token, "input": $} to `function`."""
    return {
        "Type": "Task",
        "Resource": CALLBACK_RESOURCE,
        "Parameters": {
            "FunctionName": function,
            "Payload": {"token.$": "$$.Task.Token", "input.$": "$"},
        },
        **fields,
    }


class Inbox:
    """A callback function that keeps every token (and input) it is handed, as a queue would."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    def __call__(self, event: Any, context: Any) -> None:
        self.received.append(event)

    @property
    def tokens(self) -> list[str]:
        return [message["token"] for message in self.received]

    def token_for(self, value: Any) -> str:
        """The token of the (only) task whose input was `value`."""
        [token] = [str(m["token"]) for m in self.received if m["input"] == value]
        return token


def entered(history: list[HistoryEvent]) -> list[str]:
    """The names of the states entered, in order."""
    return [event.details.name for event in history if event.type.endswith("StateEntered")]  # type: ignore[union-attr]


def details(event: HistoryEvent) -> dict[str, Any]:
    assert event.details is not None, f"{event.type} has no details"
    return event.details.model_dump()


def seconds_between(first: HistoryEvent, second: HistoryEvent) -> float:
    return (second.timestamp - first.timestamp).total_seconds()


# -- replay ----------------------------------------------------------------------------


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _group(group: Group | None) -> dict[str, Any] | None:
    if group is None:
        return None
    return {
        "kind": group.kind,
        "total": group.total,
        "children": sorted(group.children),
        "results": group.results,
        "items": list(group.items),
        "running": sorted(group.running),
        "next_index": group.next_index,
        "finished": group.finished,
        "failures": group.failures,
        "max_concurrency": group.max_concurrency,
        "tolerated": [group.tolerated_count, group.tolerated_percentage],
        "succeeded": sorted(group.succeeded),
        "redo": group.redo,
    }


def _frame(frame: Frame) -> dict[str, Any]:
    return {
        "parent": frame.parent,
        "index": frame.index,
        "state": frame.state.name if frame.state else None,
        "input": frame.input,
        "output": frame.output,
        "entered_at": _moment(frame.entered_at),
        "phase": frame.phase.value,
        "variables": frame.variables,
        "retry_counts": frame.retry_counts,
        "retries": frame.retries,
        "task_id": frame.task_id,
        "timer_id": frame.timer_id,
        "group": _group(frame.group),
        "halted": _group(frame.halted),
    }


def snapshot(state: ExecutionState) -> dict[str, Any]:
    """Everything an execution's future depends on, as plain comparable data."""
    return {
        "status": state.status,
        "input": state.input,
        "output": state.output,
        "error": [state.error, state.cause],
        "dates": [_moment(state.start_date), _moment(state.stop_date)],
        "last_event_id": state.last_event_id,
        "frames": {fid: _frame(frame) for fid, frame in state.frames.items()},
        "retired": {fid: _frame(frame) for fid, frame in state.retired.items()},
        "redrive": [state.redrive_count, _moment(state.redrive_date), state.redrive_tokens],
        "tasks": {
            tid: [t.frame_id, t.resource.arn, t.token, t.heartbeat_seconds, t.started]
            for tid, t in state.tasks.items()
        },
        "timers": {
            tid: [t.kind, _moment(t.due_at), t.frame_id, t.task_id]
            for tid, t in state.timers.items()
        },
    }


def stored(history: list[HistoryEvent]) -> list[HistoryEvent]:
    """The history as an event store gives it back: through JSON text and `from_record`."""
    return [
        HistoryEvent.from_record(json.loads(json.dumps(event.to_record()))) for event in history
    ]


class ReplayingRunner(LocalRunner):
    """A local runner that proves, at every decision, that the history is the execution.

    Before each message it rebuilds the execution from the stored history and checks the
    rebuilt state equals the live one; it hands the same message to the rebuilt copy,
    with the same clock and an identical random source, and checks both decide the same
    events; afterwards it rebuilds again and compares once more.
    """

    decisions = 0

    def _rebuilt(self) -> Execution:
        state = self.execution.state
        return Execution.from_history(
            state.machine,
            stored(self.history),
            execution_arn=state.execution_arn,
            state_machine_arn=state.state_machine_arn,
            name=state.name,
        )

    def check(self) -> None:
        assert snapshot(self._rebuilt().state) == snapshot(self.execution.state)

    def start(self, execution_input: Any) -> None:
        super().start(execution_input)
        self.decisions += 1
        self.check()

    def send(self, message: Message) -> None:
        twin = self._rebuilt()
        assert snapshot(twin.state) == snapshot(self.execution.state)
        decided = twin.handle(message, clock=self.clock, entropy=copy.deepcopy(self.entropy))
        before = len(self.history)
        super().send(message)
        self.decisions += 1
        live = [event.to_record() for event in self.history[before:]]
        assert [event.to_record() for event in decided.events] == live
        assert snapshot(twin.state) == snapshot(self.execution.state)
        self.check()

    def redrive(self, client_token: str | None = None) -> None:
        self.check()
        super().redrive(client_token)
        self.decisions += 1
        self.check()


def replaying(
    definition: dict[str, Any], functions: Functions | None = None, seed: int = 7
) -> ReplayingRunner:
    return ReplayingRunner(
        load_machine(definition), functions=functions, virtual_time=True, seed=seed
    )
