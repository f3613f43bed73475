"""History messages: one decision's events, cut into messages that each fit in a record."""

from __future__ import annotations

from typing import Any

from services.orchestrator.history_batches import history_envelopes
from stepstream.asl.history import HistoryEvent
from stepstream.messaging.contracts import HISTORY_KIND

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


def test_small_events_of_one_decision_travel_together() -> None:
    events = [event(i, name="P", output={"n": i}) for i in range(1, 4)]
    [envelope] = history_envelopes(ARN, "m", events, max_bytes=LIMIT)
    assert envelope.kind == HISTORY_KIND
    assert envelope.payload == {"state_machine": "m", "events": events}


def test_large_events_are_spread_over_messages_each_within_the_limit() -> None:
    events = [event(i, name="P", output="x" * 20_000) for i in range(1, 13)]
    envelopes = history_envelopes(ARN, "m", events, max_bytes=LIMIT)
    assert len(envelopes) > 1
    assert all(len(e.to_bytes()) <= LIMIT for e in envelopes)
    assert [ev for e in envelopes for ev in e.payload["events"]] == events


def test_an_event_too_large_on_its_own_is_sent_with_its_large_fields_marked() -> None:
    huge = event(
        7, "TaskSucceeded", resourceType="lambda", resource="invoke", output={"b": "y" * 100_000}
    )
    [envelope] = history_envelopes(ARN, "m", [event(6), huge], max_bytes=LIMIT)
    assert len(envelope.to_bytes()) <= LIMIT
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
