"""History messages: one decision's events, cut into messages that each fit in a record."""

from __future__ import annotations

import json
from typing import Any

from services.orchestrator.history_batches import history_messages
from stepstream.asl.history import HistoryEvent
from stepstream.messaging.contracts import HISTORY_KIND, HistoryBatch, history_envelope
from stepstream.messaging.envelope import Envelope, decode
from stepstream.store.records import NewEvent

ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"
LIMIT = 64 * 1024


def event(number: int, kind: str = "PassStateExited", **details: Any) -> dict[str, Any]:
    return {
        "id": number,
        "previousEventId": number - 1,
        "timestamp": "2026-11-22T12:00:00+00:00",
        "type": kind,
        "details": details or {"name": "P"},
        "scope": "",
    }


def encoded(*events: dict[str, Any]) -> list[NewEvent]:
    """Events as the orchestrator hands them over: with their JSON text, as the store keeps it."""
    return [NewEvent(e["type"], e, json.dumps(e, separators=(",", ":"))) for e in events]


def history_envelopes(
    arn: str, state_machine: str, events: list[dict[str, Any]], *, max_bytes: int
) -> list[Envelope]:
    """The messages as a consumer of the history topic reads them, each checked for size."""
    messages = history_messages(arn, state_machine, encoded(*events), max_bytes=max_bytes)
    assert all(len(message) <= max_bytes for message in messages)
    return [decode(message) for message in messages]


def test_small_events_of_one_decision_travel_together() -> None:
    events = [event(i, name="P", output={"n": i}) for i in range(1, 4)]
    [envelope] = history_envelopes(ARN, "m", events, max_bytes=LIMIT)
    assert envelope.kind == HISTORY_KIND
    assert envelope.execution_id == ARN
    assert envelope.payload == {"state_machine": "m", "events": events}


def test_a_message_is_the_envelope_the_model_gives_with_the_events_text_put_in() -> None:
    events = [event(1, name='P\u00e9 "quoted"', output={"events": []})]
    [message] = history_messages(ARN, 'm "x"', encoded(*events), max_bytes=LIMIT)
    received = decode(message)
    expected = history_envelope(
        HistoryBatch(state_machine='m "x"', events=events), execution_id=ARN
    )
    same_but_id_and_time = {"message_id", "created_at"}
    assert received.model_dump(exclude=same_but_id_and_time) == expected.model_dump(
        exclude=same_but_id_and_time
    )


def test_large_events_are_spread_over_messages_each_within_the_limit() -> None:
    events = [event(i, name="P", output="x" * 20_000) for i in range(1, 13)]
    envelopes = history_envelopes(ARN, "m", events, max_bytes=LIMIT)
    assert len(envelopes) > 1
    assert [ev for e in envelopes for ev in e.payload["events"]] == events


def test_an_event_too_large_on_its_own_is_sent_with_its_large_fields_marked() -> None:
    huge = event(
        7, "TaskSucceeded", resourceType="lambda", resource="invoke", output={"b": "y" * 100_000}
    )
    [envelope] = history_envelopes(ARN, "m", [event(6), huge], max_bytes=LIMIT)
    sent = envelope.payload["events"][1]
    assert sent["truncated"] == {"details.output": 100_008}
    assert sent["details"]["output"]["truncated"] is True
    assert sent["details"]["output"]["bytes"] == 100_008
    assert sent["details"]["resource"] == "invoke"  # small fields stay as they were
    assert HistoryEvent.from_record(sent).id == 7  # readers of the topic still parse it


def test_a_string_field_is_replaced_by_a_string() -> None:
    failed = event(3, "TaskFailed", error="Boom", cause="z" * 100_000)
    [envelope] = history_envelopes(ARN, "m", [failed], max_bytes=LIMIT)
    cause = envelope.payload["events"][0]["details"]["cause"]
    assert isinstance(cause, str) and "truncated: 100002 bytes" in cause
    assert HistoryEvent.from_record(envelope.payload["events"][0]).type == "TaskFailed"
