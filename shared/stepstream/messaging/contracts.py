"""The messages between processes: their kinds, payload models, and envelope builders.

A command goes from the orchestrator to a service; every reply carries, in its envelope's
``command_id``, the id of the command it answers, so the orchestrator can ignore replies
to commands that are no longer pending. A publish task's message goes to its topic (the
review desk reads those of the human-review topic), and every decision's history events
go out in history batches (the orders view reads them). Producers build envelopes with
the builders here and consumers parse them with the parsers here.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stepstream.asl.retry_after import MAX_RETRY_AFTER_SECONDS
from stepstream.messaging.envelope import Envelope, MalformedMessage, describe_validation_error
from stepstream.messaging.text import StorableText
from stepstream.observability import tracing


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    KIND: ClassVar[str]


class TaskCommand(_Payload):
    """Run the service's handler called ``command`` on ``input``."""

    KIND: ClassVar[str] = "task.command"

    resource: str = Field(min_length=1)
    command: str = Field(min_length=1)
    input: Any = None
    task_token: str | None = None
    heartbeat_seconds: int | None = Field(default=None, gt=0)
    timeout_seconds: int | None = Field(default=None, gt=0)


class TaskSucceededReply(_Payload):
    """The handler returned ``output``."""

    KIND: ClassVar[str] = "task.succeeded"

    output: Any = None


class TaskFailedReply(_Payload):
    """The handler failed; ``error`` is the name Retry and Catch match on."""

    KIND: ClassVar[str] = "task.failed"

    error: StorableText = Field(min_length=1)
    cause: StorableText = ""
    # Informational: the orchestrator decides by the definition's Retry, not by this.
    retriable: bool | None = None
    # How long the failed call's far end asked to be left alone (a Retry-After): the
    # retry the definition allows waits at least this long, up to its MaxDelaySeconds.
    retry_after_seconds: float | None = Field(
        default=None, ge=0, le=MAX_RETRY_AFTER_SECONDS, allow_inf_nan=False
    )


class TaskHeartbeatReply(_Payload):
    """The handler is still working."""

    KIND: ClassVar[str] = "task.heartbeat"


class TaskPublish(_Payload):
    """What a publish task puts on its topic: its message body, token and state name."""

    KIND: ClassVar[str] = "task.publish"

    message: Any = None
    task_token: str | None = None
    state: str


class HistoryBatch(_Payload):
    """History events of one execution, in order, as the orchestrator recorded them."""

    KIND: ClassVar[str] = "history.events"

    state_machine: str
    events: list[dict[str, Any]]


PUBLISH_KIND = TaskPublish.KIND
HISTORY_KIND = HistoryBatch.KIND

P = TypeVar("P", bound=_Payload)

TaskReply = TaskSucceededReply | TaskFailedReply | TaskHeartbeatReply

_REPLY_TYPES: dict[str, type[TaskReply]] = {
    model.KIND: model for model in (TaskSucceededReply, TaskFailedReply, TaskHeartbeatReply)
}
REPLY_KINDS = frozenset(_REPLY_TYPES)


def command_envelope(
    command: TaskCommand,
    *,
    execution_id: str,
    command_id: str,
    idempotency_key: str | None = None,
    attempt: int = 1,
) -> Envelope:
    """The envelope that sends ``command``; publish it keyed by ``execution_id``."""
    return Envelope(
        kind=TaskCommand.KIND,
        execution_id=execution_id,
        command_id=command_id,
        idempotency_key=idempotency_key,
        attempt=attempt,
        payload=command.model_dump(mode="json"),
        trace=tracing.inject(),
    )


def publish_envelope(
    publish: TaskPublish, *, execution_id: str, command_id: str, idempotency_key: str
) -> Envelope:
    """The envelope that puts a publish task's message on its topic."""
    return Envelope(
        kind=TaskPublish.KIND,
        execution_id=execution_id,
        command_id=command_id,
        idempotency_key=idempotency_key,
        payload=publish.model_dump(mode="json"),
    )


def history_envelope(batch: HistoryBatch, *, execution_id: str) -> Envelope:
    """The envelope carrying one history batch of ``execution_id``."""
    return Envelope(
        kind=HistoryBatch.KIND, execution_id=execution_id, payload=batch.model_dump(mode="json")
    )


# Where an empty history envelope's event list is, so encoded events can be put in it.
_NO_EVENTS = b'"events":[]}'


def history_message_parts(state_machine: str, *, execution_id: str) -> tuple[bytes, bytes]:
    """The bytes of a history envelope before and after its events, for events encoded once.

    The orchestrator has every event's JSON already (the store keeps it), and encoding
    the same events again for the message cost it as much as the store's whole encoding:
    ``head + b",".join(events) + tail`` is the envelope ``history_envelope`` would give
    (a new message id, this instant), with those events.
    """
    empty = history_envelope(
        HistoryBatch(state_machine=state_machine, events=[]), execution_id=execution_id
    ).to_bytes()
    # The payload is the envelope's last object but for the trace after it, so the last
    # place an empty event list appears is the payload's own.
    at = empty.rindex(_NO_EVENTS) + len(_NO_EVENTS) - 2
    return empty[:at], empty[at:]


def reply_envelope(reply: TaskReply, *, to: Envelope) -> Envelope:
    """The envelope answering the command envelope ``to``."""
    payload = reply.model_dump(mode="json")
    if isinstance(reply, TaskFailedReply) and reply.retry_after_seconds is None:
        # A failure without a hint goes out as it did before hints existed, so an
        # orchestrator that predates them still reads it.
        del payload["retry_after_seconds"]
    return Envelope(
        kind=reply.KIND,
        execution_id=to.execution_id,
        command_id=to.command_id,
        idempotency_key=to.idempotency_key,
        attempt=to.attempt,
        payload=payload,
        trace=tracing.inject(),
    )


def parse_command(envelope: Envelope) -> TaskCommand:
    """The command in ``envelope``, or ``MalformedMessage`` saying why there is none."""
    if envelope.kind != TaskCommand.KIND:
        raise MalformedMessage(f"kind {envelope.kind!r} is not {TaskCommand.KIND!r}")
    if envelope.command_id is None:
        raise MalformedMessage("field 'command_id' missing: a command needs an id to answer")
    return _validate(TaskCommand, envelope.payload)


def parse_reply(envelope: Envelope) -> TaskReply:
    """The reply in ``envelope``, or ``MalformedMessage`` saying why there is none."""
    model = _REPLY_TYPES.get(envelope.kind)
    if model is None:
        raise MalformedMessage(
            f"kind {envelope.kind!r} is not a reply (expected one of {sorted(REPLY_KINDS)})"
        )
    if envelope.command_id is None:
        raise MalformedMessage("field 'command_id' missing: a reply must name its command")
    return _validate(model, envelope.payload)


def _validate(model: type[P], payload: dict[str, Any]) -> P:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        detail = describe_validation_error(exc).replace("field '", "field 'payload.")
        raise MalformedMessage(f"{model.KIND} payload: {detail}") from None
