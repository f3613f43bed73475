"""Execution history in the Step Functions vocabulary.

An execution is nothing but its history: the interpreter's state is rebuilt by applying
these events in order. Each event is a frozen model named as Step Functions names it
(TaskScheduled, MapIterationStarted, ExecutionFailed, ...), with the details AWS gives it.

Three things AWS's history does not say, and a durable engine must, ride along: `scope`
names the Parallel branch or Map iteration an event belongs to ("" is the top level, "/1"
the second branch of a Parallel at the top level, "/1/7" item 7 of a Map inside it); a
failure that will be retried records the back-off it drew (`retryDelaySeconds`), so that
a replay never draws jitter again (and when the task's worker sent a Retry-After hint, the
hint, the drawn back-off and why the delay was chosen); and `TaskHeartbeatRecorded`, the
one event type AWS does not have, marks a heartbeat, since it moves the task's heartbeat
deadline and a replay must move it too. `ExecutionRedriven` also keeps the client token of
the redrive that made it, so that a repeated request is recognised; AWS does not show it.

Inside the engine, inputs and outputs are JSON values; `to_aws()` renders them as AWS
does, as JSON text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class Details(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExecutionStartedDetails(Details):
    input: Any = None
    roleArn: str | None = None
    stateMachineArn: str | None = None
    name: str | None = None


class ExecutionRedrivenDetails(Details):
    redriveCount: int
    clientToken: str | None = None


class ExecutionSucceededDetails(Details):
    output: Any = None


class ExecutionFailedDetails(Details):
    """Also the details of ExecutionAborted and ExecutionTimedOut."""

    error: str | None = None
    cause: str | None = None


class StateEnteredDetails(Details):
    name: str
    input: Any = None


class StateExitedDetails(Details):
    name: str
    output: Any = None
    assignedVariables: dict[str, Any] | None = None


class TaskScheduledDetails(Details):
    resourceType: str
    resource: str
    region: str = "local"
    parameters: Any = None
    timeoutInSeconds: int | None = None
    heartbeatInSeconds: int | None = None
    taskToken: str | None = None


class TaskStartedDetails(Details):
    resourceType: str
    resource: str


class TaskSucceededDetails(Details):
    resourceType: str
    resource: str
    output: Any = None


class FailureDetails(Details):
    """TaskFailed, TaskTimedOut, LambdaFunction(Failed|TimedOut), (Parallel|Map)StateFailed."""

    error: str
    cause: str = ""
    resourceType: str | None = None
    resource: str | None = None
    retryDelaySeconds: float | None = None
    # Only when the failure carried a Retry-After hint (never on AWS): the hint, and for a
    # retry the back-off the definition drew and why the delay above was chosen.
    retryAfterSeconds: float | None = None
    drawnDelaySeconds: float | None = None
    retryDelayReason: str | None = None


class LambdaFunctionScheduledDetails(Details):
    resource: str
    input: Any = None
    timeoutInSeconds: int | None = None
    taskToken: str | None = None


class LambdaFunctionSucceededDetails(Details):
    output: Any = None


class MapStateStartedDetails(Details):
    length: int


class MapRunStartedDetails(Details):
    mapRunArn: str


class MapIterationDetails(Details):
    name: str
    index: int


# Which AWS field holds each event's details. Events absent here carry none.
_DETAILS_FIELD: dict[str, str] = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionRedriven": "executionRedrivenEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskStarted": "taskStartedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "LambdaFunctionScheduled": "lambdaFunctionScheduledEventDetails",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "MapIterationFailed": "mapIterationFailedEventDetails",
    "MapIterationAborted": "mapIterationAbortedEventDetails",
    "MapRunStarted": "mapRunStartedEventDetails",
    "MapRunFailed": "mapRunFailedEventDetails",
    "ParallelStateFailed": "stateFailedEventDetails",
    "MapStateFailed": "stateFailedEventDetails",
}

# Fields whose JSON value AWS renders as JSON text.
_TEXT_FIELDS = ("input", "output", "parameters")
# Fields the engine keeps that AWS does not show.
_HIDDEN_FIELDS = ("clientToken",)

_DETAILS_TYPES: dict[str, type[Details]] = {
    "ExecutionStarted": ExecutionStartedDetails,
    "ExecutionRedriven": ExecutionRedrivenDetails,
    "ExecutionSucceeded": ExecutionSucceededDetails,
    "ExecutionFailed": ExecutionFailedDetails,
    "ExecutionAborted": ExecutionFailedDetails,
    "ExecutionTimedOut": ExecutionFailedDetails,
    "TaskScheduled": TaskScheduledDetails,
    "TaskStarted": TaskStartedDetails,
    "TaskSucceeded": TaskSucceededDetails,
    "TaskFailed": FailureDetails,
    "TaskTimedOut": FailureDetails,
    "LambdaFunctionScheduled": LambdaFunctionScheduledDetails,
    "LambdaFunctionSucceeded": LambdaFunctionSucceededDetails,
    "LambdaFunctionFailed": FailureDetails,
    "LambdaFunctionTimedOut": FailureDetails,
    "MapStateStarted": MapStateStartedDetails,
    "MapIterationStarted": MapIterationDetails,
    "MapIterationSucceeded": MapIterationDetails,
    "MapIterationFailed": MapIterationDetails,
    "MapIterationAborted": MapIterationDetails,
    "MapRunStarted": MapRunStartedDetails,
    "MapRunFailed": FailureDetails,
    "ParallelStateFailed": FailureDetails,
    "MapStateFailed": FailureDetails,
}

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
for _type in STATE_TYPES:
    _DETAILS_FIELD[f"{_type}StateEntered"] = "stateEnteredEventDetails"
    _DETAILS_TYPES[f"{_type}StateEntered"] = StateEnteredDetails
    if _type not in ("Succeed", "Fail"):
        _DETAILS_FIELD[f"{_type}StateExited"] = "stateExitedEventDetails"
        _DETAILS_TYPES[f"{_type}StateExited"] = StateExitedDetails
_DETAILS_FIELD["SucceedStateExited"] = "stateExitedEventDetails"
_DETAILS_TYPES["SucceedStateExited"] = StateExitedDetails

# Events that carry no details at all.
BARE_EVENTS = frozenset(
    {
        "ParallelStateStarted",
        "ParallelStateSucceeded",
        "ParallelStateAborted",
        "MapStateSucceeded",
        "MapStateAborted",
        "MapRunSucceeded",
        "WaitStateAborted",
        "LambdaFunctionStarted",
        "TaskHeartbeatRecorded",
    }
)

EVENT_TYPES = frozenset(_DETAILS_TYPES) | BARE_EVENTS


class HistoryEvent(BaseModel):
    """One entry of an execution's history."""

    model_config = ConfigDict(frozen=True)

    id: int
    previous_event_id: int
    timestamp: datetime
    type: str
    details: Details | None = None
    scope: str = ""

    def to_aws(self) -> dict[str, Any]:
        """The event as the Step Functions API returns it (with `scope` kept when not top level)."""
        out: dict[str, Any] = {
            "timestamp": self.timestamp.isoformat(),
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            body = self.details.model_dump(exclude_none=True)
            for key in _TEXT_FIELDS:
                if key in body:
                    body[key] = json.dumps(body[key], separators=(",", ":"))
            for key in _HIDDEN_FIELDS:
                body.pop(key, None)
            out[_DETAILS_FIELD[self.type]] = body
        if self.scope:
            out["scope"] = self.scope
        return out

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready form that `from_record` reads back exactly (for event stores)."""
        return {
            "id": self.id,
            "previousEventId": self.previous_event_id,
            "timestamp": self.timestamp.isoformat(),
            "type": self.type,
            "details": None if self.details is None else self.details.model_dump(exclude_none=True),
            "scope": self.scope,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> HistoryEvent:
        kind = record["type"]
        raw = record.get("details")
        details = None if raw is None else _DETAILS_TYPES[kind].model_validate(raw)
        return cls(
            id=record["id"],
            previous_event_id=record["previousEventId"],
            timestamp=datetime.fromisoformat(record["timestamp"]),
            type=kind,
            details=details,
            scope=record.get("scope", ""),
        )


_M = TypeVar("_M", bound=BaseModel)
_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}
# The fields-set of an instance given every field; shared, as frozen models never change it
# in place (model_copy copies it first).
_ALL_SET: dict[type[BaseModel], set[str]] = {}
_put = object.__setattr__
_new = object.__new__


def trusted(model: type[_M], **fields: Any) -> _M:
    """An instance of `model` from values the engine made itself, without validation.

    What pydantic's ``model_construct`` does, for the few models built on every state
    transition: validating them (or ``model_construct``'s own bookkeeping) cost several
    times the rest of a simple transition. Fields left out take their defaults.
    """
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = {name: info.default for name, info in model.model_fields.items()}
        _DEFAULTS[model] = defaults
        _ALL_SET[model] = set(defaults)
    instance = _new(model)
    if len(fields) == len(defaults):
        _put(instance, "__dict__", fields)
        _put(instance, "__pydantic_fields_set__", _ALL_SET[model])
    else:
        _put(instance, "__dict__", {**defaults, **fields})
        _put(instance, "__pydantic_fields_set__", set(fields))
    _put(instance, "__pydantic_extra__", None)
    _put(instance, "__pydantic_private__", None)
    return instance


def details_type(event_type: str) -> type[Details] | None:
    """The details model of an event type, None for events without details."""
    if event_type in BARE_EVENTS:
        return None
    return _DETAILS_TYPES[event_type]
