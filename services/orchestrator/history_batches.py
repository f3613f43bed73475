"""Cutting one decision's history events into messages that each fit in a record.

A decision may emit many events each carrying a state's input or output (up to 256 KiB
apiece), so one message per decision can outgrow what the broker takes and then block
every message behind it in the outbox. Events go out instead in batches bounded in
bytes, in order; an event too large for a message on its own has its largest detail
fields replaced by a marker naming their size (the event store keeps them whole).

Each event comes with its JSON already encoded (the same text the store keeps), and a
message is those texts joined into an envelope, not the events encoded once more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from stepstream.asl.limits import payload_size
from stepstream.messaging.contracts import history_message_parts
from stepstream.store.prepare import encode_json
from stepstream.store.records import NewEvent

TRUNCATED = "truncated"  # an event record's key: its fields that were cut, and their sizes


def history_messages(
    execution_arn: str, state_machine: str, events: Sequence[NewEvent], *, max_bytes: int
) -> list[bytes]:
    """``events`` as history messages of at most ``max_bytes`` each, in order."""
    head, tail = history_message_parts(state_machine, execution_id=execution_arn)
    texts = [_text(event) for event in events]
    # A batch costs the empty envelope, each event, and a comma between two events.
    budget = max_bytes - len(head) - len(tail)
    # Nearly always the whole decision fits in one message.
    if sum(map(len, texts)) + len(texts) - 1 <= budget:
        return [head + b",".join(texts) + tail]
    return [head + b",".join(batch) + tail for batch in _batches(events, texts, budget)]


def _text(event: NewEvent) -> bytes:
    if event.data_json is None:
        raise ValueError(f"a {event.type} event to publish must come with its JSON encoded")
    return event.data_json.encode()


def _batches(events: Sequence[NewEvent], texts: list[bytes], budget: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    used = 0
    for event, text in zip(events, texts, strict=True):
        if len(text) > budget:
            text = _encoded(truncated(event.data, budget))
        cost = len(text) + (1 if batch else 0)
        if batch and used + cost > budget:
            yield batch
            batch, used, cost = [], 0, len(text)
        batch.append(text)
        used += cost
    if batch:
        yield batch


def _encoded(event: dict[str, Any]) -> bytes:
    return encode_json(event, "a history event").encode()


def truncated(event: dict[str, Any], budget: int) -> dict[str, Any]:
    """``event`` with its largest detail fields replaced by markers until it fits ``budget``."""
    details = dict(event.get("details") or {})
    cut: dict[str, int] = {}
    fitted = {**event, "details": details, TRUNCATED: cut}
    sizes = {name: payload_size(value) for name, value in details.items()}
    for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if payload_size(fitted) <= budget:
            break
        details[name] = marker(details[name], sizes[name])
        cut[f"details.{name}"] = sizes[name]
    return fitted


def marker(value: Any, size: int) -> Any:
    """What stands in for a value left out; a string stays a string, for typed fields."""
    note = f"truncated: {size} bytes, too large for a history message; read the execution history"
    if isinstance(value, str):
        return f"<{note}>"
    return {TRUNCATED: True, "bytes": size, "note": note}
