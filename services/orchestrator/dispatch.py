"""Turning a decision into what one append writes: events, outbox messages, timer changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from services.orchestrator.executions import Loaded
from services.orchestrator.history_batches import history_messages
from stepstream.asl import errors
from stepstream.asl.lambda_invoke import function_event
from stepstream.asl.messages import (
    CancelTimer,
    Decision,
    Message,
    ScheduleTask,
    StartTimer,
    TaskError,
    TaskResult,
)
from stepstream.bindings import Command, Publish, publish_result, published_message, resolve
from stepstream.messaging.contracts import (
    TaskCommand,
    TaskPublish,
    command_envelope,
    publish_envelope,
)
from stepstream.messaging.envelope import (
    DEFAULT_MAX_BYTES,
    MAX_NESTING,
    Envelope,
    nests_too_deeply,
)
from stepstream.messaging.topics import Topics
from stepstream.store.prepare import encode_json
from stepstream.store.records import NewEvent, OutboxMessage, Timer


class UnencodableDecision(Exception):
    """A decision whose events or messages cannot be written for others to read.

    Values from outside are held to a nesting depth that leaves room for the messages
    carrying them; a definition can still build deeper ones, state after state. The
    execution then fails, instead of its messages being refused by every reader.
    """


@dataclass(slots=True)
class Writes:
    events: list[NewEvent] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    timers_set: list[Timer] = field(default_factory=list)
    timers_cleared: list[str] = field(default_factory=list)
    # Answers known at once (a publish without a token); handled right after the append.
    immediate: list[Message] = field(default_factory=list)


def command_id(execution_arn: str, task_id: str) -> str:
    return f"{execution_arn}#{task_id}"


def parse_command_id(value: str) -> tuple[str, str]:
    arn, sep, task_id = value.rpartition("#")
    if not sep or not arn or not task_id:
        raise ValueError(f"command_id {value!r} does not name an execution's task")
    return arn, task_id


def store_timer_id(execution_arn: str, timer_id: str) -> str:
    # Timer ids are unique within an execution; the store wants them unique everywhere.
    return f"{execution_arn}|{timer_id}"


def _outbox(topic: str, envelope: Envelope) -> OutboxMessage:
    value = _readable(envelope.to_bytes())
    return OutboxMessage(topic=topic, key=envelope.execution_id.encode(), value=value)


def _readable(message: bytes) -> bytes:
    """``message``, unless it nests deeper than its readers take."""
    if nests_too_deeply(message):
        raise UnencodableDecision(
            f"a message of this execution would nest more than {MAX_NESTING} levels deep"
        )
    return message


def _task_message(loaded: Loaded, task: ScheduleTask, topics: Topics, writes: Writes) -> None:
    arn = loaded.execution.state.execution_arn
    if loaded.machine.bindings_problem is not None:
        cause = (
            f"State machine '{loaded.machine.name}' has bindings that cannot be used "
            f"(state '{task.state_name}'): {loaded.machine.bindings_problem}"
        )
        writes.immediate.append(TaskError(task.task_id, errors.RUNTIME, cause))
        return
    target = resolve(loaded.machine.bindings, task.resource, task.payload)
    if target is None:
        cause = f"No binding for resource '{task.resource.arn}' of state '{task.state_name}'"
        writes.immediate.append(TaskError(task.task_id, errors.RUNTIME, cause))
        return

    cid = command_id(arn, task.task_id)
    # Stable across retries of one state, so a retried charge is still one charge.
    key = f"{arn}#{task.scope}#{task.state_name}"
    if isinstance(target, Command):
        payload = TaskCommand(
            resource=task.resource.arn,
            command=target.function,
            input=function_event(task.resource, task.payload),
            task_token=task.task_token,
            heartbeat_seconds=task.heartbeat_seconds,
            timeout_seconds=task.timeout_seconds,
        )
        command = command_envelope(payload, execution_id=arn, command_id=cid, idempotency_key=key)
        writes.outbox.append(_outbox(topics.commands(target.service), command))
        return
    assert isinstance(target, Publish)
    # The review desk rebuilds this message from the history (stepstream.api.waiting).
    message = published_message(task.payload, task.task_token, task.state_name)
    published = publish_envelope(
        TaskPublish.model_validate(message), execution_id=arn, command_id=cid, idempotency_key=key
    )
    writes.outbox.append(_outbox(f"{topics.prefix}.{target.topic}", published))
    if not target.waits_for_token:
        writes.immediate.append(TaskResult(task.task_id, publish_result(target)))


def plan(
    loaded: Loaded,
    decision: Decision,
    topics: Topics,
    fired_timer: str | None = None,
    *,
    max_message_bytes: int = DEFAULT_MAX_BYTES,
) -> Writes:
    """What to write for ``decision``; UnencodableDecision if it cannot be written."""
    try:
        return _plan(loaded, decision, topics, fired_timer, max_message_bytes)
    except PydanticSerializationError as exc:
        raise UnencodableDecision(f"a value of this execution cannot be written: {exc}") from None


def _plan(
    loaded: Loaded,
    decision: Decision,
    topics: Topics,
    fired_timer: str | None,
    max_message_bytes: int,
) -> Writes:
    arn = loaded.execution.state.execution_arn
    writes = Writes(events=[_encoded(e.type, e.to_record()) for e in decision.events])
    if fired_timer is not None:
        writes.timers_cleared.append(store_timer_id(arn, fired_timer))
    for effect in decision.effects:
        match effect:
            case ScheduleTask():
                _task_message(loaded, effect, topics, writes)
            case StartTimer(timer_id, due_at):
                key = store_timer_id(arn, timer_id)
                writes.timers_cleared.append(key)  # cleared first, so this re-arms a moved timer
                writes.timers_set.append(Timer(key, arn, due_at, {"timer_id": timer_id}))
            case CancelTimer(timer_id):
                writes.timers_cleared.append(store_timer_id(arn, timer_id))
    history = history_messages(arn, loaded.machine.name, writes.events, max_bytes=max_message_bytes)
    writes.outbox.extend(
        OutboxMessage(topics.history(), _readable(m), arn.encode()) for m in history
    )
    return writes


def _encoded(type_: str, data: dict[str, Any]) -> NewEvent:
    """The event with its JSON, encoded once: the store keeps it, the history carries it.

    An event record holds only what JSON holds, so the compiled encoder is used (about
    six times faster than json.dumps here); a non-finite number shows up as a bare
    token, and then the strict encoder decides (it may be inside a string) and names it.
    """
    text = to_json(data, inf_nan_mode="constants")
    if b"NaN" in text or b"Infinity" in text:
        return NewEvent(type_, data, encode_json(data, f"a {type_} event"))
    return NewEvent(type_, data, text.decode())
