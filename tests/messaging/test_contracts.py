"""Task commands and replies, and the envelopes that carry them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stepstream.messaging.contracts import (
    TaskCommand,
    TaskFailedReply,
    TaskHeartbeatReply,
    TaskSucceededReply,
    command_envelope,
    parse_command,
    parse_reply,
    reply_envelope,
)
from stepstream.messaging.envelope import Envelope, MalformedMessage, decode, encode

COMMAND = TaskCommand(
    resource="arn:aws:states:::lambda:invoke",
    command="book-shipment",
    input={"orderId": "o-1"},
    heartbeat_seconds=10,
    timeout_seconds=60,
)


def sent_command() -> Envelope:
    envelope = command_envelope(
        COMMAND, execution_id="exec-1", command_id="c-7", idempotency_key="exec-1/c-7", attempt=2
    )
    return decode(encode(envelope))


def test_a_command_travels_in_its_envelope() -> None:
    envelope = sent_command()

    assert envelope.kind == "task.command"
    assert (envelope.execution_id, envelope.command_id) == ("exec-1", "c-7")
    assert (envelope.idempotency_key, envelope.attempt) == ("exec-1/c-7", 2)
    assert parse_command(envelope) == COMMAND


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (TaskSucceededReply(output={"trackingNumber": "T1"}), "task.succeeded"),
        (TaskFailedReply(error="CarrierDown", cause="503", retriable=True), "task.failed"),
        (TaskFailedReply(error="CarrierRateLimited", retry_after_seconds=30), "task.failed"),
        (TaskHeartbeatReply(), "task.heartbeat"),
    ],
)
def test_each_reply_has_its_kind_and_names_its_command(
    reply: TaskSucceededReply | TaskFailedReply | TaskHeartbeatReply, kind: str
) -> None:
    command = sent_command()

    answer = decode(encode(reply_envelope(reply, to=command)))

    assert answer.kind == kind
    assert (answer.execution_id, answer.command_id) == ("exec-1", "c-7")
    assert (answer.idempotency_key, answer.attempt) == ("exec-1/c-7", 2)
    assert parse_reply(answer) == reply


def test_a_failure_without_a_retriable_flag_says_none() -> None:
    assert TaskFailedReply(error="E").retriable is None


def test_parsing_a_command_from_another_kind_is_refused() -> None:
    envelope = Envelope(kind="task.succeeded", execution_id="e", command_id="c")

    with pytest.raises(MalformedMessage, match=r"kind 'task\.succeeded' is not 'task\.command'"):
        parse_command(envelope)


def test_a_command_without_an_id_is_refused() -> None:
    envelope = Envelope(kind="task.command", execution_id="e", payload=COMMAND.model_dump())

    with pytest.raises(MalformedMessage, match="'command_id' missing"):
        parse_command(envelope)


def test_an_invalid_command_payload_names_the_field() -> None:
    payload = {"resource": "r", "command": "", "heartbeat_seconds": 0}
    envelope = Envelope(kind="task.command", execution_id="e", command_id="c", payload=payload)

    with pytest.raises(MalformedMessage) as caught:
        parse_command(envelope)

    assert caught.value.reason.startswith("task.command payload: ")
    assert "field 'payload.command' invalid" in caught.value.reason
    assert "field 'payload.heartbeat_seconds' invalid" in caught.value.reason


def test_a_reply_of_an_unknown_kind_is_refused() -> None:
    envelope = Envelope(kind="task.cancelled", execution_id="e", command_id="c")

    with pytest.raises(MalformedMessage, match=r"'task\.cancelled' is not a reply"):
        parse_reply(envelope)


def test_a_reply_without_a_command_id_is_refused() -> None:
    envelope = Envelope(kind="task.heartbeat", execution_id="e")

    with pytest.raises(MalformedMessage, match="'command_id' missing"):
        parse_reply(envelope)


def test_a_failure_reply_needs_an_error_name() -> None:
    envelope = Envelope(kind="task.failed", execution_id="e", command_id="c", payload={})

    with pytest.raises(MalformedMessage, match=r"field 'payload\.error' missing"):
        parse_reply(envelope)


def test_a_failure_without_a_retry_after_is_sent_as_before_hints_existed() -> None:
    answer = reply_envelope(TaskFailedReply(error="E", cause="c"), to=sent_command())

    assert answer.payload == {"error": "E", "cause": "c", "retriable": None}


@pytest.mark.parametrize("hint", [-1, "soon"])
def test_a_failure_reply_s_retry_after_must_be_seconds_not_below_zero(hint: object) -> None:
    payload = {"error": "CarrierRateLimited", "retry_after_seconds": hint}
    envelope = Envelope(kind="task.failed", execution_id="e", command_id="c", payload=payload)

    with pytest.raises(MalformedMessage, match=r"field 'payload\.retry_after_seconds' invalid"):
        parse_reply(envelope)


def test_payload_models_are_frozen_and_strict() -> None:
    with pytest.raises(ValidationError, match="extra"):
        TaskSucceededReply.model_validate({"output": 1, "outptu": 2})
    with pytest.raises(ValidationError, match="frozen"):
        COMMAND.command = "other"
