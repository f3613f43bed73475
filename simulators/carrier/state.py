"""What one running carrier simulator holds, shared by its request handlers."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from aiohttp import web

from .faults import FaultPlan, FaultSettings
from .ledger import ShipmentLedger
from .request_log import RequestLog
from .stats import Stats, StatsReport


@dataclass
class CarrierState:
    """The shipments, the fault plan in force and the counts of one simulator."""

    api_key: str
    default_seed: int | None = None
    ledger: ShipmentLedger = field(default_factory=ShipmentLedger)
    stats: Stats = field(default_factory=Stats)
    requests: RequestLog = field(default_factory=RequestLog)
    plan: FaultPlan = field(init=False)
    # Set when the server stops, so slow answers end at once instead of holding it up.
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.plan = FaultPlan(FaultSettings(), default_seed=self.default_seed)

    def set_faults(self, settings: FaultSettings) -> FaultSettings:
        """Put new fault settings in force, restarting the seeded sequence of outcomes."""
        self.plan = FaultPlan(settings, default_seed=self.default_seed)
        return self.plan.settings

    def clear_faults(self) -> FaultSettings:
        return self.set_faults(FaultSettings())

    def report(self) -> StatsReport:
        return self.stats.report(
            bookings_made=self.ledger.booked_count, cancelled=self.ledger.cancelled_count
        )

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the simulator is stopping."""
        if seconds <= 0 or self.closing.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), seconds)


STATE = web.AppKey("carrier_state", CarrierState)
