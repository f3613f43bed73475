"""Wait: pauses for a time or until a moment; the engine arms a timer and never sleeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from stepstream.asl import errors, jsonata_expr, jsonpath
from stepstream.asl.dataflow import Env, jsonata, passthrough_output, select_path
from stepstream.asl.definition import QueryLanguage, StateDef, common_fields
from stepstream.asl.errors import StatesError
from stepstream.asl.frames import ExecutionState, Frame, Phase, Timer
from stepstream.asl.history import HistoryEvent
from stepstream.asl.json_values import compact_json
from stepstream.asl.ports import SeededEntropy
from stepstream.asl.states import lifecycle
from stepstream.asl.states.outcomes import Outcome, Sleep
from stepstream.asl.timestamps import parse_timestamp

if TYPE_CHECKING:
    from stepstream.asl.states.base import Runner


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(StateDef):
    seconds: Any = None
    seconds_path: str | None = None
    timestamp: Any = None
    timestamp_path: str | None = None


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> WaitState:
    return WaitState(
        **common_fields(name, raw, language),
        seconds=raw.get("Seconds"),
        seconds_path=raw.get("SecondsPath"),
        timestamp=raw.get("Timestamp"),
        timestamp_path=raw.get("TimestampPath"),
    )


# Step Functions keeps a delay in a 32-bit count of seconds: 2^31 s (about 68 years) or
# more is refused.
MAX_DELAY_SECONDS = 2**31 - 1


def _delay(seconds: int) -> timedelta:
    if seconds > MAX_DELAY_SECONDS:
        raise StatesError(errors.RUNTIME, "Wait state delay is too long.")
    return timedelta(seconds=seconds)


def _as_seconds(value: Any, field: str) -> int:
    """A literal or JSONata Seconds: a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesError(
            errors.RUNTIME,
            f"The {field} field must be a non-negative integer, got {compact_json(value)}",
        )
    return value


def _seconds_at(path: str, data: Any, env: Env) -> int:
    """SecondsPath, in Step Functions' words when it goes wrong."""
    try:
        value = jsonpath.select_with_context(path, data, env.context, env.variables)
    except LookupError:
        raise StatesError(
            errors.RUNTIME, f"The SecondsPath parameter does not reference an input value: {path}"
        ) from None
    said = f"{path} == {compact_json(value)}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatesError(
            errors.RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {said}"
        )
    if value < 0:
        raise StatesError(
            errors.RUNTIME, f"The SecondsPath parameter references a negative value: {said}"
        )
    return value


def _moment_at(path: str, data: Any, env: Env) -> datetime:
    try:
        value = jsonpath.select_with_context(path, data, env.context, env.variables)
    except LookupError:
        raise StatesError(
            errors.RUNTIME, f"The TimestampPath parameter does not reference an input value: {path}"
        ) from None
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise StatesError(
            errors.RUNTIME,
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            f"date-time format string: {path} == {compact_json(value)}",
        )
    return moment


def _as_moment(value: Any, field: str) -> datetime:
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise StatesError(
            errors.RUNTIME,
            f"The {field} field must be an RFC 3339 timestamp, got {compact_json(value)}",
        )
    return moment


def due_at(state: WaitState, raw: Any, env: Env) -> datetime:
    """When the wait ends, counted from `env.now`, the moment the state was entered."""
    if state.seconds is not None:
        value = state.seconds
        if jsonata_expr.is_expression(value):
            value = jsonata(value, env, "Seconds", input=raw)
        return env.now + _delay(_as_seconds(value, "Seconds"))
    if state.timestamp is not None:
        value = state.timestamp
        if jsonata_expr.is_expression(value):
            value = jsonata(value, env, "Timestamp", input=raw)
        return _not_too_far(_as_moment(value, "Timestamp"), env.now)
    data = select_path(state.input_path, raw, env, "InputPath")
    if state.seconds_path is not None:
        return env.now + _delay(_seconds_at(state.seconds_path, data, env))
    assert state.timestamp_path is not None
    return _not_too_far(_moment_at(state.timestamp_path, data, env), env.now)


def _not_too_far(moment: datetime, now: datetime) -> datetime:
    if (moment - now).total_seconds() > MAX_DELAY_SECONDS:
        raise StatesError(errors.RUNTIME, "Wait state delay is too long.")
    return moment


def step(state: WaitState, raw: Any, env: Env) -> Outcome:
    return Sleep(due_at(state, raw, env))


def output(state: WaitState, raw: Any, env: Env) -> tuple[Any, dict[str, Any]]:
    """A Wait hands its input on; it has no result to shape."""
    return passthrough_output(state, raw, env)


# -- deciding ------------------------------------------------------------------------------


def timer_fired(run: Runner, frame: Frame) -> None:
    run.resume(frame, run.exit(frame, None, run.env(frame)))


# -- recording -----------------------------------------------------------------------------


def entered(state: ExecutionState, event: HistoryEvent) -> None:
    """Entering a Wait arms its timer, so a replayed history re-arms it too."""
    frame = lifecycle.enter_state(state, event)
    current = frame.state
    assert isinstance(current, WaitState)
    try:
        due = due_at(
            current,
            frame.input,
            lifecycle.frame_env(state, frame, SeededEntropy(0), event.timestamp),
        )
    except StatesError:
        return  # the decider turns the same error into a failure
    timer_id = f"wait:{event.id}"
    state.timers[timer_id] = Timer(timer_id, "wait", due, frame_id=frame.id)
    frame.timer_id = timer_id
    frame.phase = Phase.TIMER


HANDLERS: dict[str, lifecycle.Handler] = {"WaitStateEntered": entered}
