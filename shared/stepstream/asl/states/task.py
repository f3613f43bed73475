"""Task: hands work to a resource and waits for its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from stepstream.asl import errors, jsonata_expr
from stepstream.asl.dataflow import Env, jsonata, select_path, state_input
from stepstream.asl.definition import QueryLanguage, StateDef, common_fields
from stepstream.asl.errors import StatesError
from stepstream.asl.frames import ExecutionState, Frame, PendingTask, Phase, Timer
from stepstream.asl.history import (
    Details,
    FailureDetails,
    HistoryEvent,
    LambdaFunctionScheduledDetails,
    LambdaFunctionSucceededDetails,
    TaskScheduledDetails,
    TaskStartedDetails,
    TaskSucceededDetails,
)
from stepstream.asl.limits import check_state_data
from stepstream.asl.messages import ScheduleTask, TaskError, TaskHeartbeat, TaskPickedUp, TaskResult
from stepstream.asl.resources import ResourceRef, parse_resource
from stepstream.asl.states import lifecycle
from stepstream.asl.states.outcomes import Outcome, RunTask
from stepstream.asl.tokens import encode_token

if TYPE_CHECKING:
    from stepstream.asl.states.base import Runner


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(StateDef):
    resource: ResourceRef
    timeout_seconds: Any = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: Any = None
    heartbeat_seconds_path: str | None = None
    credentials: Any = None


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> TaskState:
    return TaskState(
        **common_fields(name, raw, language),
        resource=parse_resource(raw["Resource"]),
        timeout_seconds=raw.get("TimeoutSeconds"),
        timeout_seconds_path=raw.get("TimeoutSecondsPath"),
        heartbeat_seconds=raw.get("HeartbeatSeconds"),
        heartbeat_seconds_path=raw.get("HeartbeatSecondsPath"),
        credentials=raw.get("Credentials"),
    )


def _seconds(value: Any, path: str | None, raw: Any, env: Env, field: str) -> int | None:
    if value is None and path is None:
        return None
    if value is not None and jsonata_expr.is_expression(value):
        value = jsonata(value, env, field.removesuffix("Path"), input=raw)
    elif path is not None:
        value = select_path(path, select_path("$", raw, env, field), env, field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise StatesError(errors.RUNTIME, f"{field} must be a positive integer, got {value!r}")
    return value


def step(state: TaskState, raw: Any, env: Env) -> Outcome:
    parameters = state_input(state, raw, env)
    check_state_data(state.name, parameters)
    data = raw if state.is_jsonata else select_path(state.input_path, raw, env, "InputPath")
    timeout = _seconds(
        state.timeout_seconds, state.timeout_seconds_path, data, env, "TimeoutSecondsPath"
    )
    heartbeat = _seconds(
        state.heartbeat_seconds, state.heartbeat_seconds_path, data, env, "HeartbeatSecondsPath"
    )
    return RunTask(state.resource, parameters, timeout, heartbeat)


def issue_token(run: Runner, state: TaskState, env: Env) -> str | None:
    """A task that waits for a token gets one before its parameters are built (`$$.Task`)."""
    if not state.resource.waits_for_token:
        return None
    task_id = str(run.state.last_event_id + 1)
    token = encode_token(run.state.execution_arn, task_id, run.entropy.uuid())
    env.context["Task"] = {"Token": token}
    return token


# -- deciding ------------------------------------------------------------------------------


def schedule(run: Runner, frame: Frame, task: RunTask, token: str | None) -> None:
    assert frame.state is not None
    ref = task.resource
    details: Details
    if ref.legacy_lambda:
        details = LambdaFunctionScheduledDetails(
            resource=ref.arn, input=task.parameters, timeoutInSeconds=task.timeout_seconds
        )
        event = run.emit("LambdaFunctionScheduled", details, frame.id)
    else:
        details = TaskScheduledDetails(
            resourceType=ref.resource_type,
            resource=ref.resource,
            parameters=task.parameters,
            timeoutInSeconds=task.timeout_seconds,
            heartbeatInSeconds=task.heartbeat_seconds,
            taskToken=token,
        )
        event = run.emit("TaskScheduled", details, frame.id)
    run.effects.append(
        ScheduleTask(
            task_id=str(event.id),
            resource=ref,
            payload=task.parameters,
            task_token=token,
            timeout_seconds=task.timeout_seconds,
            heartbeat_seconds=task.heartbeat_seconds,
            state_name=frame.state.name,
            scope=frame.id,
        )
    )


def on_message(run: Runner, message: TaskResult | TaskError | TaskPickedUp | TaskHeartbeat) -> None:
    """A worker's answer, pick-up or heartbeat for a pending task."""
    pending = run.state.tasks.get(message.task_id)
    if pending is None:
        return  # an answer to a task that is no longer pending changes nothing
    frame = run.state.frames[pending.frame_id]
    if not pending.started:
        _emit_task_event(run, frame, "Started", None)
    match message:
        case TaskHeartbeat() if pending.heartbeat_seconds is not None:
            run.emit("TaskHeartbeatRecorded", None, frame.id)
        case TaskResult(_, output):
            _emit_task_event(run, frame, "Succeeded", output)
            run.resume(frame, run.exit(frame, output, run.env(frame)))
        case TaskError(_, error, cause, hint):
            _task_failed(run, frame, "Failed", error, cause, hint)


def timed_out(run: Runner, frame: Frame, timer_kind: str) -> None:
    """The task's TimeoutSeconds or HeartbeatSeconds ran out."""
    if timer_kind == "timeout":
        _task_failed(run, frame, "TimedOut", errors.TIMEOUT, "Task timed out")
    else:
        _task_failed(run, frame, "TimedOut", errors.HEARTBEAT_TIMEOUT, "Task heartbeat timed out")


def _emit_task_event(run: Runner, frame: Frame, outcome: str, output: Any) -> None:
    pending = run.state.tasks[frame.task_id] if frame.task_id else None
    assert pending is not None
    ref = pending.resource
    if ref.legacy_lambda:
        lambda_details = (
            LambdaFunctionSucceededDetails(output=output) if outcome == "Succeeded" else None
        )
        run.emit(f"LambdaFunction{outcome}", lambda_details, frame.id)
    elif outcome == "Started":
        run.emit(
            "TaskStarted",
            TaskStartedDetails(resourceType=ref.resource_type, resource=ref.resource),
            frame.id,
        )
    else:
        details = TaskSucceededDetails(
            resourceType=ref.resource_type, resource=ref.resource, output=output
        )
        run.emit("TaskSucceeded", details, frame.id)


def _task_failed(
    run: Runner, frame: Frame, outcome: str, error: str, cause: str, hint: float | None = None
) -> None:
    pending = run.state.tasks[frame.task_id] if frame.task_id else None
    assert pending is not None
    ref = pending.resource
    if ref.legacy_lambda:
        kind = f"LambdaFunction{outcome}"
        details = FailureDetails(error=error, cause=cause, retryAfterSeconds=hint)
    else:
        kind = f"Task{outcome}"
        details = FailureDetails(
            error=error,
            cause=cause,
            resourceType=ref.resource_type,
            resource=ref.resource,
            retryAfterSeconds=hint,
        )
    run.resume(frame, run.fail_state(frame, error, cause, (kind, details)))


# -- recording -----------------------------------------------------------------------------


def scheduled(state: ExecutionState, event: HistoryEvent) -> None:
    details = event.details
    assert isinstance(details, TaskScheduledDetails | LambdaFunctionScheduledDetails)
    frame = lifecycle.event_frame(state, event)
    lifecycle.clear_timer(state, frame)
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


def started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    if frame.task_id is not None and frame.task_id in state.tasks:
        state.tasks[frame.task_id].started = True


def heartbeat_recorded(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    pending = state.tasks.get(frame.task_id) if frame.task_id is not None else None
    timer = state.timers.get(f"heartbeat:{frame.task_id}")
    if pending is not None and pending.heartbeat_seconds is not None and timer is not None:
        timer.due_at = event.timestamp + timedelta(seconds=pending.heartbeat_seconds)


def succeeded(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    lifecycle.drop_task(state, frame)
    frame.phase = Phase.ACTIVE


HANDLERS: dict[str, lifecycle.Handler] = {
    "TaskScheduled": scheduled,
    "LambdaFunctionScheduled": scheduled,
    "TaskStarted": started,
    "LambdaFunctionStarted": started,
    "TaskHeartbeatRecorded": heartbeat_recorded,
    "TaskSucceeded": succeeded,
    "LambdaFunctionSucceeded": succeeded,
    "TaskFailed": lifecycle.state_failed,
    "TaskTimedOut": lifecycle.state_failed,
    "LambdaFunctionFailed": lifecycle.state_failed,
    "LambdaFunctionTimedOut": lifecycle.state_failed,
}
