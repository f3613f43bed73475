"""Executions per second and latency of a 4-task saga over the embedded broker.

    python benchmarks/pipeline.py [--orders N] [--concurrency C]

Two runs over one embedded broker, in the same process and the same conditions:

- stepstream: the orchestrator process (engine, SQLite event store, outbox relay) drives a
  4-task definition through 4 trivial workers built with the worker kit (in this process);
- ceiling: the same message flow (command, reply, next command...) relayed by bare
  aiokafka clients, with no engine and no store.

Prints orders/s and p50/p99 order latency for both, and their ratio, and the CPU time
each run spent per order in every process taking part (the broker, the orchestrator, this
process with its workers): on a machine with few cores the ratio is decided by CPU, not
by waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "shared"))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from saga import STEPS, saga_definition  # noqa: E402  (beside this script)

from stepstream import event_loop  # noqa: E402
from stepstream.broker import EmbeddedBroker  # noqa: E402
from stepstream.broker.admin import TopicSpec, ensure_topics  # noqa: E402
from stepstream.heap import tune_for_service  # noqa: E402
from stepstream.messaging import doorbell  # noqa: E402
from stepstream.messaging.envelope import Envelope  # noqa: E402
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber  # noqa: E402
from stepstream.messaging.requests import StartExecution  # noqa: E402
from stepstream.messaging.topics import Topics  # noqa: E402
from stepstream.store.factory import open_store  # noqa: E402
from stepstream.worker import CommandContext, Worker, WorkerSettings  # noqa: E402

# The reference's fetch wait: aiokafka's default of 500 ms would make every hop of a
# relay on the embedded broker (whose fetch does not wake on data) wait half a second.
FETCH_WAIT_MS = 5
DOORBELL = os.environ.get("BENCH_DOORBELL", "1") == "1"
WARMUP = 20
LIGHT_ORDERS = 100  # placed one at a time after the loaded run, for the latency alone
IDLE_SECONDS = 2.0
# Consumers back their fetch wait off after a second without records; idle is measured
# once they have, as a stack at rest would be.
IDLE_SETTLE_SECONDS = 2.5


def cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU seconds of a process so far (this one when pid is None)."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by named processes between `begin` and `end`."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.spent: dict[str, float] = {}
        self._start: dict[str, float] = {}

    def begin(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def end(self) -> None:
        self.spent = {name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()}


class Driver:
    """Keeps `concurrency` orders in flight and times each from sending to finishing."""

    def __init__(self, concurrency: int, timeout: float = 120.0) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.started: dict[Any, float] = {}
        self.latencies: list[float] = []
        self.idle = asyncio.Event()
        self.timeout = timeout

    def finished(self, key: Any) -> None:
        begun = self.started.pop(key, None)
        if begun is None:
            return  # a duplicate delivery
        self.latencies.append(time.perf_counter() - begun)
        self.slots.release()
        if not self.started:
            self.idle.set()

    async def run(self, keys: list[Any], send: Any) -> float:
        """Send every key, wait for all to finish; returns the elapsed seconds."""
        self.latencies.clear()
        begin = time.perf_counter()
        for key in keys:
            await self.slots.acquire()
            self.idle.clear()
            self.started[key] = time.perf_counter()
            await send(key)
        try:
            await asyncio.wait_for(self.idle.wait(), self.timeout)
        except TimeoutError:
            raise SystemExit(
                f"{len(self.started)} orders never finished: {sorted(self.started)[:10]}"
            ) from None
        return time.perf_counter() - begin


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_order: dict[str, float]
    # CPU each process burns with nothing to do (consumers polling the broker), in cores.
    idle_cores: dict[str, float]
    # Median latency of orders placed one at a time (nothing else in flight).
    light_p50_ms: float = 0.0

    def busy_ms_per_order(self) -> float:
        """CPU per order above what the processes burn idle over the same time."""
        idle_ms = 1000 * sum(self.idle_cores.values()) / self.rate
        return sum(self.cpu_ms_per_order.values()) - idle_ms


async def idle_cores(
    pids: dict[str, int | None], seconds: float = IDLE_SECONDS
) -> dict[str, float]:
    """CPU per second of each process while no order is in flight."""
    await asyncio.sleep(IDLE_SETTLE_SECONDS)
    meter = CpuMeter(pids)
    meter.begin()
    await asyncio.sleep(seconds)
    meter.end()
    return {name: spent / seconds for name, spent in meter.spent.items()}


def summary(
    latencies: list[float], elapsed: float, cpu: CpuMeter, idle: dict[str, float]
) -> Result:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    per_order = {name: 1000 * spent / len(ordered) for name, spent in cpu.spent.items()}
    rate = len(ordered) / elapsed
    return Result(rate, statistics.median(ordered) * 1000, p99 * 1000, per_order, idle)


async def run_stepstream(
    bootstrap: str, broker_pid: int | None, orders: int, concurrency: int, fetch_wait_ms: int
) -> Result:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    topics = Topics(prefix)
    folder = Path(tempfile.mkdtemp(prefix="stepstream-bench-"))
    # As `stepstream up` runs its processes: ringing each other beside the broker.
    kafka = KafkaSettings(
        bootstrap_servers=bootstrap,
        fetch_max_wait_ms=fetch_wait_ms,
        doorbell_dir=folder / doorbell.FOLDER if DOORBELL else None,
    )
    store_url = f"sqlite:///{folder / 'bench.db'}"
    store = await open_store(store_url)
    bindings = {"functions": {step: step for step in STEPS}}
    await store.put_state_machine("Saga", json.dumps(saga_definition()), json.dumps(bindings))
    await ensure_topics(
        bootstrap, [TopicSpec(t) for t in (*topics.fixed(), *map(topics.commands, STEPS))]
    )
    workers = []
    for step in STEPS:
        worker = Worker(
            name=step, settings=WorkerSettings(kafka=kafka, topic_prefix=prefix, concurrency=64)
        )

        async def handle(command: CommandContext, step: str = step) -> Any:
            return {"done": step}

        worker.handler(step)(handle)
        await worker.start()
        workers.append(worker)
    # The orchestrator runs as its own process, as it is deployed.
    orchestrator = subprocess.Popen(
        [sys.executable, "-m", "services.orchestrator"],
        env={
            **os.environ,
            "STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "STEPSTREAM_KAFKA_FETCH_MAX_WAIT_MS": str(fetch_wait_ms),
            "STEPSTREAM_STORE_URL": store_url,
            "STEPSTREAM_TOPIC_PREFIX": prefix,
            **(
                {"STEPSTREAM_KAFKA_DOORBELL_DIR": str(kafka.doorbell_dir)}
                if kafka.doorbell_dir
                else {}
            ),
        },
        # Kept beside the store, for when a run goes wrong.
        stdout=(folder / "orchestrator.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    history = KafkaSubscriber(settings=kafka, topics=[topics.history()], group_id=f"{prefix}.bench")
    await history.start()
    publisher = KafkaPublisher(settings=kafka)
    await publisher.start()
    driver = Driver(concurrency)

    async def watch() -> None:
        async for record in history:
            # The driver is the measuring instrument: it parses only the messages that can
            # end an order, so its own CPU takes as little as it can from the system.
            if b"ExecutionSucceeded" not in record.value:
                continue
            envelope = Envelope.model_validate_json(record.value)
            if any(e["type"] == "ExecutionSucceeded" for e in envelope.payload["events"]):
                driver.finished(envelope.execution_id)

    async def place(i: int) -> None:
        arn = f"arn:aws:states:local:000000000000:execution:Saga:o{i}"
        request = StartExecution(state_machine="Saga", name=f"o{i}", input={"order": i})
        envelope = Envelope(kind=request.KIND, execution_id=arn, payload=request.model_dump())
        driver.started[arn] = driver.started.pop(i)
        await publisher.publish(topics.requests(), arn, envelope)

    watcher = asyncio.create_task(watch())
    try:
        await driver.run(list(range(WARMUP)), place)  # every group joins, every path runs once
        pids = {"broker": broker_pid, "orchestrator": orchestrator.pid, "workers and driver": None}
        idle = await idle_cores(pids)
        await driver.run(list(range(WARMUP, 2 * WARMUP)), place)  # awake again
        cpu = CpuMeter(pids)
        cpu.begin()
        elapsed = await driver.run(list(range(2 * WARMUP, 2 * WARMUP + orders)), place)
        cpu.end()
        loaded = summary(driver.latencies, elapsed, cpu, idle)
        driver = Driver(1)
        first = 2 * WARMUP + orders
        await driver.run(list(range(first, first + LIGHT_ORDERS)), place)
        loaded.light_p50_ms = 1000 * statistics.median(driver.latencies)
    finally:
        watcher.cancel()
        orchestrator.terminate()
        orchestrator.wait()
        for worker in workers:
            await worker.stop()
        await history.stop()
        await publisher.stop()
        await store.close()
    return loaded


async def run_ceiling(
    bootstrap: str, broker_pid: int | None, orders: int, concurrency: int
) -> Result:
    prefix = f"bare{uuid.uuid4().hex[:6]}"
    commands = [f"{prefix}.{step}" for step in STEPS]
    replies = f"{prefix}.replies"
    await ensure_topics(bootstrap, [TopicSpec(t) for t in (*commands, replies)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    driver = Driver(concurrency)

    def consumer(topic: str, group: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            fetch_max_wait_ms=FETCH_WAIT_MS,
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            session_timeout_ms=6000,
        )

    async def bare_worker(topic: str) -> None:
        source = consumer(topic, f"{topic}.g")
        await source.start()
        try:
            async for message in source:
                await producer.send(replies, message.value, key=message.key)
        finally:
            await source.stop()

    async def relay() -> None:
        source = consumer(replies, f"{prefix}.relay")
        await source.start()
        try:
            async for message in source:
                order = json.loads(message.value)
                order["step"] += 1
                if order["step"] == len(STEPS):
                    driver.finished(order["id"])
                else:
                    await producer.send(
                        commands[order["step"]], json.dumps(order).encode(), key=message.key
                    )
        finally:
            await source.stop()

    async def place(i: int) -> None:
        await producer.send(
            commands[0], json.dumps({"id": i, "step": 0}).encode(), key=str(i).encode()
        )

    tasks = [asyncio.create_task(bare_worker(t)) for t in commands] + [asyncio.create_task(relay())]
    try:
        await driver.run(list(range(WARMUP)), place)
        pids = {"broker": broker_pid, "relay and workers": None}
        idle = await idle_cores(pids)
        await driver.run(list(range(WARMUP, 2 * WARMUP)), place)  # awake again
        cpu = CpuMeter(pids)
        cpu.begin()
        elapsed = await driver.run(list(range(2 * WARMUP, 2 * WARMUP + orders)), place)
        cpu.end()
        loaded = summary(driver.latencies, elapsed, cpu, idle)
        driver = Driver(1)
        first = 2 * WARMUP + orders
        await driver.run(list(range(first, first + LIGHT_ORDERS)), place)
        loaded.light_p50_ms = 1000 * statistics.median(driver.latencies)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
    return loaded


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100, help="orders in flight at once")
    parser.add_argument(
        "--fetch-wait",
        type=int,
        default=KafkaSettings().fetch_max_wait_ms,
        help="stepstream's fetch wait in ms (default: its own default)",
    )
    args = parser.parse_args()
    tune_for_service()  # as every stepstream process does; the bare relay gains from it too
    broker = EmbeddedBroker()
    await broker.start()
    try:
        where = (broker.bootstrap_servers, broker.pid)
        ceiling = await run_ceiling(*where, args.orders, args.concurrency)
        ours = await run_stepstream(*where, args.orders, args.concurrency, args.fetch_wait)
    finally:
        await broker.stop()
    print(
        f"{args.orders} orders of {len(STEPS)} tasks, {args.concurrency} in flight, "
        f"fetch wait: ceiling {FETCH_WAIT_MS} ms, stepstream {args.fetch_wait} ms"
    )
    print(f"{'':30} {'orders/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'CPU ms/order':>13}")
    runs = (("bare aiokafka relay (ceiling)", ceiling), ("stepstream saga", ours))
    for label, result in runs:
        cpu = sum(result.cpu_ms_per_order.values())
        print(
            f"{label:30} {result.rate:10.1f} {result.p50_ms:9.1f} {result.p99_ms:9.1f} {cpu:13.2f}"
        )
    print(f"stepstream / ceiling throughput: {ours.rate / ceiling.rate:.2f}")
    print(
        f"one order at a time, p50 ms: ceiling {ceiling.light_p50_ms:.1f}, "
        f"stepstream {ours.light_p50_ms:.1f} ({LIGHT_ORDERS} orders each)"
    )
    print("CPU ms per order, by process:")
    for label, result in runs:
        parts = ", ".join(f"{name} {ms:.2f}" for name, ms in result.cpu_ms_per_order.items())
        print(f"  {label}: {parts}")
    # The broker's share stays near the same cores whatever the rate: most of its work is
    # answering consumers that poll every few milliseconds, not handling the records.
    print("CPU while loaded (cores), by process:")
    for label, result in runs:
        parts = ", ".join(
            f"{name} {ms * result.rate / 1000:.2f}" for name, ms in result.cpu_ms_per_order.items()
        )
        print(f"  {label}: {parts}")
    print("CPU burnt idle (cores), by process, and CPU ms per order above it:")
    for label, result in runs:
        parts = ", ".join(f"{name} {cores:.2f}" for name, cores in result.idle_cores.items())
        print(f"  {label}: {parts}; above idle {result.busy_ms_per_order():.2f} ms/order")


if __name__ == "__main__":
    logging_off = __import__("logging")
    logging_off.basicConfig(level=logging_off.WARNING)
    # On the loop every stepstream process runs on; the reference in this process too.
    event_loop.run(main())
