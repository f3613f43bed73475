"""evolve(state, event): the one place an execution's state changes.

The decider emits events and applies each one here as it goes; loading an execution
applies its stored history here. Both therefore reach the same state, which is what lets
an execution stop wherever it waits and resume from its history alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from stepstream.asl import errors
from stepstream.asl.dataflow import Env
from stepstream.asl.definition import Retrier, Scope
from stepstream.asl.errors import StatesError
from stepstream.asl.frames import ExecutionState, Frame, Group, PendingTask, Phase, Timer
from stepstream.asl.history import (
    ExecutionFailedDetails,
    ExecutionStartedDetails,
    ExecutionSucceededDetails,
    FailureDetails,
    HistoryEvent,
    LambdaFunctionScheduledDetails,
    MapIterationDetails,
    StateEnteredDetails,
    StateExitedDetails,
    TaskScheduledDetails,
)
from stepstream.asl.ports import SeededEntropy
from stepstream.asl.states import map_, parallel, wait
from stepstream.asl.states.outcomes import RunItems
from stepstream.asl.states.task import TaskState
from stepstream.asl.timestamps import format_timestamp

EXECUTION_TIMEOUT = "execution-timeout"


def match_retrier(retriers: tuple[Retrier, ...], error: str) -> int | None:
    """The index of the retrier that handles `error`: the first whose ErrorEquals matches."""
    for index, retrier in enumerate(retriers):
        if errors.matches(retrier.error_equals, error):
            return index
    return None


def frame_env(state: ExecutionState, frame: Frame, entropy: Any, now: datetime) -> Env:
    """What expressions see in `frame`'s current state (the context object `$$` included)."""
    current = frame.state
    context: dict[str, Any] = {
        "Execution": {
            "Id": state.execution_arn,
            "Input": state.input,
            "Name": state.name,
            "RoleArn": "arn:aws:iam::000000000000:role/stepstream",
            "StartTime": format_timestamp(state.start_date) if state.start_date else None,
            "RedriveCount": 0,
        },
        "State": {
            "EnteredTime": format_timestamp(frame.entered_at) if frame.entered_at else None,
            "Name": current.name if current else None,
            "RetryCount": frame.retries,
        },
        "StateMachine": {
            "Id": state.state_machine_arn,
            "Name": state.state_machine_arn.rsplit(":", 1)[-1],
        },
    }
    return Env(context=context, variables=frame.variables, entropy=entropy, now=now)


def apply(state: ExecutionState, event: HistoryEvent) -> None:
    """Change `state` as `event` says."""
    state.last_event_id = event.id
    handler = _HANDLERS.get(event.type)
    if handler is None:
        if event.type.endswith("StateEntered"):
            handler = _state_entered
        elif event.type.endswith("StateExited"):
            handler = _state_exited
        else:
            return  # events that only inform (ParallelStateAborted, ...)
    handler(state, event)


def _frame(state: ExecutionState, event: HistoryEvent) -> Frame:
    return state.frames[event.scope]


def _clear_timer(state: ExecutionState, frame: Frame) -> None:
    if frame.timer_id is not None:
        state.timers.pop(frame.timer_id, None)
        frame.timer_id = None


def _drop_task(state: ExecutionState, frame: Frame) -> None:
    if frame.task_id is not None:
        state.tasks.pop(frame.task_id, None)
        state.timers.pop(f"timeout:{frame.task_id}", None)
        state.timers.pop(f"heartbeat:{frame.task_id}", None)
        frame.task_id = None


def _remove_frames(state: ExecutionState, frame_ids: list[str]) -> None:
    for fid in frame_ids:
        child = state.frames.pop(fid, None)
        if child is not None:
            _drop_task(state, child)
            _clear_timer(state, child)


def _execution_started(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, ExecutionStartedDetails)
    state.status = "RUNNING"
    state.input = details.input
    state.start_date = event.timestamp
    state.frames[""] = Frame(id="", scope=state.machine.scope, variables={})
    if state.machine.timeout_seconds is not None:
        due = event.timestamp + timedelta(seconds=state.machine.timeout_seconds)
        state.timers[EXECUTION_TIMEOUT] = Timer(EXECUTION_TIMEOUT, EXECUTION_TIMEOUT, due)


def _execution_ended(state: ExecutionState, event: HistoryEvent) -> None:
    state.status = {
        "ExecutionSucceeded": "SUCCEEDED",
        "ExecutionFailed": "FAILED",
        "ExecutionTimedOut": "TIMED_OUT",
        "ExecutionAborted": "ABORTED",
    }[event.type]
    state.stop_date = event.timestamp
    details = event.details
    if isinstance(details, ExecutionSucceededDetails):
        state.output = details.output
    elif isinstance(details, ExecutionFailedDetails):
        state.error, state.cause = details.error, details.cause
    state.frames.clear()
    state.tasks.clear()
    state.timers.clear()


def _child_frame(state: ExecutionState, frame_id: str) -> Frame:
    parent_id, _, index = frame_id.rpartition("/")
    parent = state.frames[parent_id]
    assert parent.state is not None
    scope: Scope
    if isinstance(parent.state, parallel.ParallelState):
        scope = parent.state.branches[int(index)]
    else:
        assert isinstance(parent.state, map_.MapState)
        scope = parent.state.processor
    child = Frame(
        id=frame_id,
        scope=scope,
        variables=dict(parent.variables),
        parent=parent_id,
        index=int(index),
    )
    state.frames[frame_id] = child
    return child


def _state_entered(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, StateEnteredDetails)
    frame = state.frames.get(event.scope) or _child_frame(state, event.scope)
    _clear_timer(state, frame)
    current = frame.scope.states[details.name]
    frame.state = current
    frame.input = details.input
    frame.entered_at = event.timestamp
    frame.phase = Phase.ACTIVE
    frame.retry_counts = [0] * len(current.retry)
    frame.retries = 0
    if isinstance(current, wait.WaitState):
        _arm_wait(state, frame, current, event)


def _arm_wait(
    state: ExecutionState, frame: Frame, current: wait.WaitState, event: HistoryEvent
) -> None:
    try:
        due = wait.due_at(
            current, frame.input, frame_env(state, frame, SeededEntropy(0), event.timestamp)
        )
    except StatesError:
        return  # the decider turns the same error into a failure
    timer_id = f"wait:{event.id}"
    state.timers[timer_id] = Timer(timer_id, "wait", due, frame_id=frame.id)
    frame.timer_id = timer_id
    frame.phase = Phase.TIMER


def _state_exited(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, StateExitedDetails)
    frame = _frame(state, event)
    _clear_timer(state, frame)
    if details.assignedVariables:
        frame.variables.update(details.assignedVariables)
    frame.output = details.output
    frame.phase = Phase.EXITED


def _task_scheduled(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, TaskScheduledDetails | LambdaFunctionScheduledDetails)
    frame = _frame(state, event)
    _clear_timer(state, frame)
    assert isinstance(frame.state, TaskState)
    task_id = str(event.id)
    heartbeat = details.heartbeatInSeconds if isinstance(details, TaskScheduledDetails) else None
    state.tasks[task_id] = PendingTask(
        task_id, frame.id, frame.state.resource, details.taskToken, heartbeat
    )
    frame.task_id = task_id
    frame.phase = Phase.TASK
    if details.timeoutInSeconds is not None:
        due = event.timestamp + timedelta(seconds=details.timeoutInSeconds)
        state.timers[f"timeout:{task_id}"] = Timer(
            f"timeout:{task_id}", "timeout", due, frame.id, task_id
        )
    if heartbeat is not None:
        due = event.timestamp + timedelta(seconds=heartbeat)
        state.timers[f"heartbeat:{task_id}"] = Timer(
            f"heartbeat:{task_id}", "heartbeat", due, frame.id, task_id
        )


def _task_started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    if frame.task_id is not None and frame.task_id in state.tasks:
        state.tasks[frame.task_id].started = True


def _task_heartbeat(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    task = state.tasks.get(frame.task_id) if frame.task_id is not None else None
    timer = state.timers.get(f"heartbeat:{frame.task_id}")
    if task is not None and task.heartbeat_seconds is not None and timer is not None:
        timer.due_at = event.timestamp + timedelta(seconds=task.heartbeat_seconds)


def _task_succeeded(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    _drop_task(state, frame)
    frame.phase = Phase.ACTIVE


def _failed(state: ExecutionState, event: HistoryEvent) -> None:
    """A task, Parallel or Map failed; when the decider chose to retry, arm the back-off."""
    details = event.details
    assert isinstance(details, FailureDetails)
    frame = _frame(state, event)
    _drop_task(state, frame)
    if event.type in ("ParallelStateFailed", "MapStateFailed"):
        _remove_frames(state, state.descendants(frame.id))
        frame.group = None
    frame.phase = Phase.ACTIVE
    if details.retryDelaySeconds is None:
        return
    assert frame.state is not None
    index = match_retrier(frame.state.retry, details.error)
    assert index is not None
    frame.retry_counts[index] += 1
    frame.retries += 1
    timer_id = f"retry:{event.id}"
    due = event.timestamp + timedelta(seconds=details.retryDelaySeconds)
    state.timers[timer_id] = Timer(timer_id, "retry", due, frame_id=frame.id)
    frame.timer_id = timer_id
    frame.phase = Phase.RETRY


def _parallel_started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    _clear_timer(state, frame)
    assert isinstance(frame.state, parallel.ParallelState)
    count = len(frame.state.branches)
    frame.group = Group(kind="Parallel", total=count, results=[None] * count)
    frame.phase = Phase.CHILDREN
    for index in range(count):
        child = _child_frame(state, f"{frame.id}/{index}")
        frame.group.children.append(child.id)
        frame.group.running.add(index)


def _children_done(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    _remove_frames(state, state.descendants(frame.id))
    frame.group = None
    frame.phase = Phase.ACTIVE


def _map_started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    _clear_timer(state, frame)
    assert isinstance(frame.state, map_.MapState)
    # Selecting the items is pure, so it is done again here rather than stored twice.
    env = frame_env(state, frame, SeededEntropy(0), frame.entered_at or event.timestamp)
    plan = map_.step(frame.state, frame.input, env)
    assert isinstance(plan, RunItems)
    frame.group = Group(
        kind="Map",
        total=len(plan.items),
        results=[None] * len(plan.items),
        items=plan.items,
        max_concurrency=plan.max_concurrency,
        tolerated_count=plan.tolerated_failure_count,
        tolerated_percentage=plan.tolerated_failure_percentage,
    )
    frame.phase = Phase.CHILDREN


def _iteration(event: HistoryEvent) -> int:
    details = event.details
    assert isinstance(details, MapIterationDetails)
    return details.index


def _map_iteration_started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    index = _iteration(event)
    assert frame.group is not None
    child = _child_frame(state, f"{frame.id}/{index}")
    frame.group.children.append(child.id)
    frame.group.running.add(index)
    frame.group.next_index = max(frame.group.next_index, index + 1)


def _map_iteration_ended(state: ExecutionState, event: HistoryEvent) -> None:
    frame = _frame(state, event)
    index = _iteration(event)
    group = frame.group
    assert group is not None
    child_id = f"{frame.id}/{index}"
    child = state.frames.get(child_id)
    group.running.discard(index)
    if event.type == "MapIterationSucceeded":
        group.results[index] = child.output if child else None
        group.finished += 1
    elif event.type == "MapIterationFailed":
        group.failures += 1
        group.finished += 1
    _remove_frames(state, [child_id, *state.descendants(child_id)])


_HANDLERS: dict[str, Callable[[ExecutionState, HistoryEvent], None]] = {
    "ExecutionStarted": _execution_started,
    "ExecutionSucceeded": _execution_ended,
    "ExecutionFailed": _execution_ended,
    "ExecutionTimedOut": _execution_ended,
    "ExecutionAborted": _execution_ended,
    "TaskScheduled": _task_scheduled,
    "LambdaFunctionScheduled": _task_scheduled,
    "TaskStarted": _task_started,
    "LambdaFunctionStarted": _task_started,
    "TaskHeartbeatRecorded": _task_heartbeat,
    "TaskSucceeded": _task_succeeded,
    "LambdaFunctionSucceeded": _task_succeeded,
    "TaskFailed": _failed,
    "TaskTimedOut": _failed,
    "LambdaFunctionFailed": _failed,
    "LambdaFunctionTimedOut": _failed,
    "ParallelStateFailed": _failed,
    "MapStateFailed": _failed,
    "ParallelStateStarted": _parallel_started,
    "ParallelStateSucceeded": _children_done,
    "MapStateStarted": _map_started,
    "MapStateSucceeded": _children_done,
    "MapIterationStarted": _map_iteration_started,
    "MapIterationSucceeded": _map_iteration_ended,
    "MapIterationFailed": _map_iteration_ended,
    "MapIterationAborted": _map_iteration_ended,
}
