"""Review tickets: what an operator must decide about, read from what the orchestrator publishes.

Pure: no broker, no database. A ticket is named by its task token (the id is derived
from it), so the same ticket published twice is one ticket.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from stepstream.messaging.contracts import TaskPublish
from stepstream.messaging.envelope import describe_validation_error


class TicketStatus(StrEnum):
    OPEN = "open"
    # An operator decided; the decision is on its way to the execution.
    DECIDING = "deciding"
    RESOLVED = "resolved"
    # The task it answers no longer waits (timed out, or answered some other way).
    EXPIRED = "expired"


class Decision(StrEnum):
    """What the definition's ChooseAfterReview branches on."""

    RETRY = "retry"
    COMPENSATE = "compensate"
    FAIL = "fail"


class MalformedTicket(ValueError):
    """A published review message that is not a ticket; the message says what is wrong."""


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    task_token: str
    execution_arn: str
    failed_state: str | None
    review_state: str
    error: str | None
    cause: str | None
    order: Any
    opened_at: datetime
    status: TicketStatus = TicketStatus.OPEN
    decision: Decision | None = None
    note: str | None = None
    operator: str | None = None
    closed_at: datetime | None = None
    closed_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ticket as the commands print it (camelCase, JSON-ready)."""
        return {
            "ticketId": self.ticket_id,
            "status": str(self.status),
            "executionArn": self.execution_arn,
            "failedState": self.failed_state,
            "reviewState": self.review_state,
            "error": self.error,
            "cause": self.cause,
            "order": self.order,
            "openedAt": self.opened_at.isoformat(),
            "decision": str(self.decision) if self.decision else None,
            "note": self.note,
            "operator": self.operator,
            "closedAt": self.closed_at.isoformat() if self.closed_at else None,
            "closedReason": self.closed_reason,
        }


def ticket_id_for(task_token: str) -> str:
    """A short, stable id for the ticket of ``task_token`` (what operators type)."""
    return "rv-" + hashlib.sha256(task_token.encode()).hexdigest()[:10]


def parse_decision(value: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        allowed = ", ".join(d.value for d in Decision)
        raise ValueError(f"decision must be one of {allowed}; got {value!r}") from None


class _ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Error: str | None = None
    Cause: str | None = None

    @field_validator("Cause", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # A cause is text in Step Functions; a structured one is kept as its JSON.
        return value if value is None or isinstance(value, str) else json.dumps(value)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    executionArn: str | None = None
    taskToken: str | None = None
    state: str | None = None
    errorInfo: _ErrorInfo | None = None
    order: Any = None


class _Published(TaskPublish):
    """The publish contract, with the message a review state sends."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    message: _Message


def read_ticket(payload: dict[str, Any], *, execution_id: str, opened_at: datetime) -> Ticket:
    """The ticket in a published review message, or ``MalformedTicket`` saying why not."""
    try:
        published = _Published.model_validate(payload)
    except ValidationError as exc:
        raise MalformedTicket(f"review message: {describe_validation_error(exc)}") from None
    message = published.message
    token = _agreed("task token", published.task_token, message.taskToken)
    if not token:
        raise MalformedTicket(
            f"review message from state {published.state!r} carries no task token: "
            "the review state must be a .waitForTaskToken task"
        )
    arn = _agreed("execution ARN", message.executionArn, execution_id)
    info = message.errorInfo or _ErrorInfo()
    return Ticket(
        ticket_id=ticket_id_for(token),
        task_token=token,
        execution_arn=arn or execution_id,
        failed_state=message.state,
        review_state=published.state,
        error=info.Error,
        cause=info.Cause,
        order=message.order,
        opened_at=opened_at,
    )


def _agreed(what: str, first: str | None, second: str | None) -> str | None:
    if first and second and first != second:
        raise MalformedTicket(f"review message names two different {what}s")
    return first or second
