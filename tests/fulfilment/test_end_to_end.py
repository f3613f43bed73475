"""The whole system, once per module: the embedded stack with both simulators, an order down
every path of the fulfilment saga, an operator answering the review ticket, and the books."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.cli.main import main as cli
from apps.cli.review_commands import open_desk
from apps.cli.stack_commands import stack_options
from apps.demo.balances import Balances, read_balances
from apps.demo.orders import order_document
from apps.demo.scenario import Outcome, Scenario
from apps.stack.processes import simulator_urls
from apps.stack.up import Stack
from simulators.carrier import admin as carrier
from simulators.stripe_api.admin_client import StandInAdmin
from simulators.stripe_api.ledger import Ledger
from stepstream.api.connect import connect


@dataclass
class Run:
    outcomes: dict[str, Outcome]
    balances: Balances
    ledger: Ledger
    shipments: list[Any]
    reviewed: Outcome
    balances_after_review: Balances
    failed_by_operator: Outcome
    balances_after_failing: Balances
    # Process name -> (/healthz status and body, /metrics text), read at the end.
    observed: dict[str, tuple[int, dict[str, Any], str]]
    # What `stepstream status --json` printed then.
    status: dict[str, Any]


async def _decide(folder: Path, scenario: Scenario, waiting: Outcome, decision: str) -> Outcome:
    """Answer ``waiting``'s review ticket with ``decision``; the order once it has ended."""
    async with open_desk(str(folder), online=True, required=True) as desk:

        async def ticket_of_waiting() -> list[Any]:
            return [t for t in await desk.list_tickets() if t.execution_arn == waiting.arn]

        [ticket] = await _eventually(ticket_of_waiting)
        await desk.resolve(ticket.ticket_id, decision=decision, note="looked", operator="ops")
    return await scenario.until(
        Outcome(waiting.label, waiting.order, waiting.arn),
        lambda o: o.status not in ("RUNNING", "WAITING_REVIEW"),
    )


async def _run(folder: Path) -> Run:
    async with Stack(stack_options(folder, log_to_files=True)) as stack:
        urls = simulator_urls(folder)

        async def books(outcomes: list[Outcome]) -> Balances:
            return await read_balances(
                folder, urls["stripe"], outcomes, carrier_url=urls["carrier"]
            )

        async with connect(str(folder)) as client:
            scenario = Scenario(client, urls["carrier"], say=lambda _: None)
            outcomes = await scenario.run()
            balances = await books(outcomes)
            ledger = await StandInAdmin(urls["stripe"]).ledger()
            waiting = next(o for o in outcomes if o.status == "WAITING_REVIEW")
            reviewed = await _decide(folder, scenario, waiting, "retry")
            after = await books([*outcomes[:-1], reviewed])
            to_fail = await scenario.sent_to_review(
                "failed by an operator", order_document("TEE", 2)
            )
            failed = await _decide(folder, scenario, to_fail, "fail")
            after_failing = await books([*outcomes[:-1], reviewed, failed])
            ledger = await StandInAdmin(urls["stripe"]).ledger()
            shipments = await carrier.shipments(urls["carrier"])
            assert stack._stack is not None
            observed = await _observe(stack._stack.health)
            status = await asyncio.to_thread(_status_json, folder)
    return Run(
        {o.label: o for o in outcomes},
        balances,
        ledger,
        shipments,
        reviewed,
        after,
        failed,
        after_failing,
        observed,
        status,
    )


def _status_json(folder: Path) -> dict[str, Any]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli(["status", "--json", "--data-dir", str(folder)]) == 0
    answer: dict[str, Any] = json.loads(printed.getvalue())
    return answer


async def _observe(health: dict[str, str]) -> dict[str, tuple[int, dict[str, Any], str]]:
    """Every process's /healthz and /metrics, once all are healthy (or 30 s have passed)."""
    async with aiohttp.ClientSession() as http:

        async def read(url: str) -> tuple[int, dict[str, Any], str]:
            async with http.get(f"{url}/healthz") as answer:
                status, body = answer.status, await answer.json()
            async with http.get(f"{url}/metrics") as answer:
                return status, body, await answer.text()

        deadline = asyncio.get_running_loop().time() + 30
        while True:
            seen = {name: await read(url) for name, url in health.items()}
            healthy = all(status == 200 for status, _, _ in seen.values())
            if healthy or asyncio.get_running_loop().time() > deadline:
                return seen
            await asyncio.sleep(0.5)


async def _eventually(probe: Any, timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await probe()):
        assert asyncio.get_running_loop().time() < deadline, "no ticket reached the review desk"
        await asyncio.sleep(0.2)
    return value


@pytest.fixture(scope="module")
def run() -> Run:
    return asyncio.run(_run(Path(tempfile.mkdtemp(prefix="stepstream-e2e-"))))


def _events(outcome: Outcome, kind: str) -> list[dict[str, Any]]:
    return [e for e in outcome.history if e["type"] == kind]


def _captured(run: Run, outcome: Outcome) -> list[int]:
    return [
        e.captured
        for e in run.ledger.payment_intents
        if e.metadata.get("order_id") == outcome.order_id
    ]


def test_the_happy_path_charges_reserves_ships_and_receipts(run: Run) -> None:
    happy = run.outcomes["happy path"]
    assert happy.status == "SUCCEEDED"
    assert happy.path == [
        "ChargePayment",
        "ReserveStock",
        "BookShipment",
        "EmitReceipt",
        "OrderFulfilled",
    ]
    assert _captured(run, happy) == [happy.order["amount"]]
    assert [s.order_id for s in run.shipments].count(happy.order_id) == 1


def test_transient_carrier_errors_are_retried_with_back_off_to_success(run: Run) -> None:
    retried = run.outcomes["carrier errors, retried to success"]
    assert retried.status == "SUCCEEDED"
    failures = [e["taskFailedEventDetails"] for e in _events(retried, "TaskFailed")]
    assert len(failures) >= 2 and {f["error"] for f in failures} == {"CarrierUnavailable"}
    # Interval 2 s, rate 2, full jitter: the n-th wait is drawn from [0, 2 * 2**n].
    for n, failure in enumerate(failures):
        assert 0 <= failure["retryDelaySeconds"] <= 2 * 2**n
    assert [s.order_id for s in run.shipments].count(retried.order_id) == 1


def test_a_rejected_address_is_compensated_by_every_reversal_in_parallel(run: Run) -> None:
    rejected = run.outcomes["carrier rejects the address"]
    assert (rejected.status, rejected.error) == ("FAILED", "OrderFulfillmentFailed")
    assert rejected.path[-3:] == ["Compensate", "AfterCompensation", "OrderFailed"]
    branch_events = [e for e in rejected.history if e.get("scope", "").count("/") == 1]
    kinds = [e["type"] for e in branch_events]
    # Both reversals were handed out before either answered: they ran side by side.
    assert kinds.index("TaskSucceeded") > max(
        i for i, k in enumerate(kinds) if k == "TaskScheduled"
    )
    assert len({e["scope"] for e in branch_events}) == 3
    [entry] = [
        e for e in run.ledger.payment_intents if e.metadata.get("order_id") == rejected.order_id
    ]
    assert entry.captured == entry.refunded == rejected.order["amount"]


def test_a_declined_card_fails_and_compensates_nothing(run: Run) -> None:
    declined = run.outcomes["declined card"]
    assert (declined.status, declined.error) == ("FAILED", "PaymentDeclined")
    assert declined.path == ["ChargePayment", "PaymentDeclined"]
    assert _captured(run, declined) in ([], [0])


def test_out_of_stock_refunds_the_payment_only(run: Run) -> None:
    unavailable = run.outcomes["out of stock"]
    assert (unavailable.status, unavailable.error) == ("FAILED", "OrderFulfillmentFailed")
    assert unavailable.path == [
        "ChargePayment",
        "ReserveStock",
        "RefundUnreservedOrder",
        "OrderFailed",
    ]
    [entry] = [
        e for e in run.ledger.payment_intents if e.metadata.get("order_id") == unavailable.order_id
    ]
    assert entry.captured == entry.refunded == unavailable.order["amount"]


def test_an_unreadable_carrier_answer_waits_for_an_operator_then_follows_the_decision(
    run: Run,
) -> None:
    review = run.outcomes["unreadable carrier answer, sent to review"]
    assert (review.status, review.error) == ("WAITING_REVIEW", "CarrierResponseMalformed")
    assert run.reviewed.status == "SUCCEEDED"
    assert run.reviewed.path[-5:] == [
        "WaitForHumanReview",
        "ChooseAfterReview",
        "BookShipment",
        "EmitReceipt",
        "OrderFulfilled",
    ]
    # The carrier booked it when it answered garbage; the retry found the same booking.
    assert [s.order_id for s in run.shipments].count(review.order_id) == 1


def test_an_order_an_operator_fails_is_compensated_before_it_fails(run: Run) -> None:
    failed = run.failed_by_operator
    assert (failed.status, failed.error) == ("FAILED", "OrderFulfillmentFailed")
    assert failed.path[-6:] == [
        "WaitForHumanReview",
        "ChooseAfterReview",
        "FailAfterReview",
        "Compensate",
        "AfterCompensation",
        "ReviewedAndFailed",
    ]
    [entry] = [
        e for e in run.ledger.payment_intents if e.metadata.get("order_id") == failed.order_id
    ]
    assert entry.captured == entry.refunded == failed.order["amount"]
    # The carrier booked when it garbled its answer; the compensation cancelled that booking.
    [shipment] = [s for s in run.shipments if s.order_id == failed.order_id]
    assert shipment.status == "cancelled"


@pytest.mark.parametrize("moment", ["before review", "after review", "after failing one"])
def test_money_stock_and_shipments_add_up_and_nothing_is_charged_twice(
    run: Run, moment: str
) -> None:
    balances = {
        "before review": run.balances,
        "after review": run.balances_after_review,
        "after failing one": run.balances_after_failing,
    }[moment]
    assert balances.invariants() == {
        "money adds up": True,
        "stock adds up": True,
        "stock is conserved": True,
        "nothing captured twice": True,
        "every live booking is of a shipped order or one in review": True,
        "no failed order keeps a booking": True,
    }
    assert balances.captured > balances.refunded > 0


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of Prometheus text, 0 when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_every_process_is_healthy_connected_joined_and_answering_its_database(run: Run) -> None:
    consumers = {
        "orchestrator",
        "charge-payment",
        "reserve-stock",
        "book-shipment",
        "emit-receipt",
        "review-desk",
        "order-view",
    }
    # The web desk and the Step Functions API consume nothing: they read the store and
    # send requests.
    assert set(run.observed) == consumers | {"web-desk", "step-functions-api"}
    for name, (status, body, _) in run.observed.items():
        assert status == 200, f"{name}: {body}"
        checks = body["checks"]
        assert checks.get("kafka") == "ok", f"{name}: {checks}"
        if name in consumers:
            assert any(c.startswith("consumer group ") for c in checks), f"{name}: {checks}"
        assert any(c.startswith(("database ", "store")) for c in checks), f"{name}: {checks}"
        assert all(result == "ok" for result in checks.values()), f"{name}: {checks}"


def test_metrics_count_orders_by_outcome_transitions_retries_and_compensations(run: Run) -> None:
    text = run.observed["orchestrator"][2]
    machine = {"state_machine": "Fulfilment"}
    started = _sample(text, "stepstream_executions_started_total", **machine)
    assert started == len(run.outcomes) + 1  # and the order an operator failed
    ended = {
        outcome: _sample(text, "stepstream_executions_ended_total", outcome=outcome, **machine)
        for outcome in ("SUCCEEDED", "FAILED")
    }
    statuses = [o.status for o in (*run.outcomes.values(), run.failed_by_operator)]
    statuses[list(run.outcomes).index(run.reviewed.label)] = run.reviewed.status
    assert ended == {s: float(statuses.count(s)) for s in ("SUCCEEDED", "FAILED")}
    assert _sample(text, "stepstream_state_transitions_total", state_type="Task", **machine) > 0
    retried = run.outcomes["carrier errors, retried to success"]
    assert retried.status == "SUCCEEDED"
    assert (
        sum(
            _sample(text, "stepstream_task_retries_total", error=error, **machine)
            for error in ("CarrierRateLimited", "CarrierUnavailable", "CarrierTimeout")
        )
        > 0
    )
    assert _sample(text, "stepstream_compensations_total", error="ShipmentRejected", **machine) >= 1
    assert _sample(text, "stepstream_outbox_published_total") > 0


def test_services_report_task_latency_by_resource_and_throughput(run: Run) -> None:
    text = run.observed["charge-payment"][2]
    charges = _sample(
        text, "stepstream_task_seconds_count", resource="charge-payment", outcome="succeeded"
    )
    assert charges >= 1
    assert _sample(text, "stepstream_records_handled_total") >= charges
    review = run.observed["review-desk"][2]
    assert "stepstream_review_backlog" in review
    assert "stepstream_consumer_lag{" in run.observed["orchestrator"][2]


def test_status_lists_where_each_process_serves_its_health_and_metrics(run: Run) -> None:
    listed = {p["name"]: p["health"] for p in run.status["processes"]}
    assert {name for name, url in listed.items() if url} == set(run.observed)
    assert listed["carrier"] is None and listed["stripe"] is None  # the stand-ins serve none
