"""Cutting one decision's history events into messages that each fit in a record.

A decision may emit many events each carrying a state's input or output (up to 256 KiB
apiece), so one message per decision can outgrow what the broker takes and then block
every message behind it in the outbox. Events go out instead in batches bounded in
bytes, in order; an event too large for a message on its own has its largest detail
fields replaced by a marker naming their size (the event store keeps them whole).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stepstream.asl.limits import payload_size
from stepstream.messaging.contracts import HistoryBatch, history_envelope
from stepstream.messaging.envelope import Envelope

TRUNCATED = "truncated"  # an event record's key: its fields that were cut, and their sizes


def history_envelopes(
    execution_arn: str, state_machine: str, events: list[dict[str, Any]], *, max_bytes: int
) -> list[Envelope]:
    """``events`` as history messages of at most ``max_bytes`` each, in order."""
    empty = _envelope(execution_arn, state_machine, [])
    # A batch costs its empty envelope, each event, and a comma between two events.
    budget = max_bytes - len(empty.to_bytes())
    # Nearly always the whole decision fits in one message: one measure of all the
    # events (less the brackets the empty envelope has) instead of one per event.
    if payload_size(events) - 2 <= budget:
        return [_envelope(execution_arn, state_machine, events)]
    return [_envelope(execution_arn, state_machine, batch) for batch in _batches(events, budget)]


def _envelope(arn: str, state_machine: str, events: list[dict[str, Any]]) -> Envelope:
    return history_envelope(
        HistoryBatch(state_machine=state_machine, events=events), execution_id=arn
    )


def _batches(events: list[dict[str, Any]], budget: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    used = 0
    for event in events:
        size = payload_size(event)
        if size > budget:
            event = truncated(event, budget)
            size = payload_size(event)
        cost = size + (1 if batch else 0)
        if batch and used + cost > budget:
            yield batch
            batch, used, cost = [], 0, size
        batch.append(event)
        used += cost
    if batch:
        yield batch


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
