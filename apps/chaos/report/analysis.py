"""The run's figures, from the records (what happened) and the timeline (when faults struck)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.chaos.audit.outcomes import COMPENSATING_STATES, OrderView, Outcome, timestamp
from apps.chaos.records import Records


@dataclass(frozen=True)
class Window:
    index: int
    label: str
    kind: str
    start: float
    end: float

    @property
    def instant(self) -> bool:
        return self.kind == "kill"


def windows(entries: list[dict[str, Any]]) -> list[Window]:
    """Each fault as it was played: from its start to its end, in run seconds."""
    starts = {e["fault"]: e for e in entries if e["kind"] == "fault-start"}
    ends = {e["fault"]: e for e in entries if e["kind"] == "fault-end"}
    return [
        Window(i, s["label"], s["type"], s["t"], ends[i]["t"] if i in ends else s["t"])
        for i, s in sorted(starts.items())
    ]


@dataclass(frozen=True)
class Point:
    """One settled order: when it started and ended, in run seconds, and how."""

    order_id: str
    start: float
    end: float
    outcome: Outcome

    @property
    def latency(self) -> float:
        return self.end - self.start


def points(
    orders: list[OrderView], origin: datetime, placed: dict[str, float] | None = None
) -> list[Point]:
    """Settled orders; an order's latency counts from when it was placed, when known, as
    its customer would see it, else from its execution's start."""
    found = []
    for order in orders:
        if order.started is None or order.ended is None:
            continue
        started = (order.started - origin).total_seconds()
        found.append(
            Point(
                order.order_id,
                min(started, (placed or {}).get(order.order_id, started)),
                (order.ended - origin).total_seconds(),
                order.outcome,
            )
        )
    return sorted(found, key=lambda p: p.end)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Series:
    """Per time bucket: orders settled per second and their p50/p99 latency."""

    bucket: float
    times: list[float]
    throughput: list[float]
    p50: list[float | None]
    p99: list[float | None]


def series(settled: list[Point], buckets: int = 60) -> Series:
    if not settled:
        return Series(1.0, [], [], [], [])
    span = max(p.end for p in settled)
    bucket = max(1.0, span / buckets)
    count = int(span // bucket) + 1
    latencies: list[list[float]] = [[] for _ in range(count)]
    for point in settled:
        latencies[min(count - 1, int(point.end // bucket))].append(point.latency)
    return Series(
        bucket=bucket,
        times=[(i + 0.5) * bucket for i in range(count)],
        throughput=[len(b) / bucket for b in latencies],
        p50=[percentile(b, 0.5) if b else None for b in latencies],
        p99=[percentile(b, 0.99) if b else None for b in latencies],
    )


def fault_table(
    faults: list[Window],
    settled: list[Point],
    orders: list[OrderView],
    records: Records,
    origin: datetime,
) -> list[dict[str, Any]]:
    """What each fault touched: orders in flight during it, retries, compensations and
    tickets inside it, and how long until every order it touched had settled."""
    by_id = {o.order_id: o for o in orders}
    rows = []
    for window in faults:
        start, end = window.start, window.end
        # An instant fault (a kill) is looked at over the second after it.
        horizon = max(end, start + 1.0)
        affected = [p for p in settled if p.start <= end and p.end >= start]
        unsettled = sum(
            1
            for o in orders
            if o.ended is None
            and o.started is not None
            and (o.started - origin).total_seconds() <= end
        )
        retries = compensations = 0
        for point in affected:
            for event in by_id[point.order_id].execution.events:
                at = (timestamp(event) - origin).total_seconds()
                if not start <= at <= horizon:
                    continue
                details = event.get("details") or {}
                if details.get("retryDelaySeconds") is not None:
                    retries += 1
                if event["type"].endswith("StateEntered") and details.get("name") in (
                    COMPENSATING_STATES
                ):
                    compensations += 1
        tickets = sum(
            1 for t in records.tickets if start <= (t.opened_at - origin).total_seconds() <= horizon
        )
        drained = [p.end for p in affected]
        rows.append(
            {
                "fault": window.label,
                "kind": window.kind,
                "from": round(start, 1),
                "to": round(end, 1),
                "ordersAffected": len(affected) + unsettled,
                "retries": retries,
                "compensations": compensations,
                "reviewTickets": tickets,
                "recoverySeconds": None
                if unsettled or not drained
                else round(max(0.0, max(drained) - end), 1),
            }
        )
    return rows


def steady_state(settled: list[Point], faults: list[Window]) -> dict[str, Any]:
    """The baseline: orders that started and ended before the first fault."""
    first = min((w.start for w in faults), default=float("inf"))
    calm = [p for p in settled if p.end < first]
    troubled = [p for p in settled if p.end >= first]

    def figures(group: list[Point]) -> dict[str, Any]:
        latencies = [p.latency for p in group]
        return {
            "orders": len(group),
            "p50LatencySeconds": round(statistics.median(latencies), 3) if latencies else None,
            "p99LatencySeconds": round(percentile(latencies, 0.99), 3) if latencies else None,
        }

    return {"beforeFirstFault": figures(calm), "fromFirstFault": figures(troubled)}
