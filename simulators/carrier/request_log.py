"""Every API request the carrier received, when, and what it was answered.

A client's claim about when it called ("no sooner than the Retry-After") is checked
against the carrier's own clock here, not against the client's account of itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel

# Enough for any test or chaos run's checks; the oldest entries go first beyond it.
MAX_ENTRIES = 100_000


class LoggedRequest(BaseModel):
    """One ``/v1`` request: when it arrived, what it asked, and the status it got."""

    arrived_at: datetime
    method: str
    path: str
    idempotency_key: str | None = None
    # None while the answer is still on its way (an injected time-out holds it back).
    status: int | None = None
    retry_after: str | None = None  # the Retry-After header it was sent, if any


class RequestLog:
    """The requests in arrival order."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)

    def arrived(self, method: str, path: str, idempotency_key: str | None) -> LoggedRequest:
        entry = LoggedRequest(
            arrived_at=self._now(), method=method, path=path, idempotency_key=idempotency_key
        )
        self._entries.append(entry)
        return entry

    @staticmethod
    def answered(entry: LoggedRequest, status: int, retry_after: str | None) -> None:
        entry.status = status
        entry.retry_after = retry_after

    def all(self) -> list[LoggedRequest]:
        return list(self._entries)
