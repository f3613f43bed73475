"""Counts of what the carrier answered, for chaos runs to check against their own tallies."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .faults import Fault


class Outcome(StrEnum):
    """What a carrier API request came to, as its client saw it."""

    BOOKED = "booked"  # 201, a new shipment
    REPLAYED = "replayed"  # 200, the shipment an idempotency key booked before
    OK = "ok"  # 200 for a read, a cancel or a label
    RATE_LIMITED = "rate_limited"  # 429
    UNAVAILABLE = "unavailable"  # 503
    TIMED_OUT = "timed_out"  # answered only after the time-out delay
    MALFORMED = "malformed"  # 200 whose body is not the documented JSON
    REJECTED = "rejected"  # 422 address_rejected, injected or genuine
    INVALID = "invalid"  # 400, a body that does not fit the API
    UNAUTHORIZED = "unauthorized"  # 401
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409, an idempotency key reused with another body


class StatsReport(BaseModel):
    """The answer of ``GET /_admin/stats``.

    ``requests`` is the sum of ``outcomes``; ``bookings_made`` counts shipments created
    (by plain, timed-out or malformed answers alike), ``cancelled`` those cancelled since.
    """

    model_config = ConfigDict(frozen=True)

    requests: int
    outcomes: dict[Outcome, int]
    faults_injected: dict[Fault, int]
    bookings_made: int
    cancelled: int


class Stats:
    """Running counts, kept by the request pipeline."""

    def __init__(self) -> None:
        self.outcomes: Counter[Outcome] = Counter()
        self.faults: Counter[Fault] = Counter()

    def record(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1

    def record_fault(self, fault: Fault) -> None:
        self.faults[fault] += 1

    def report(self, *, bookings_made: int, cancelled: int) -> StatsReport:
        return StatsReport(
            requests=sum(self.outcomes.values()),
            outcomes={outcome: self.outcomes[outcome] for outcome in Outcome},
            faults_injected=dict(sorted(self.faults.items())),
            bookings_made=bookings_made,
            cancelled=cancelled,
        )
