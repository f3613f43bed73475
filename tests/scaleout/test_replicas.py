"""Scale-out: two orchestrators and two replicas of every service, on PostgreSQL and a
broker with partitioned topics. Mid-run one replica of each kind is killed (-9) and kept
down; the survivors take its partitions over. Every order still ends exactly once,
nothing is charged twice and no order keeps two bookings."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from apps.cli.stack_commands import stack_options
from apps.demo.balances import Balances, read_balances
from apps.demo.orders import order_document
from apps.demo.scenario import Outcome, Scenario
from apps.stack.processes import simulator_urls
from apps.stack.up import Stack, StackOptions
from simulators.carrier import admin as carrier
from simulators.carrier.models import Shipment
from simulators.stripe_api.admin_client import StandInAdmin
from simulators.stripe_api.ledger import Ledger
from stepstream.api.connect import connect
from stepstream.api.errors import ApiError
from tests.databases import POSTGRES

ORDERS = 24
KILL_AFTER = ORDERS // 2
STAGGER_SECONDS = 0.1
RECOVERY_SECONDS = 150.0
SKUS = ("MUG", "TEE", "POSTER")
KINDS = {
    "orchestrator": "services.orchestrator",
    "charge-payment": "services.charge_payment",
    "reserve-stock": "services.reserve_stock",
    "book-shipment": "services.book_shipment",
    "emit-receipt": "services.emit_receipt",
}
# Each service's database variable; every replica of a service shares its schema.
DATABASES = {
    "STEPSTREAM_PAYMENTS_DATABASE_URL": "payments",
    "STEPSTREAM_INVENTORY_DATABASE_URL": "inventory",
    "STEPSTREAM_SHIPMENTS_DATABASE_URL": "shipments",
    "STEPSTREAM_RECEIPTS_DATABASE_URL": "receipts",
}


@dataclass
class Run:
    outcomes: list[Outcome]
    killed: list[str]
    balances: Balances
    ledger: Ledger
    shipments: list[Shipment]
    # Process name -> its log file's text.
    logs: dict[str, str]


@asynccontextmanager
async def postgres_schemas(names: list[str]) -> AsyncIterator[dict[str, str]]:
    """A schema of its own for each name (dropped afterwards); skips without a server."""
    try:
        admin = await asyncpg.connect(POSTGRES)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable: {exc}")
    tag = uuid.uuid4().hex[:8]
    schemas = {name: f"scaleout_{name}_{tag}" for name in names}
    try:
        yield {name: f"{POSTGRES}?schema={schema}" for name, schema in schemas.items()}
    finally:
        for schema in schemas.values():
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


def two_of_each(folder: Path, urls: dict[str, str]) -> StackOptions:
    """The stack's options with two replicas of every process, on PostgreSQL."""
    options = stack_options(folder, log_to_files=True)
    simulators = [(n, m) for n, m in options.services if n in options.broker_free]
    replicas = [
        (f"{kind}-{i}", module)
        for kind, module in KINDS.items()
        for i in (1, 2)
        if (kind, i) != ("orchestrator", 1)  # the stack's own orchestrator is the first
    ]
    env = {variable: urls[name] for variable, name in DATABASES.items()}
    env["STEPSTREAM_LOG_FORMAT"] = "json"
    return replace(
        options,
        services=[*simulators, *replicas],
        store_url=urls["store"],
        env={**options.env, **env},
        secrets={f"{k}-{i}": v for k, v in options.secrets.items() for i in (1, 2)},
    )


async def _first_order(scenario: Scenario, timeout: float = 120.0) -> Outcome:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await scenario.place("first order", order_document("MUG", 1))
        except ApiError as exc:  # the orchestrators are still starting: calling again is safe
            if exc.code != "ServiceUnavailable" or asyncio.get_running_loop().time() > deadline:
                raise


async def _kill_one_of_each(stack: Stack) -> list[str]:
    """kill -9 one replica of every kind, and keep it down."""
    assert stack.supervisor is not None
    statuses = stack.supervisor.statuses()
    victims = ["orchestrator", *(f"{kind}-2" for kind in KINDS if kind != "orchestrator")]
    for name in victims:
        pid = statuses[name].pid
        assert pid is not None, f"{name} was not running before the kill"
        os.kill(pid, signal.SIGKILL)
    await stack.supervisor.hold(victims)
    return victims


async def _place_and_kill(stack: Stack, scenario: Scenario) -> tuple[list[Outcome], list[str]]:
    placed: list[Outcome] = []
    half = asyncio.Event()

    async def place(i: int) -> None:
        await asyncio.sleep(i * STAGGER_SECONDS)
        order = order_document(SKUS[i % len(SKUS)], 1 + i % 2)
        while True:
            try:
                placed.append(await scenario.place(f"order {i}", order))
                break
            except ApiError as exc:  # answered only once recorded; calling again is safe
                if exc.code != "ServiceUnavailable":
                    raise
        if len(placed) >= KILL_AFTER:
            half.set()

    async def kill() -> list[str]:
        await half.wait()
        return await _kill_one_of_each(stack)

    killing = asyncio.create_task(kill())
    await asyncio.gather(*(place(i) for i in range(ORDERS)))
    return placed, await killing


async def _all_ended(scenario: Scenario, outcomes: list[Outcome]) -> None:
    deadline = asyncio.get_running_loop().time() + RECOVERY_SECONDS
    while running := [o for o in outcomes if o.status == "RUNNING"]:
        assert asyncio.get_running_loop().time() < deadline, (
            f"{len(running)} orders still running {RECOVERY_SECONDS:g} s after the kill: "
            + ", ".join(f"{o.order_id} at {o.path[-1:]}" for o in running)
        )
        await asyncio.sleep(0.5)
        for outcome in running:
            await scenario.refresh(outcome)


async def _run(folder: Path) -> Run:
    async with (
        postgres_schemas(["store", *DATABASES.values()]) as urls,
        Stack(two_of_each(folder, urls)) as stack,
        connect(str(folder)) as client,
    ):
        sims = simulator_urls(folder)
        scenario = Scenario(client, sims["carrier"], say=lambda _: None)
        first = await scenario.ended(await _first_order(scenario))
        placed, killed = await _place_and_kill(stack, scenario)
        outcomes = [first, *placed]
        await _all_ended(scenario, outcomes)
        for outcome in outcomes:
            await scenario.refresh(outcome)
        balances = await read_balances(
            folder,
            sims["stripe"],
            outcomes,
            carrier_url=sims["carrier"],
            receipts_url=urls["receipts"],
            inventory_url=urls["inventory"],
        )
        ledger = await StandInAdmin(sims["stripe"]).ledger()
        shipments = await carrier.shipments(sims["carrier"])
    logs = {p.stem: p.read_text() for p in (folder / "logs").glob("*.log")}
    return Run(outcomes, killed, balances, ledger, shipments, logs)


@pytest.fixture(scope="module")
def run() -> Run:
    return asyncio.run(_run(Path(tempfile.mkdtemp(prefix="stepstream-scaleout-"))))


def test_one_replica_of_each_kind_was_killed_mid_run(run: Run) -> None:
    assert sorted(run.killed) == sorted(
        ["orchestrator", "charge-payment-2", "reserve-stock-2", "book-shipment-2", "emit-receipt-2"]
    )
    assert len(run.outcomes) == 1 + ORDERS


def test_every_order_ended_exactly_once_and_succeeded(run: Run) -> None:
    for outcome in run.outcomes:
        kinds = Counter(e["type"] for e in outcome.history)
        assert outcome.status == "SUCCEEDED", (outcome.order_id, outcome.status, outcome.path)
        assert kinds["ExecutionStarted"] == 1, (outcome.order_id, kinds)
        ends = [k for k in kinds if k.startswith("Execution") and k != "ExecutionStarted"]
        assert ends == ["ExecutionSucceeded"] and kinds["ExecutionSucceeded"] == 1, kinds


def test_nothing_is_charged_twice_and_each_order_is_booked_once(run: Run) -> None:
    for outcome in run.outcomes:
        captured = [
            e.captured
            for e in run.ledger.payment_intents
            if e.metadata.get("order_id") == outcome.order_id and e.captured > 0
        ]
        assert captured == [outcome.order["amount"]], (outcome.order_id, captured)
        booked = [
            s
            for s in run.shipments
            if s.order_id == outcome.order_id and s.status.value == "booked"
        ]
        assert len(booked) == 1, (outcome.order_id, booked)


def test_money_and_stock_add_up(run: Run) -> None:
    invariants = run.balances.invariants()
    assert all(invariants.values()), invariants
    assert run.balances.captured == sum(int(o.order["amount"]) for o in run.outcomes)


def test_processes_log_json_lines_with_their_name(run: Run) -> None:
    for name in ("orchestrator-2", "charge-payment-1", "book-shipment-1"):
        lines = [json.loads(line) for line in run.logs[name].splitlines() if line.strip()]
        assert lines, name
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines), name
        assert {line["process_name"] for line in lines} == {name.rsplit("-", 1)[0]}


def counts(run: Run) -> dict[str, Any]:
    """The figures the run leaves (printed by the module's last test, for the record)."""
    return {
        "orders": len(run.outcomes),
        "succeeded": sum(o.status == "SUCCEEDED" for o in run.outcomes),
        "captures": sum(1 for e in run.ledger.payment_intents if e.captured > 0),
        "live bookings": sum(1 for s in run.shipments if s.status.value == "booked"),
        "killed": run.killed,
    }


def test_report_the_counts(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    figures = counts(run)
    with capsys.disabled():
        print(f"\nscale-out run: {figures}")
    assert figures["captures"] == figures["live bookings"] == figures["orders"]
