"""One order down every path of the fulfilment definition, through the running stack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.demo.orders import order_document
from simulators.carrier import admin as carrier
from stepstream.api.client import StepStreamClient

MACHINE = "Fulfilment"
REVIEW_STATE = "WaitForHumanReview"


@dataclass
class Outcome:
    label: str
    order: dict[str, Any]
    arn: str
    status: str = "RUNNING"
    error: str | None = None
    path: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def order_id(self) -> str:
        return str(self.order["orderId"])

    @property
    def retries(self) -> int:
        """Attempts the definition's Retry rules repeated."""
        return sum(
            1
            for e in self.history
            if e["type"] == "TaskFailed"
            and e["taskFailedEventDetails"].get("retryDelaySeconds") is not None
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "retries": self.retries,
            "id": self.order_id,
            "label": self.label,
            "path": self.path,
            "status": self.status,
            "error": self.error,
        }


class Scenario:
    def __init__(
        self,
        client: StepStreamClient,
        carrier_url: str,
        *,
        say: Callable[[str], None],
        timeout: float = 120.0,
    ):
        self.client = client
        self.carrier_url = carrier_url
        self.say = say
        self.timeout = timeout

    async def place(self, label: str, order: dict[str, Any]) -> Outcome:
        started = await self.client.start_execution(MACHINE, json.dumps(order), order["orderId"])
        self.say(f"placed  {order['orderId']}  {label}")
        return Outcome(label, order, str(started["executionArn"]))

    async def refresh(self, outcome: Outcome) -> Outcome:
        described = await self.client.describe_execution(outcome.arn)
        outcome.history = (await self.client.get_execution_history(outcome.arn))["events"]
        outcome.path = [
            e["stateEnteredEventDetails"]["name"]
            for e in outcome.history
            if e["type"].endswith("StateEntered") and "scope" not in e
        ]
        waiting = (
            outcome.path and outcome.path[-1] == REVIEW_STATE and described["status"] == "RUNNING"
        )
        outcome.status = "WAITING_REVIEW" if waiting else described["status"]
        outcome.error = described.get("error") or (
            _review_error(outcome.history) if waiting else None
        )
        return outcome

    async def until(
        self, outcome: Outcome, done: Callable[[Outcome], bool], *, quiet: bool = False
    ) -> Outcome:
        deadline = asyncio.get_running_loop().time() + self.timeout
        while not done(await self.refresh(outcome)):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(
                    f"order {outcome.order_id} ({outcome.label}) is stuck at {outcome.path[-1:]}"
                )
            await asyncio.sleep(0.2)
        if not quiet:
            self.say(f"{outcome.status:<15} {outcome.order_id}  {outcome.label}")
        return outcome

    async def ended(self, outcome: Outcome) -> Outcome:
        return await self.until(outcome, lambda o: o.status != "RUNNING")

    async def run(self) -> list[Outcome]:
        independent = [
            ("happy path", order_document("MUG", 2)),
            ("declined card", order_document("MUG", 1, card="pm_card_chargeDeclined")),
            ("out of stock", order_document("RARE", 3)),
            ("carrier rejects the address", order_document("TEE", 1, line1="REJECT")),
        ]
        placed = [await self.place(label, order) for label, order in independent]
        outcomes = list(await asyncio.gather(*(self.ended(o) for o in placed)))
        # The carrier's faults are global, so these two run alone.
        outcomes.append(await self._transient())
        outcomes.append(await self._unknown())
        return outcomes

    async def _with_faults(
        self,
        faults: dict[str, Any],
        label: str,
        order: dict[str, Any],
        enough: Callable[[Outcome], bool],
    ) -> Outcome:
        """Place `order` while the carrier misbehaves, until `enough` holds; then heal it."""
        await carrier.set_faults(self.carrier_url, **faults)
        try:
            outcome = await self.place(label, order)
            return await self.until(
                outcome, lambda o: enough(o) or o.status != "RUNNING", quiet=True
            )
        finally:
            await carrier.clear_faults(self.carrier_url)
            self.say("carrier healed")

    async def _transient(self) -> Outcome:
        outcome = await self._with_faults(
            {"rate_503": 1.0, "seed": 7},
            "carrier errors, retried to success",
            order_document("POSTER", 1),
            lambda o: _failed_attempts(o.history, "BookShipment") >= 2,
        )
        return await self.ended(outcome)

    async def _unknown(self) -> Outcome:
        return await self.sent_to_review(
            "unreadable carrier answer, sent to review", order_document("MUG", 1)
        )

    async def sent_to_review(self, label: str, order: dict[str, Any]) -> Outcome:
        """Place ``order`` while the carrier garbles its answers (it books all the same)."""
        outcome = await self._with_faults(
            {"rate_malformed": 1.0, "seed": 7},
            label,
            order,
            lambda o: o.status == "WAITING_REVIEW",
        )
        self.say(f"{outcome.status:<15} {outcome.order_id}  {outcome.label}")
        return outcome


def _failed_attempts(history: list[dict[str, Any]], state: str) -> int:
    count, current = 0, None
    for event in history:
        if event["type"].endswith("StateEntered"):
            current = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "TaskFailed" and current == state:
            count += 1
    return count


def _review_error(history: list[dict[str, Any]]) -> str | None:
    for event in reversed(history):
        if event["type"] == "TaskFailed":
            return str(event["taskFailedEventDetails"]["error"])
    return None
