"""Placing orders at a steady rate, and watching them until they settle."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.chaos.timeline import Timeline
from services.review_desk.desk import ReviewDesk
from stepstream.api.client import StepStreamClient
from stepstream.store.base import ExecutionReader

MACHINE = "Fulfilment"
EVERYTHING = 10_000_000


async def place_orders(
    client: StepStreamClient,
    orders: list[dict[str, Any]],
    *,
    rate: float,
    timeline: Timeline,
    origin: float,
    accepted: list[str],
    give_up_at: float,
) -> None:
    """Start one execution per order, order ``i`` at ``origin + i / rate``.

    A start the stack does not acknowledge (its orchestrator or broker is down) is sent
    again, as any client would: a start is idempotent on the execution's name.
    """
    tasks: list[asyncio.Task[None]] = []

    async def place(order: dict[str, Any]) -> None:
        order_id = str(order["orderId"])
        while True:
            try:
                await client.start_execution(MACHINE, json.dumps(order), order_id)
            except Exception as exc:  # unacknowledged, for whatever reason: send it again
                timeline.record("start-refused", order=order_id, error=f"{type(exc).__name__}")
                if timeline.now() > give_up_at:
                    return
                await asyncio.sleep(1.0)
                continue
            accepted.append(order_id)
            timeline.record("accepted", order=order_id)
            return

    try:
        for index, order in enumerate(orders):
            delay = origin + index / rate - timeline.now()
            if delay > 0:
                await asyncio.sleep(delay)
            timeline.record("placed", order=order["orderId"], amount=order["amount"])
            tasks.append(asyncio.create_task(place(order)))
        await asyncio.gather(*tasks)
    finally:  # cancelled (the run was interrupted): no start may outlive the placing
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class Tally:
    """The orders' states at one look."""

    placed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    in_review: int = 0

    @property
    def running(self) -> int:
        return self.statuses["RUNNING"] - self.in_review

    def settled(self, *, operator: bool) -> int:
        done = sum(n for status, n in self.statuses.items() if status != "RUNNING")
        return done if operator else done + self.in_review

    def describe(self) -> str:
        return (
            f"placed {self.placed}  succeeded {self.statuses['SUCCEEDED']}  "
            f"failed {self.statuses['FAILED']}  in review {self.in_review}  "
            f"running {self.running}"
        )


async def look(
    store: ExecutionReader, desk: ReviewDesk, prefix: str, placed: int
) -> tuple[Tally, dict[str, str]]:
    """The tally now, and each of this run's executions' status by order id."""
    statuses: dict[str, str] = {}
    for record in await store.list_executions(MACHINE, limit=EVERYTHING):
        if record.name.startswith(prefix):
            statuses[record.name] = str(record.status)
    waiting = {t.execution_arn.rsplit(":", 1)[-1] for t in await desk.list_tickets()}
    tally = Tally(placed=placed, statuses=Counter(statuses.values()))
    tally.in_review = sum(1 for name in waiting if statuses.get(name) == "RUNNING")
    return tally, statuses


async def until_settled(
    store: ExecutionReader,
    desk: ReviewDesk,
    *,
    prefix: str,
    accepted: list[str],
    busy: Callable[[], bool],
    interrupted: asyncio.Event,
    operator: bool,
    settle_seconds: float,
    timeline: Timeline,
    show: Callable[[Tally], None],
    poll: float = 1.0,
) -> Tally:
    """Watch until every accepted order settled (ended, or waits for a person when no one
    plays the operator) and nothing is still being placed or injected; at most
    ``settle_seconds`` after that. An order still moving then is for the audit to report."""
    deadline: float | None = None
    while True:
        try:
            tally, _ = await look(store, desk, prefix, len(accepted))
        except Exception as exc:  # a database busy with the run: look again
            timeline.record("look-failed", error=repr(exc))
            await asyncio.sleep(poll)
            continue
        timeline.record(
            "tally",
            placed=tally.placed,
            succeeded=tally.statuses["SUCCEEDED"],
            failed=tally.statuses["FAILED"],
            in_review=tally.in_review,
            running=tally.running,
        )
        show(tally)
        if interrupted.is_set():
            timeline.record("interrupted")
            return tally
        if not busy():
            if deadline is None:
                deadline = timeline.now() + settle_seconds
            if tally.settled(operator=operator) >= len(accepted):
                timeline.record("settled")
                return tally
            if timeline.now() > deadline:
                timeline.record(
                    "settle-bound-reached",
                    unsettled=len(accepted) - tally.settled(operator=operator),
                )
                return tally
        await asyncio.sleep(poll)
