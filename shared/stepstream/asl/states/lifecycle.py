"""What the events every state records do to an execution: entered, exited, failed.

The execution's own start and end are here too. State modules record their own events
(TaskScheduled, MapIterationStarted, ...) and build on the helpers below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from stepstream.asl import errors
from stepstream.asl.dataflow import Env
from stepstream.asl.definition import Retrier, StateDef
from stepstream.asl.frames import ExecutionState, Frame, Group, Phase, Timer
from stepstream.asl.history import (
    ExecutionFailedDetails,
    ExecutionRedrivenDetails,
    ExecutionStartedDetails,
    ExecutionSucceededDetails,
    FailureDetails,
    HistoryEvent,
    StateEnteredDetails,
    StateExitedDetails,
)
from stepstream.asl.timestamps import format_timestamp

EXECUTION_TIMEOUT = "execution-timeout"
# AWS answers a repeated RedriveExecution for the last ten client tokens.
REDRIVE_TOKENS_KEPT = 10
# Only these may have a Retry, so only their context object counts retries (as on AWS).
RETRYING_TYPES = frozenset({"Task", "Parallel", "Map"})

Handler = Callable[[ExecutionState, HistoryEvent], None]


def match_retrier(retriers: tuple[Retrier, ...], error: str) -> int | None:
    """The index of the retrier that handles `error`: the first whose ErrorEquals matches."""
    for index, retrier in enumerate(retriers):
        if errors.matches(retrier.error_equals, error):
            return index
    return None


def frame_env(state: ExecutionState, frame: Frame, entropy: Any, now: datetime) -> Env:
    """What expressions see in `frame`'s current state (the context object `$$` included)."""
    return Env(
        variables=frame.variables,
        entropy=entropy,
        now=now,
        build=partial(context_object, state, frame.state, frame.entered_at, frame.retries),
    )


def context_object(
    state: ExecutionState,
    current: StateDef | None,
    entered_at: datetime | None,
    retries: int,
) -> dict[str, Any]:
    """The context object `$$` as it stands in `frame`'s current state."""
    context: dict[str, Any] = {
        "Execution": {
            "Id": state.execution_arn,
            "Input": state.input,
            "Name": state.name,
            "RoleArn": "arn:aws:iam::000000000000:role/stepstream",
            "StartTime": format_timestamp(state.start_date) if state.start_date else None,
            "RedriveCount": state.redrive_count,
        },
        "State": {
            "EnteredTime": format_timestamp(entered_at) if entered_at else None,
            "Name": current.name if current else None,
        },
        "StateMachine": {
            "Id": state.state_machine_arn,
            "Name": state.state_machine_arn.rsplit(":", 1)[-1],
        },
    }
    if current is not None and current.type in RETRYING_TYPES:
        context["State"]["RetryCount"] = retries
    return context


# -- frames --------------------------------------------------------------------------------


def event_frame(state: ExecutionState, event: HistoryEvent) -> Frame:
    return state.frames[event.scope]


def clear_timer(state: ExecutionState, frame: Frame) -> None:
    if frame.timer_id is not None:
        state.timers.pop(frame.timer_id, None)
        frame.timer_id = None


def drop_task(state: ExecutionState, frame: Frame) -> None:
    if frame.task_id is not None:
        state.tasks.pop(frame.task_id, None)
        state.timers.pop(f"timeout:{frame.task_id}", None)
        state.timers.pop(f"heartbeat:{frame.task_id}", None)
        frame.task_id = None


def remove_frames(state: ExecutionState, frame_ids: list[str]) -> None:
    for fid in frame_ids:
        child = state.frames.pop(fid, None)
        if child is not None:
            drop_task(state, child)
            clear_timer(state, child)


def retire_frames(state: ExecutionState, frame_ids: list[str]) -> None:
    """Remove frames that stopped without succeeding, keeping them for a redrive."""
    for fid in frame_ids:
        child = state.frames.pop(fid, None)
        if child is not None:
            drop_task(state, child)
            clear_timer(state, child)
            state.retired[fid] = child


def child_frame(state: ExecutionState, frame_id: str) -> Frame:
    """Open the frame of one branch or iteration; its parent's state says which scope it runs."""
    parent_id, _, index = frame_id.rpartition("/")
    parent = state.frames[parent_id]
    assert parent.state is not None
    child = Frame(
        id=frame_id,
        scope=parent.state.child_scope(int(index)),
        variables=dict(parent.variables),
        parent=parent_id,
        index=int(index),
    )
    state.frames[frame_id] = child
    return child


def children_done(state: ExecutionState, event: HistoryEvent) -> None:
    """A Parallel or Map finished with all its branches or iterations."""
    frame = event_frame(state, event)
    remove_frames(state, state.descendants(frame.id))
    state.forget_retired(frame)
    frame.group = None
    frame.phase = Phase.ACTIVE


# -- the execution -------------------------------------------------------------------------


def execution_started(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, ExecutionStartedDetails)
    state.status = "RUNNING"
    state.input = details.input
    state.start_date = event.timestamp
    state.frames[""] = Frame(id="", scope=state.machine.scope, variables={})
    _arm_execution_timeout(state, event.timestamp)


def _arm_execution_timeout(state: ExecutionState, since: datetime) -> None:
    if state.machine.timeout_seconds is not None:
        due = since + timedelta(seconds=state.machine.timeout_seconds)
        state.timers[EXECUTION_TIMEOUT] = Timer(EXECUTION_TIMEOUT, EXECUTION_TIMEOUT, due)


def execution_ended(state: ExecutionState, event: HistoryEvent) -> None:
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
    if state.status == "SUCCEEDED":
        state.retired.clear()
    else:
        # Where the execution stopped is what a redrive resumes from.
        state.retired.update(state.frames)
    state.frames.clear()
    state.tasks.clear()
    state.timers.clear()


def execution_redriven(state: ExecutionState, event: HistoryEvent) -> None:
    """Reopen every frame where it stopped; the decider then runs what did not succeed.

    A Parallel or Map that failed gets back its branches or iterations as they stood, so
    that those that succeeded keep their outputs. Retry counts start again from zero (a
    state is entered afresh) and so does the execution's TimeoutSeconds.
    """
    details = event.details
    assert isinstance(details, ExecutionRedrivenDetails)
    state.status = "RUNNING"
    state.output = state.error = state.cause = None
    state.stop_date = None
    state.redrive_count = details.redriveCount
    state.redrive_date = event.timestamp
    if details.clientToken is not None:
        state.redrive_tokens = [
            *state.redrive_tokens[-(REDRIVE_TOKENS_KEPT - 1) :],
            details.clientToken,
        ]
    state.frames, state.retired = state.retired, {}
    for frame in state.frames.values():
        frame.task_id = frame.timer_id = None
        if frame.halted is not None:
            frame.group = _reopened(state, frame, frame.halted)
            frame.halted = None
            frame.phase = Phase.CHILDREN
        elif frame.phase is not Phase.EXITED and frame.phase is not Phase.CHILDREN:
            frame.phase = Phase.ACTIVE
    _arm_execution_timeout(state, event.timestamp)


def _reopened(state: ExecutionState, frame: Frame, group: Group) -> Group:
    if group.kind == "Parallel":
        group.running = {
            index
            for index, child in enumerate(group.children)
            if child not in state.frames or state.frames[child].phase is not Phase.EXITED
        }
        return group
    group.redo = [index for index in range(group.next_index) if index not in group.succeeded]
    group.children = [f"{frame.id}/{index}" for index in sorted(group.succeeded)]
    group.running = set()
    group.failures = 0
    group.finished = len(group.succeeded)
    return group


# -- every state ---------------------------------------------------------------------------


def state_entered(state: ExecutionState, event: HistoryEvent) -> None:
    enter_state(state, event)


def enter_state(state: ExecutionState, event: HistoryEvent) -> Frame:
    """Record entering a state; the frame it runs in is returned for the state's own use."""
    details = event.details
    assert isinstance(details, StateEnteredDetails)
    frame = state.frames.get(event.scope) or child_frame(state, event.scope)
    clear_timer(state, frame)
    state.forget_retired(frame)
    current = frame.scope.states[details.name]
    frame.state = current
    frame.input = details.input
    frame.entered_at = event.timestamp
    frame.entered_event = event.id
    frame.phase = Phase.ACTIVE
    frame.retry_counts = [0] * len(current.retry)
    frame.retries = 0
    return frame


def state_exited(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, StateExitedDetails)
    frame = event_frame(state, event)
    clear_timer(state, frame)
    state.forget_retired(frame)
    if details.assignedVariables:
        frame.variables.update(details.assignedVariables)
    frame.output = details.output
    frame.phase = Phase.EXITED


def state_failed(state: ExecutionState, event: HistoryEvent) -> None:
    """A task, Parallel or Map failed; when the decider chose to retry, arm the back-off."""
    details = event.details
    assert isinstance(details, FailureDetails)
    frame = event_frame(state, event)
    drop_task(state, frame)
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


HANDLERS: dict[str, Handler] = {
    "ExecutionStarted": execution_started,
    "ExecutionSucceeded": execution_ended,
    "ExecutionFailed": execution_ended,
    "ExecutionTimedOut": execution_ended,
    "ExecutionAborted": execution_ended,
    "ExecutionRedriven": execution_redriven,
}
