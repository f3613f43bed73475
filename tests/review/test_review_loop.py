"""Review over a real broker: a ticket reaches the desk, and its decision reaches the execution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.review_desk.desk import TaskNoLongerPending
from services.review_desk.tickets import TicketStatus
from stepstream.messaging.kafka import KafkaSettings
from tests.review.support import REVIEW_BINDINGS, review_loop, reviewed_shipping


def entered(history: list[dict[str, object]]) -> list[str]:
    return [
        str(e["stateEnteredEventDetails"]["name"])  # type: ignore[index]
        for e in history
        if str(e["type"]).endswith("StateEntered")
    ]


async def test_a_retry_decision_reruns_the_failed_step(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path) as loop:
        await loop.system.register("Shipping", reviewed_shipping(), REVIEW_BINDINGS)
        arn = await loop.system.start("Shipping", "ord-1", {"orderId": "ord-1"})
        ticket = await loop.ticket_of(arn)
        assert (ticket.failed_state, ticket.error) == ("Ship", "CarrierResponseMalformed")
        assert ticket.order["orderId"] == "ord-1"

        shown = await loop.desk.show(ticket.ticket_id)
        assert shown.execution is not None and shown.execution.status == "RUNNING"
        assert shown.execution.path == ("Ship", "WaitForHumanReview")

        await loop.desk.resolve(
            ticket.ticket_id, decision="retry", note="carrier fixed", operator="ada"
        )
        described = await loop.system.finished(arn)
        assert described["status"] == "SUCCEEDED"
        output = json.loads(described["output"])
        assert output["reviewOutcome"] == {
            "decision": "retry",
            "note": "carrier fixed",
            "operator": "ada",
        }
        assert output["shipment"] == {"trackingNumber": "TRK-ord-1"}
        assert entered(await loop.system.history(arn)) == [
            "Ship",
            "WaitForHumanReview",
            "ChooseAfterReview",
            "Ship",
            "Shipped",
        ]
        assert (await loop.desk.ticket(ticket.ticket_id)).status is TicketStatus.RESOLVED


async def test_a_fail_decision_fails_the_order(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path) as loop:
        await loop.system.register("Shipping", reviewed_shipping(), REVIEW_BINDINGS)
        arn = await loop.system.start("Shipping", "ord-2", {"orderId": "ord-2"})
        ticket = await loop.ticket_of(arn)
        await loop.desk.resolve(ticket.ticket_id, decision="fail", operator="bob")
        described = await loop.system.finished(arn)
        assert described["status"] == "FAILED"
        assert described["error"] == "OrderFulfillmentFailed"
        assert loop.ship_calls == 1


async def test_a_decision_after_the_review_timed_out_is_refused(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path) as loop:
        await loop.system.register("Shipping", reviewed_shipping(review_timeout=1), REVIEW_BINDINGS)
        arn = await loop.system.start("Shipping", "ord-3", {"orderId": "ord-3"})
        ticket = await loop.ticket_of(arn)
        assert (await loop.system.finished(arn))["error"] == "States.Timeout"
        with pytest.raises(TaskNoLongerPending):
            await loop.desk.resolve(ticket.ticket_id, decision="retry", operator="ada")
        assert (await loop.desk.ticket(ticket.ticket_id)).status is TicketStatus.EXPIRED
