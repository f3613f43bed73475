"""Folding an execution's history events into its row of the orders view.

Pure: no broker, no database. The projector hands in events as the orchestrator publishes
them (``HistoryEvent.to_record()`` dicts) and stores the row it gets back.

An event is applied at most once: the row remembers the id of the last event it applied,
and events at or below it are skipped, so a batch delivered again changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from stepstream import arns
from stepstream.asl.history import (
    ExecutionFailedDetails,
    ExecutionStartedDetails,
    FailureDetails,
    HistoryEvent,
    LambdaFunctionSucceededDetails,
    StateEnteredDetails,
    TaskSucceededDetails,
)

REVIEW_STATE = "WaitForHumanReview"

_FAILURES = frozenset(
    {"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}
)
_SUCCESSES = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded"})
_ENDINGS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


class OrderStatus(StrEnum):
    """Step Functions' execution statuses, and WAITING_REVIEW while an operator must decide."""

    RUNNING = "RUNNING"
    WAITING_REVIEW = "WAITING_REVIEW"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


class MalformedHistory(ValueError):
    """History events that cannot be read; the message names the event and what is wrong."""


@dataclass(frozen=True)
class OrderRow:
    """What the view knows of one order's execution.

    ``path`` holds the top-level states entered, in order (a Parallel's branches run
    inside the Parallel state that names them). ``retries`` counts failed attempts that a
    Retry rule tried again. ``error``/``cause`` are the execution's when it failed, else
    the latest task failure not yet followed by a success (what a waiting review is about).
    """

    execution_arn: str
    order_id: str
    state_machine: str
    status: OrderStatus
    path: tuple[str, ...]
    current_state: str | None
    error: str | None
    cause: str | None
    retries: int
    tracking_number: str | None
    receipt_id: str | None
    receipt_total: int | None
    started_at: datetime | None
    updated_at: datetime
    last_event_id: int


def read_events(records: Iterable[Any]) -> list[HistoryEvent]:
    """Parse published event records, or raise ``MalformedHistory`` naming the bad one."""
    events = []
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise MalformedHistory(f"event {index} is not a JSON object")
        try:
            events.append(HistoryEvent.from_record(dict(record)))
        except KeyError as exc:
            raise MalformedHistory(
                f"event {index}: field or type {exc} unknown or missing"
            ) from None
        except (ValidationError, ValueError, TypeError) as exc:
            raise MalformedHistory(f"event {index}: {exc}") from None
    return events


def unapplied(row: OrderRow | None, events: Iterable[HistoryEvent]) -> list[HistoryEvent]:
    """The events ``row`` has not applied yet, by id, each once."""
    last = row.last_event_id if row is not None else 0
    fresh = {event.id: event for event in events if event.id > last}
    return [fresh[key] for key in sorted(fresh)]


def has_gap(row: OrderRow | None, fresh: Sequence[HistoryEvent]) -> bool:
    """Whether events are missing between what ``row`` applied and ``fresh`` (sorted)."""
    expected = (row.last_event_id if row is not None else 0) + 1
    for event in fresh:
        if event.id != expected:
            return True
        expected += 1
    return False


def project(
    row: OrderRow | None,
    execution_arn: str,
    state_machine: str,
    events: Iterable[HistoryEvent],
    *,
    review_state: str = REVIEW_STATE,
) -> OrderRow | None:
    """``row`` with the events it has not applied yet; None if there was nothing to start from."""
    for event in unapplied(row, events):
        row = _apply(row or _blank(execution_arn, state_machine, event), event, review_state)
    return row


def _blank(execution_arn: str, state_machine: str, first: HistoryEvent) -> OrderRow:
    try:
        _, name = arns.parse_execution_arn(execution_arn)
    except ValueError:
        name = execution_arn
    return OrderRow(
        execution_arn=execution_arn,
        order_id=name,
        state_machine=state_machine,
        status=OrderStatus.RUNNING,
        path=(),
        current_state=None,
        error=None,
        cause=None,
        retries=0,
        tracking_number=None,
        receipt_id=None,
        receipt_total=None,
        started_at=None,
        updated_at=_utc(first.timestamp),
        last_event_id=0,
    )


def _apply(row: OrderRow, event: HistoryEvent, review_state: str) -> OrderRow:
    changes: dict[str, Any] = {"last_event_id": event.id, "updated_at": _utc(event.timestamp)}
    details = event.details
    if isinstance(details, ExecutionStartedDetails):
        changes["started_at"] = _utc(event.timestamp)
        order_id = details.input.get("orderId") if isinstance(details.input, dict) else None
        if isinstance(order_id, str) and order_id:
            changes["order_id"] = order_id
    elif event.type in _ENDINGS:
        changes.update(_ended(event))
    elif event.type == "ExecutionRedriven":
        # Redriven: it runs again from where it stopped, and has no outcome yet.
        changes.update(status=OrderStatus.RUNNING, error=None, cause=None)
    elif isinstance(details, StateEnteredDetails) and not event.scope:
        changes["path"] = (*row.path, details.name)
        changes["current_state"] = details.name
        if details.name == review_state:
            changes["status"] = OrderStatus.WAITING_REVIEW
    elif event.type.endswith("StateExited") and not event.scope:
        changes["current_state"] = None
        if row.status is OrderStatus.WAITING_REVIEW:
            changes["status"] = OrderStatus.RUNNING
    elif isinstance(details, FailureDetails) and event.type in _FAILURES:
        changes.update(error=details.error, cause=details.cause)
        if details.retryDelaySeconds is not None:
            changes["retries"] = row.retries + 1
    elif event.type in _SUCCESSES:
        changes.update(error=None, cause=None, **_task_output_facts(details))
    return dataclasses.replace(row, **changes)


def _ended(event: HistoryEvent) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": OrderStatus(_ENDINGS[event.type]), "current_state": None}
    if event.type == "ExecutionSucceeded":
        changes.update(error=None, cause=None)
    elif isinstance(event.details, ExecutionFailedDetails):
        changes.update(error=event.details.error, cause=event.details.cause)
    return changes


def _task_output_facts(details: Any) -> dict[str, Any]:
    """Tracking number and receipt from a task's output, if it carries them."""
    if not isinstance(details, TaskSucceededDetails | LambdaFunctionSucceededDetails):
        return {}
    output = details.output
    # lambda:invoke wraps the function's answer in Payload; a plain Lambda ARN does not.
    if isinstance(output, dict) and isinstance(output.get("Payload"), dict):
        output = output["Payload"]
    if not isinstance(output, dict):
        return {}
    facts: dict[str, Any] = {}
    if isinstance(output.get("trackingNumber"), str):
        facts["tracking_number"] = output["trackingNumber"]
    if isinstance(output.get("receiptId"), str):
        facts["receipt_id"] = output["receiptId"]
        total = output.get("total")
        if isinstance(total, int) and not isinstance(total, bool):
            facts["receipt_total"] = total
    return facts


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
