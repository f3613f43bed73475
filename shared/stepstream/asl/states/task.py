"""Task: hands work to a resource and waits for its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl import errors, jsonata_expr
from stepstream.asl.dataflow import Env, jsonata, select_path, state_input
from stepstream.asl.definition import QueryLanguage, StateDef, common_fields
from stepstream.asl.errors import StatesError
from stepstream.asl.limits import check_state_data
from stepstream.asl.resources import ResourceRef, parse_resource
from stepstream.asl.states.outcomes import Outcome, RunTask


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
        value = jsonata(value, env, input=raw)
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
