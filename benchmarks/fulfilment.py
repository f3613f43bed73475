"""Orders per second and order latency of the fulfilment saga on the embedded stack.

    python benchmarks/fulfilment.py [--orders N] [--concurrency C]

The whole stack as `stepstream up` runs it (broker, orchestrator, the four services, the
Stripe stand-in and the carrier simulator answering at once), orders on the happy path
only. The reference, measured in the same run on the same broker, is the bare aiokafka
relay of benchmarks/pipeline.py: the same four command/reply hops with no engine, store,
Stripe or carrier.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pipeline import (  # noqa: E402
    LIGHT_ORDERS,
    WARMUP,
    CpuMeter,
    Driver,
    Result,
    idle_cores,
    run_ceiling,
    summary,
)

from apps.cli.stack_commands import stack_options  # noqa: E402
from apps.demo.orders import order_document  # noqa: E402
from apps.stack.up import Stack  # noqa: E402
from stepstream.messaging import doorbell  # noqa: E402
from stepstream.messaging.envelope import Envelope  # noqa: E402
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber  # noqa: E402
from stepstream.messaging.requests import StartExecution  # noqa: E402
from stepstream.messaging.topics import Topics  # noqa: E402


async def run_fulfilment(stack: Stack, orders: int, concurrency: int) -> Result:
    topics = Topics(stack.options.topic_prefix)
    # The driver rings the stack's doorbells, as its own clients (the CLI, the API) do.
    kafka = KafkaSettings(
        bootstrap_servers=stack.broker.bootstrap_servers,
        doorbell_dir=stack.options.data_dir / doorbell.FOLDER,
    )
    history = KafkaSubscriber(
        settings=kafka, topics=[topics.history()], group_id="bench.fulfilment"
    )
    publisher = KafkaPublisher(settings=kafka)
    await history.start()
    await publisher.start()
    driver = Driver(concurrency, timeout=300)
    arns: dict[int, str] = {}

    async def watch() -> None:
        async for record in history:
            envelope = Envelope.model_validate_json(record.value)
            for event in envelope.payload["events"]:
                if event["type"] in ("ExecutionSucceeded", "ExecutionFailed"):
                    driver.finished(envelope.execution_id)

    async def place(i: int) -> None:
        order = order_document("MUG" if i % 2 else "TEE", 1)
        arn = f"arn:aws:states:local:000000000000:execution:Fulfilment:{order['orderId']}"
        arns[i] = arn
        driver.started[arn] = driver.started.pop(i)
        request = StartExecution(state_machine="Fulfilment", name=order["orderId"], input=order)
        envelope = Envelope(kind=request.KIND, execution_id=arn, payload=request.model_dump())
        await publisher.publish(topics.requests(), arn, envelope)

    watcher = asyncio.create_task(watch())
    try:
        await driver.run(list(range(WARMUP)), place)
        pids = stack_pids(stack)
        idle = await idle_cores(pids)
        await driver.run(list(range(WARMUP, 2 * WARMUP)), place)  # awake again
        cpu = CpuMeter(pids)
        cpu.begin()
        elapsed = await driver.run(list(range(2 * WARMUP, 2 * WARMUP + orders)), place)
        cpu.end()
        loaded = summary(driver.latencies, elapsed, cpu, idle)
        driver = Driver(1, timeout=300)
        first = 2 * WARMUP + orders
        await driver.run(list(range(first, first + LIGHT_ORDERS)), place)
        loaded.light_p50_ms = 1000 * statistics.median(driver.latencies)
    finally:
        watcher.cancel()
        await history.stop()
        await publisher.stop()
    return loaded


def stack_pids(stack: Stack) -> dict[str, int | None]:
    """The broker and every process of the stack, by name."""
    assert stack.supervisor is not None, "the stack is not started"
    pids: dict[str, int | None] = {"broker": stack.broker.pid}
    pids |= {name: status.pid for name, status in stack.supervisor.statuses().items()}
    return pids


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50, help="orders in flight at once")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stepstream-bench-"))
    options = stack_options(folder, log_to_files=True)
    # Enough stock for every order the run places.
    options.env["STEPSTREAM_INITIAL_STOCK"] = json.dumps({"MUG": 10**6, "TEE": 10**6})
    results: dict[str, Result] = {}
    async with Stack(options) as stack:
        results["ceiling"] = await run_ceiling(
            stack.broker.bootstrap_servers, stack.broker.pid, args.orders, args.concurrency
        )
        results["fulfilment"] = await run_fulfilment(stack, args.orders, args.concurrency)
    print(
        f"{args.orders} happy-path orders, {args.concurrency} in flight, "
        "simulators answering at once"
    )
    print(f"{'':34} {'orders/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for label, key in (
        ("bare aiokafka relay (reference)", "ceiling"),
        ("fulfilment saga, whole stack", "fulfilment"),
    ):
        r = results[key]
        print(f"{label:34} {r.rate:10.1f} {r.p50_ms:9.1f} {r.p99_ms:9.1f}")
    ratio = results["fulfilment"].rate / results["ceiling"].rate
    print(f"fulfilment / reference throughput: {ratio:.3f}")
    ours, reference = results["fulfilment"], results["ceiling"]
    print(
        f"one order at a time, p50 ms: reference {reference.light_p50_ms:.1f}, "
        f"fulfilment {ours.light_p50_ms:.1f} ({LIGHT_ORDERS} orders each)"
    )
    print("CPU ms per order, by process (idle cores in brackets):")
    for label, result in (("reference", reference), ("fulfilment", ours)):
        parts = ", ".join(
            f"{name} {ms:.2f} ({result.idle_cores.get(name, 0.0):.3f})"
            for name, ms in result.cpu_ms_per_order.items()
        )
        print(f"  {label}: {parts}")
        total = sum(result.cpu_ms_per_order.values())
        idle = sum(result.idle_cores.values())
        print(
            f"  {label}: {total:.2f} ms per order in all, {idle:.3f} cores idle, "
            f"{result.busy_ms_per_order():.2f} ms per order above idle"
        )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    # asyncio's own loop, as `stepstream up` runs its supervisor: it starts the stack's
    # processes with a umask, which uvloop's subprocess_exec does not take.
    asyncio.run(main())
