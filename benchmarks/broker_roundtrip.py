"""The embedded broker's speed as stepstream uses it, at several consumer fetch waits.

    .venv/bin/python benchmarks/broker_roundtrip.py [--messages 20000] [--round-trips 300]
        [--waits 1,5,100]

For each fetch_max_wait_ms it measures, on a fresh set of topics:
  batched/s    envelopes published (acks=all) with publish_batch, 1,000 per batch;
  one-by-one/s envelopes published with publish(), 1,000 awaiting at a time;
  consumed/s   all of them read back by one consumer-group member;
  round trip   one task command sent to a worker built with the worker kit, answered
               with a trivial output, until its reply is received (p50 and p99), one
               command at a time.

The embedded broker's fetch long-poll does not wake on new data, so every hop of a
round trip (command to worker, reply to caller) waits up to fetch_max_wait_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.bus import Outgoing
from stepstream.messaging.contracts import TaskCommand, command_envelope
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.kafka import KafkaBus, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.worker import CommandContext, Worker, WorkerSettings

SERVICE = "echo"
IN_FLIGHT = 1000


@dataclass
class Result:
    wait_ms: int
    batched_per_s: float
    one_by_one_per_s: float
    consumed_per_s: float
    p50_ms: float
    p99_ms: float


async def measure(bootstrap: str, wait_ms: int, messages: int, round_trips: int) -> Result:
    settings = KafkaSettings(
        bootstrap_servers=bootstrap,
        client_id="broker-roundtrip",
        fetch_max_wait_ms=wait_ms,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    topics = Topics(f"bench-{uuid.uuid4().hex[:8]}")
    flood = topics.named("flood")
    names = [flood, topics.commands(SERVICE), topics.replies(), topics.dead_letter()]
    await ensure_topics(bootstrap, [TopicSpec(name, partitions=3) for name in names])
    bus = KafkaBus(settings=settings)
    batched = await produce_batched(bus, flood, messages)
    one_by_one = await produce(bus, flood, messages)
    consumed = await consume(bus, flood, 2 * messages)
    latencies = await round_trip(bus, settings, topics, round_trips)
    return Result(
        wait_ms,
        batched,
        one_by_one,
        consumed,
        statistics.median(latencies),
        statistics.quantiles(latencies, n=100)[98],
    )


def envelope(n: int) -> Envelope:
    return Envelope(kind="bench", execution_id=f"exec-{n % 512}", payload={"n": n})


async def produce_batched(bus: KafkaBus, topic: str, messages: int) -> float:
    publisher = bus.publisher()
    await publisher.start()
    try:
        started = time.perf_counter()
        for first in range(0, messages, IN_FLIGHT):
            batch = [envelope(n) for n in range(first, min(first + IN_FLIGHT, messages))]
            await publisher.publish_batch(
                [Outgoing(topic, e.execution_id.encode(), e.to_bytes()) for e in batch]
            )
        return messages / (time.perf_counter() - started)
    finally:
        await publisher.stop()


async def produce(bus: KafkaBus, topic: str, messages: int) -> float:
    publisher = bus.publisher()
    await publisher.start()
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def send(n: int) -> None:
        async with slots:
            message = envelope(n)
            await publisher.publish(topic, message.execution_id, message)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(send(n) for n in range(messages)))
        return messages / (time.perf_counter() - started)
    finally:
        await publisher.stop()


async def consume(bus: KafkaBus, topic: str, messages: int) -> float:
    subscriber = bus.subscriber([topic], group_id=f"{topic}.reader")
    await subscriber.start()
    try:
        count = 0
        started = time.perf_counter()
        async for _ in subscriber:
            count += 1
            if count == messages:
                break
        return messages / (time.perf_counter() - started)
    finally:
        await subscriber.stop()


async def round_trip(
    bus: KafkaBus, settings: KafkaSettings, topics: Topics, count: int
) -> list[float]:
    worker = Worker(
        name=SERVICE, settings=WorkerSettings(kafka=settings, topic_prefix=topics.prefix)
    )

    @worker.handler(SERVICE)
    async def echo(cmd: CommandContext) -> object:
        return cmd.input

    waiting: dict[str, asyncio.Future[Envelope]] = {}
    publisher = bus.publisher()
    replies = bus.subscriber([topics.replies()], group_id=f"{topics.prefix}.caller")
    await asyncio.gather(worker.start(), publisher.start(), replies.start())

    async def read_replies() -> None:
        async for record in replies:
            reply = decode(record.value)
            future = waiting.pop(reply.command_id or "", None)
            if future is not None:
                future.set_result(reply)

    reader = asyncio.create_task(read_replies())

    async def once(n: int) -> float:
        command = TaskCommand(resource="bench", command=SERVICE, input={"n": n})
        envelope = command_envelope(command, execution_id=f"exec-{n}", command_id=f"c-{n}")
        waiting[f"c-{n}"] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await publisher.publish(topics.commands(SERVICE), envelope.execution_id, envelope)
        await asyncio.wait_for(waiting[f"c-{n}"], timeout=30)
        return (time.perf_counter() - started) * 1000

    try:
        for n in range(5):  # warm-up: connections, assignments, first fetches
            await once(-1 - n)
        return [await once(n) for n in range(count)]
    finally:
        reader.cancel()
        await asyncio.gather(worker.stop(), publisher.stop(), replies.stop())


def table(results: list[Result]) -> str:
    lines = [
        "fetch_max_wait_ms  batched/s  one-by-one/s  consumed/s  round trip p50 ms  p99 ms",
        "-----------------  ---------  ------------  ----------  -----------------  ------",
    ]
    for r in results:
        lines.append(
            f"{r.wait_ms:>17}  {r.batched_per_s:>9,.0f}  {r.one_by_one_per_s:>12,.0f}"
            f"  {r.consumed_per_s:>10,.0f}  {r.p50_ms:>17.1f}  {r.p99_ms:>6.1f}"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--round-trips", type=int, default=300)
    parser.add_argument(
        "--waits", default="1,5,100", help="fetch_max_wait_ms values, comma-separated"
    )
    args = parser.parse_args()
    waits = [int(w) for w in args.waits.split(",")]

    async with EmbeddedBroker() as broker:
        results = []
        for wait_ms in waits:
            # A wait of 100 ms makes each round trip cost about 0.2 s; fewer keep it short.
            trips = args.round_trips if wait_ms < 50 else max(20, args.round_trips // 6)
            results.append(await measure(broker.bootstrap_servers, wait_ms, args.messages, trips))
    print(table(results))


if __name__ == "__main__":
    asyncio.run(main())
