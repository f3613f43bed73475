"""Deciding review tickets through the web desk, over HTTP, against a real review loop
(orchestrator, broker, store, a shipper that fails at first, the desk's intake)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from services.review_desk import repository
from stepstream.messaging.kafka import KafkaSettings
from tests.desk.support import add_users, desk_server, signed_in
from tests.review.support import (
    REVIEW_BINDINGS,
    ReviewLoop,
    advertise_stack,
    review_loop,
    reviewed_shipping,
    stepstream,
)


def order(order_id: str) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "items": [{"sku": "MUG", "qty": 1, "unitPrice": 900}],
        "amount": 900,
        "currency": "eur",
        "paymentMethod": "pm_card_visa",
        "address": {
            "name": "Ann Smith",
            "line1": "1 Old Street",
            "city": "Utrecht",
            "postal_code": "3511AA",
            "country": "NL",
        },
    }


async def waiting_tickets(loop: ReviewLoop, *order_ids: str) -> dict[str, str]:
    """Start one order per id; its ticket id once each waits for review."""
    await loop.system.register("Shipping", reviewed_shipping(), REVIEW_BINDINGS)
    found = {}
    for order_id in order_ids:
        arn = await loop.system.start("Shipping", order_id, order(order_id))
        found[order_id] = (await loop.ticket_of(arn)).ticket_id
    return found


async def api_of(loop: ReviewLoop) -> Any:
    return loop.system.client


async def test_an_operator_claims_corrects_the_address_and_retries_and_the_audit_shows_it(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path) as loop:
        await add_users(loop.desk.database)
        [ticket_id] = (await waiting_tickets(loop, "ord-1")).values()
        arn = (await loop.desk.ticket(ticket_id)).execution_arn
        async with (
            desk_server(loop.desk.database, lambda: api_of(loop), tmp_path) as base,
            signed_in(base, "otto") as otto,
            signed_in(base, "olga") as olga,
        ):
            queue = await otto.get("/")
            assert ticket_id in queue.text and "ord-1" in queue.text
            assert "CarrierResponseMalformed <b>1</b>" in queue.text

            page = await otto.get(f"/tickets/{ticket_id}")
            assert 'data-state="Ship"' in page.text
            assert page.text.count('data-highlight="failed"') == 1
            assert (
                'data-state="Ship" data-retries="0" data-entered="1" data-highlight="failed"'
                in (page.text)
            )
            assert 'data-state="WaitForHumanReview"' in page.text
            assert "1 Old Street" in page.text and "Ann Smith" in page.text
            assert "ExecutionStarted" in page.text and "<details>" in page.text

            claimed = await otto.post(f"/tickets/{ticket_id}/claim", {})
            assert 'class="holder">otto<' in claimed.text
            await olga.get(f"/tickets/{ticket_id}")
            held = await olga.post(
                f"/tickets/{ticket_id}/decide", {"decision": "fail", "reason": "mine"}
            )
            assert held.status == 409 and "claimed by otto" in held.text

            decide = f"/tickets/{ticket_id}/decide"
            no_reason = await otto.post(decide, {"decision": "retry", "reason": " "})
            assert no_reason.status == 400 and "a decision needs a reason" in no_reason.text
            bad = await otto.post(
                decide,
                {"decision": "retry", "reason": "fix", "edit:address.country": "Netherlands"},
            )
            assert bad.status == 400 and "address.country" in bad.text
            refused = await otto.post(
                decide, {"decision": "retry", "reason": "fix", "edit:amount": "1"}
            )
            assert refused.status == 400 and "cannot edit 'amount'" in refused.plain

            done = await otto.post(
                decide,
                {
                    "decision": "retry",
                    "reason": "the customer gave a new address",
                    "edit:address.line1": "2 New Street",
                    "edit:address.city": "Utrecht",
                },
            )
            assert done.status == 200 and "the ticket is resolved" in done.text
            described = await loop.system.finished(arn)
            assert described["status"] == "SUCCEEDED"
            history = (await loop.system.client.get_execution_history(arn))["events"]
            answer = next(
                json.loads(e["taskSucceededEventDetails"]["output"])
                for e in history
                if e["type"] == "TaskSucceeded"
                and "decision" in e["taskSucceededEventDetails"]["output"]
            )
            assert answer["decision"] == "retry" and answer["operator"] == "otto"
            assert answer["changes"]["address"]["line1"] == "2 New Street"

            late = await olga.post(decide, {"decision": "fail", "reason": "too late"})
            assert late.status == 409 and "already resolved (retry) by otto" in late.plain

            trail = json.loads((await otto.get(f"/audit?format=json&subject={ticket_id}")).text)
            assert [(e["actor"], e["action"]) for e in trail] == [
                ("otto", "claim"),
                ("otto", "decide"),
            ]
            decided = trail[1]
            assert decided["reason"] == "the customer gave a new address"
            assert decided["detail"]["changes"]["address"]["line1"] == "2 New Street"
            assert decided["detail"]["before"]["address"]["line1"] == "1 Old Street"
            shown = await otto.get(f"/tickets/{ticket_id}")
            assert "the customer gave a new address" in shown.text


async def test_two_operators_at_once_one_wins_and_a_bulk_decision_reports_each_ticket(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path, fail_first=3) as loop:
        await add_users(loop.desk.database)
        tickets = await waiting_tickets(loop, "ord-a", "ord-b", "ord-c")
        first = tickets["ord-a"]
        async with (
            desk_server(loop.desk.database, lambda: api_of(loop), tmp_path) as base,
            signed_in(base, "otto") as otto,
            signed_in(base, "olga") as olga,
            signed_in(base, "vera") as vera,
        ):
            for client in (otto, olga):
                await client.get(f"/tickets/{first}")
            pages = await asyncio.gather(
                otto.post(f"/tickets/{first}/decide", {"decision": "compensate", "reason": "a"}),
                olga.post(f"/tickets/{first}/decide", {"decision": "fail", "reason": "b"}),
            )
            assert sorted(p.status for p in pages) == [200, 409]
            loser = next(p for p in pages if p.status == 409)
            assert "TicketAlreadyClosed" in loser.text

            await otto.get("/")
            preview = await otto.post(
                "/bulk/preview",
                {
                    "scope": "filter",
                    "error": "CarrierResponseMalformed",
                    "decision": "compensate",
                    "reason": "carrier outage, customers refunded",
                },
            )
            assert preview.status == 200
            assert "<b>2</b> ticket(s) will get <b>compensate</b>" in preview.text
            chosen = [("ticket", tickets[o]) for o in ("ord-a", "ord-b", "ord-c")]
            applied = await otto.post(
                "/bulk/apply",
                [*chosen, ("decision", "compensate"), ("reason", "carrier outage")],
            )
            assert applied.status == 200 and "2 of 3 ticket(s) got" in applied.text
            assert f'class="refused" data-ticket="{first}"' in applied.text
            for order_id in ("ord-b", "ord-c"):
                assert f'class="ok" data-ticket="{tickets[order_id]}"' in applied.text
            for ticket_id in tickets.values():
                assert (await loop.desk.ticket(ticket_id)).status == "resolved"
            entries = json.loads((await vera.get("/audit?format=json")).text)
            batches = {e["detail"].get("batch") for e in entries if e["reason"] == "carrier outage"}
            assert len(batches) == 1 and None not in batches

            # Every page and every export so far, and the review commands: no task token.
            advertise_stack(tmp_path, kafka, store_url, prefix)
            outputs = [
                (await stepstream(capsys, *argv, "--data-dir", str(tmp_path)))[1]
                for argv in (
                    ("review", "list", "--all", "--json"),
                    ("review", "list", "--all"),
                    ("review", "show", first, "--json"),
                    ("review", "show", first),
                )
            ]
            for client in (otto, olga, vera):
                await client.get(f"/execution?arn={(await loop.desk.ticket(first)).execution_arn}")
                await client.get("/executions")
                await client.get("/audit?format=csv")
            async with loop.desk.database.transaction() as tx:
                tokens = [
                    t.task_token for t in await repository.list_tickets(tx, include_closed=True)
                ]
            assert len(tokens) == 3
            bodies = otto.bodies + olga.bodies + vera.bodies + outputs
            for token in tokens:
                assert all(token not in body for body in bodies)


async def test_executions_are_listed_searched_shown_stopped_and_redriven_with_a_reason(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with review_loop(kafka, store_url, prefix, tmp_path, fail_first=2) as loop:
        await add_users(loop.desk.database)
        tickets = await waiting_tickets(loop, "ord-red", "ord-blue")
        arn = (await loop.desk.ticket(tickets["ord-red"])).execution_arn
        async with (
            desk_server(loop.desk.database, lambda: api_of(loop), tmp_path) as base,
            signed_in(base, "otto") as otto,
        ):
            running = await otto.get("/executions?machine=Shipping&status=RUNNING")
            assert 'data-execution="ord-red"' in running.text
            assert 'data-execution="ord-blue"' in running.text
            searched = await otto.get("/executions?search=RED")
            assert 'data-execution="ord-red"' in searched.text
            assert 'data-execution="ord-blue"' not in searched.text
            assert (await otto.get("/executions?status=SLEEPING")).status == 400

            page = await otto.get(f"/execution?arn={arn}")
            assert page.status == 200 and "Stop execution" in page.text
            assert 'data-state="WaitForHumanReview"' in page.text and "ord-red" in page.text
            missing = await otto.get("/execution?arn=arn:aws:states:local:0:execution:X:nope")
            assert missing.status == 404 and "ExecutionDoesNotExist" in missing.text

            unexplained = await otto.post("/execution/stop", {"arn": arn, "reason": ""})
            assert unexplained.status == 400 and "needs a reason" in unexplained.text
            stopped = await otto.post("/execution/stop", {"arn": arn, "reason": "duplicate order"})
            assert stopped.status == 200 and "ABORTED" in stopped.text
            assert (await loop.system.client.describe_execution(arn))["status"] == "ABORTED"
            # Redrive one: it runs again from where it stopped (back to its review).
            page = await otto.get(f"/execution?arn={arn}")
            assert "Redrive execution" in page.text
            form = dict(re.findall(r'name="(client_token|arn)" value="([^"]+)"', page.text))
            redriven = await otto.post(
                "/execution/redrive", {**form, "reason": "stopped by mistake"}
            )
            assert redriven.status == 200 and "Redriven 1 time(s)" in redriven.text
            assert (await loop.system.client.describe_execution(arn))["status"] == "RUNNING"
            again = await otto.post("/execution/redrive", {**form, "reason": "twice"})
            assert again.status == 200  # the same form again redrives nothing more
            assert (await loop.system.client.describe_execution(arn))["redriveCount"] == 1
            trail = json.loads((await otto.get(f"/audit?format=json&subject={arn}")).text)
            assert [(e["actor"], e["action"], e["reason"]) for e in trail][:2] == [
                ("otto", "stop", "duplicate order"),
                ("otto", "redrive", "stopped by mistake"),
            ]
            refused = await otto.post("/execution/redrive", {"arn": arn, "reason": "running"})
            assert refused.status == 409 and "ExecutionNotRedrivable" in refused.text

            # Redrive every aborted one: a preview with the count, then each one's result.
            await loop.system.client.stop_execution(arn, cause="stopped again")
            blue = (await loop.desk.ticket(tickets["ord-blue"])).execution_arn
            await loop.system.client.stop_execution(blue, cause="stopped too")
            listing = await otto.get("/executions?status=ABORTED")
            assert "Redrive all 2 that match" in listing.text
            preview = await otto.post(
                "/executions/redrive/preview", {"status": "ABORTED", "reason": "carrier back"}
            )
            assert "<b>2</b> execution(s) will be redriven" in preview.text
            chosen = re.findall(r'name="(arn|batch)" value="([^"]+)"', preview.text)
            applied = await otto.post(
                "/executions/redrive/apply", [*chosen, ("reason", "carrier back")]
            )
            assert "2 of 2 execution(s) redriven" in applied.text
            for each in (arn, blue):
                assert (await loop.system.client.describe_execution(each))["status"] == "RUNNING"
