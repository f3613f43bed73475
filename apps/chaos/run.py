"""`stepstream chaos`: the stack, the orders, the faults, the operator, then audit and report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from apps.chaos.audit import audit
from apps.chaos.audit.outcomes import COMPENSATING_STATES, top_level_states
from apps.chaos.collect import collect, stock
from apps.chaos.mix import orders, stock_for
from apps.chaos.operator import PlayedOperator
from apps.chaos.placing import Tally, place_orders, until_settled
from apps.chaos.report import write_report
from apps.chaos.scenario import Mix, Scenario
from apps.chaos.schedule import FaultPlayer, PidOf
from apps.chaos.timeline import Timeline
from apps.cli.stack_commands import stack_options
from apps.stack.up import Stack
from services.review_desk.app import open_tickets
from services.review_desk.desk import ReviewDesk
from services.review_desk.settings import ReviewDeskSettings
from simulators.carrier import admin as carrier_admin
from simulators.stripe_api.admin_client import StandInAdmin
from simulators.stripe_api.faults import FaultConfig
from stepstream import arns
from stepstream.api.client import StepStreamClient
from stepstream.api.connect import connect
from stepstream.api.stack_file import read_stack
from stepstream.store.base import ExecutionReader
from stepstream.store.factory import open_reader
from stepstream.store.records import ExecutionStatus

MACHINE = "Fulfilment"


@contextlib.asynccontextmanager
async def stack_for(
    scenario: Scenario, data_dir: Path | None, console: Console
) -> AsyncIterator[Path]:
    """The data folder of a stack to run against: the one given, or a fresh one started here."""
    if data_dir is not None:
        read_stack(data_dir)  # refuses a folder with no running stack, saying so
        yield data_dir
        return
    folder = Path(tempfile.mkdtemp(prefix=f"stepstream-chaos-{scenario.name}-"))
    options = stack_options(folder, log_to_files=True)
    levels = json.dumps(stock_for(scenario.orders, scenario.mix))
    options = replace(options, env={**options.env, "STEPSTREAM_INITIAL_STOCK": levels})
    console.print(f"starting an embedded stack in {folder} ...")
    async with Stack(options):
        yield folder


async def _prefix(store: ExecutionReader, scenario: Scenario) -> str:
    """Order ids of this run: the seed's, numbered past any earlier run on the same stack."""
    for run in range(10_000):
        prefix = f"{scenario.name}-s{scenario.seed}-r{run}"
        if await store.get_execution(arns.execution_arn(MACHINE, f"{prefix}-000000")) is None:
            return prefix
    raise RuntimeError("too many runs of this scenario and seed on one stack")


async def _stock_once_ready(folder: Path, skus: set[str], timeout: float = 60.0) -> dict[str, int]:
    """The inventory once reserve-stock has stocked every SKU the orders use."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with contextlib.suppress(Exception):
            levels = await stock(folder)
            if skus <= set(levels):
                return levels
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"reserve-stock did not stock {sorted(skus)} in {timeout:g} s")
        await asyncio.sleep(0.2)


async def _warm_up(
    client: StepStreamClient, store: ExecutionReader, name: str, timeout: float = 180.0
) -> None:
    """One order end to end before the run, so that the run's first orders and faults meet
    a stack whose consumers have joined their groups, not one still starting."""
    order = orders(
        Mix(declined_card=0, rejected_address=0, rare_item=0), seed=0, count=1, prefix=name
    )[0]
    started = await client.start_execution(MACHINE, json.dumps(order), name)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        record = await store.get_execution(started["executionArn"])
        if record is not None and str(record.status) != "RUNNING":
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"the warm-up order {name} did not finish in {timeout:g} s")
        await asyncio.sleep(0.2)


async def compensating(store: ExecutionReader, prefix: str, look_at: int = 100) -> bool:
    """Whether one of the run's running orders is compensating now."""
    running = await store.list_executions(MACHINE, ExecutionStatus.RUNNING, limit=look_at)
    for record in running:
        if record.name.startswith(prefix):
            events = await store.read(record.execution_arn)
            states = top_level_states(event.data for event in events)
            if states and states[-1] in COMPENSATING_STATES:
                return True
    return False


def _pid_of(folder: Path) -> PidOf:
    def pid_of(name: str) -> int | None:
        process = read_stack(folder).processes.get(name)
        if process is None or process.state != "running":
            return None
        return process.pid

    return pid_of


async def run_chaos(
    scenario: Scenario, *, report_dir: Path, data_dir: Path | None, progress: bool = True
) -> int:
    """Run ``scenario``, write its report into ``report_dir``; 1 when an invariant failed."""
    console = Console(stderr=True, quiet=not progress)
    # The runner's own Kafka client sees the broker die on purpose: its complaints then
    # are expected, and the audit, not the log, says whether anything went wrong.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    report_dir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline(report_dir / "events.jsonl")
    timeline.record("scenario", **scenario.model_dump(mode="json", by_alias=True))
    # Ctrl-C ends the run in order (faults healed, the stack stopped) instead of
    # cancelling it halfway through; the stack's processes get it too and are restarted
    # until the stack stops them.
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupted.set)
    async with stack_for(scenario, data_dir, console) as folder:
        stack = read_stack(folder)
        async with open_reader(stack.store_url) as store, connect(str(folder)) as client:
            prefix = await _prefix(store, scenario)
            documents = orders(
                scenario.mix, seed=scenario.seed, count=scenario.orders, prefix=prefix
            )
            skus = {item["sku"] for order in documents for item in order["items"]}
            console.print("warming up: one order through every service ...")
            await _warm_up(client, store, f"warmup-{prefix}")
            stock_before = await _stock_once_ready(folder, skus)
            accepted: list[str] = []
            await _play(
                scenario,
                folder,
                stack.urls,
                store,
                client,
                documents,
                accepted,
                timeline,
                console,
                interrupted,
            )
            if interrupted.is_set():
                timeline.close()
                Console(stderr=True).print("interrupted: no audit, no report")
                return 130
            console.print("reading the records ...")
            records = await collect(
                data_dir=folder,
                store=store,
                urls=stack.urls,
                prefix=prefix,
                accepted=accepted,
                stock_before=stock_before,
            )
    timeline.record("audit-started")
    results = audit(records)
    summary = write_report(
        report_dir, scenario=scenario, records=records, results=results, timeline=timeline
    )
    timeline.close()
    out = Console(highlight=False)
    for result in results:
        mark = "[green]ok  [/]" if result.holds else "[red]FAIL[/]"
        out.print(f"{mark} {result.key}: {result.title} ({result.checked} checked)")
        for violation in result.violations[:3]:
            orders_ = ", ".join(violation.order_ids) or "total"
            out.print(f"       {escape(orders_)}: {escape(violation.evidence)}")
        if len(result.violations) > 3:
            out.print(f"       ... {len(result.violations) - 3} more in summary.json")
    out.print(("[green]" if summary["holds"] else "[red]") + escape(summary["verdict"]) + "[/]")
    out.print(f"report: {report_dir / 'index.html'}")
    return 0 if all(result.holds for result in results) else 1


async def _play(
    scenario: Scenario,
    folder: Path,
    urls: dict[str, str],
    store: ExecutionReader,
    client: Any,
    documents: list[dict[str, Any]],
    accepted: list[str],
    timeline: Timeline,
    console: Console,
    interrupted: asyncio.Event,
) -> Tally:
    stripe = StandInAdmin(urls["stripe"])
    prefix = str(documents[0]["orderId"]).rsplit("-", 1)[0]

    async def set_carrier(settings: dict[str, Any]) -> None:
        if settings:
            await carrier_admin.set_faults(urls["carrier"], **settings)
        else:
            await carrier_admin.clear_faults(urls["carrier"])

    async def set_stripe(settings: dict[str, Any]) -> None:
        await stripe.set_faults(FaultConfig(**settings))

    database = await open_tickets(ReviewDeskSettings(data_dir=folder))
    desk = ReviewDesk(database=database, executions=client)

    async def in_phase(phase: str) -> bool:
        if phase == "review":
            return bool(await desk.list_tickets())
        return await compensating(store, prefix)

    player = FaultPlayer(
        scenario.faults,
        placing_seconds=scenario.placing_seconds,
        seed=scenario.seed,
        timeline=timeline,
        pid_of=_pid_of(folder),
        set_carrier=set_carrier,
        set_stripe=set_stripe,
        in_phase=in_phase,
    )
    origin = timeline.now() + 0.5
    timeline.record("placing-started", origin=origin)
    placing = asyncio.create_task(
        place_orders(
            client,
            documents,
            rate=scenario.rate,
            timeline=timeline,
            origin=origin,
            accepted=accepted,
            give_up_at=origin + scenario.placing_seconds + scenario.settle_seconds,
        )
    )
    faults = asyncio.create_task(player.play(origin))
    operator = None
    if scenario.operator is not None:
        played = PlayedOperator(desk, scenario.operator, seed=scenario.seed, timeline=timeline)
        operator = asyncio.create_task(played.run())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("placing", total=len(documents))

            def show(tally: Tally) -> None:
                settled = tally.settled(operator=operator is not None)
                bar.update(task, completed=settled, description=tally.describe())

            tally = await until_settled(
                store,
                desk,
                prefix=prefix,
                accepted=accepted,
                busy=lambda: not (placing.done() and faults.done()),
                interrupted=interrupted,
                operator=operator is not None,
                settle_seconds=scenario.settle_seconds,
                timeline=timeline,
                show=show,
            )
    finally:
        for job in (placing, faults, operator):
            if job is not None and not job.done():
                job.cancel()
        await asyncio.gather(
            *(j for j in (placing, faults, operator) if j is not None), return_exceptions=True
        )
        try:
            await player.heal()
        except Exception as exc:  # the simulators are gone (Ctrl-C reaches them too)
            timeline.record("heal-failed", error=repr(exc))
        await database.close()
    for job in (placing, faults):
        if job.done() and not job.cancelled() and job.exception() is not None:
            raise RuntimeError("the run failed") from job.exception()
    return tally
