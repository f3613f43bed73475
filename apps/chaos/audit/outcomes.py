"""Where each order ended, read from its execution's history and the review tickets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from apps.chaos.records import ExecutionFacts, Records

REVIEW_STATE = "WaitForHumanReview"
COMPENSATING_STATES = ("Compensate", "RefundUnreservedOrder")
TERMINAL_EVENTS = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
)


def terminal_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events that ended the execution since it was last started or redriven."""
    since = 0
    for index, event in enumerate(events):
        if event["type"] == "ExecutionRedriven":
            since = index
    return [e for e in events[since:] if e["type"] in TERMINAL_EVENTS]


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    IN_REVIEW = "in_review"
    RUNNING = "running"
    OTHER = "other"  # aborted, timed out


@dataclass(frozen=True)
class OrderView:
    """One order as the records show it."""

    order_id: str
    execution: ExecutionFacts
    outcome: Outcome
    amount: int
    items: dict[str, int]
    compensated: bool
    started: datetime | None
    ended: datetime | None
    last_state: str | None

    @property
    def latency(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()


def top_level_states(events: Iterable[dict[str, Any]]) -> list[str]:
    return [
        str(e["details"]["name"])
        for e in events
        if e["type"].endswith("StateEntered") and not e.get("scope") and e.get("details")
    ]


def timestamp(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["timestamp"]))


def view(execution: ExecutionFacts, open_tickets: set[str]) -> OrderView:
    states = top_level_states(execution.events)
    last = states[-1] if states else None
    if execution.status == "SUCCEEDED":
        outcome = Outcome.SUCCEEDED
    elif execution.status == "FAILED":
        outcome = Outcome.FAILED
    elif execution.status == "RUNNING":
        waiting = last == REVIEW_STATE and execution.arn in open_tickets
        outcome = Outcome.IN_REVIEW if waiting else Outcome.RUNNING
    else:
        outcome = Outcome.OTHER
    started = timestamp(execution.events[0]) if execution.events else None
    terminal = terminal_events(execution.events)
    ended = timestamp(terminal[-1]) if terminal else None
    if outcome is Outcome.IN_REVIEW:
        ended = timestamp(_last_entered(execution.events, REVIEW_STATE))
    items: dict[str, int] = {}
    for item in execution.input.get("items", []):
        items[str(item["sku"])] = items.get(str(item["sku"]), 0) + int(item["qty"])
    return OrderView(
        order_id=execution.order_id,
        execution=execution,
        outcome=outcome,
        amount=int(execution.input.get("amount", 0)),
        items=items,
        compensated=any(s in COMPENSATING_STATES for s in states),
        started=started,
        ended=ended,
        last_state=last,
    )


def _last_entered(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for event in reversed(events):
        if (
            event["type"].endswith("StateEntered")
            and (event.get("details") or {}).get("name") == name
        ):
            return dict(event)
    return dict(events[-1])


def views(records: Records) -> dict[str, list[OrderView]]:
    """Every execution of the records, by order id."""
    open_tickets = {t.execution_arn for t in records.tickets if t.status == "open"}
    by_order: dict[str, list[OrderView]] = {}
    for execution in records.executions:
        by_order.setdefault(execution.order_id, []).append(view(execution, open_tickets))
    return by_order
