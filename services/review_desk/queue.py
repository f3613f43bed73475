"""The queue an operator works through: open tickets filtered, sorted and paged.

Filtering is done here on the open tickets, which are few (each is an order waiting on
a person), so the repository stays one simple query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.review_desk.tickets import Ticket

PAGE_SIZE = 25


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets: by failed step, by error, and by age in minutes (inclusive)."""

    step: str | None = None
    error: str | None = None
    min_age_minutes: float | None = None
    max_age_minutes: float | None = None

    def matches(self, ticket: Ticket, now: datetime) -> bool:
        age = now - ticket.opened_at
        if self.step and ticket.failed_state != self.step:
            return False
        if self.error and ticket.error != self.error:
            return False
        if self.min_age_minutes is not None and age < timedelta(minutes=self.min_age_minutes):
            return False
        return self.max_age_minutes is None or age <= timedelta(minutes=self.max_age_minutes)

    @property
    def empty(self) -> bool:
        return self == TicketFilter()


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int
    counts_by_error: dict[str, int]
    steps: list[str]
    errors: list[str]


def select(tickets: list[Ticket], wanted: TicketFilter, now: datetime) -> list[Ticket]:
    return [t for t in tickets if wanted.matches(t, now)]


def queue_page(
    tickets: list[Ticket],
    wanted: TicketFilter,
    now: datetime,
    *,
    newest_first: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the tickets ``wanted`` picks, oldest first unless ``newest_first``."""
    chosen = sorted(
        select(tickets, wanted, now),
        key=lambda t: (t.opened_at, t.ticket_id),
        reverse=newest_first,
    )
    pages = max(1, -(-len(chosen) // size))
    page = min(max(1, page), pages)
    counts = Counter(t.error or "(none)" for t in chosen)
    return QueuePage(
        tickets=chosen[(page - 1) * size : page * size],
        total=len(chosen),
        page=page,
        pages=pages,
        counts_by_error=dict(counts.most_common()),
        steps=sorted({t.failed_state for t in tickets if t.failed_state}),
        errors=sorted({t.error for t in tickets if t.error}),
    )
