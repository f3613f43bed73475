"""What each request costs the embedded broker in CPU: held fetches and produces.

    .venv/bin/python benchmarks/broker_requests.py [--seconds 4] [--consumers 5]

Why the stack's broker uses about half a core whenever orders flow, whatever their rate:

- idle fetches: ``--consumers`` consumer-group members with nothing to read, each holding
  its fetch at the broker for the wait (1, 5, 20 and 100 ms), on topics of 1 and 4
  partitions; the broker's CPU per fetch and per second;
- whether a fetch allowed no wait at all (0 ms) ever reads a record;
- produce requests: one producer sending one message per request (acks=all, as the
  stack does), then ten per request.

The reference in the same run is the client's own CPU for the same requests (aiokafka,
in this process). Requests are counted where this process sends them.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]  # noqa: E402
from aiokafka.conn import AIOKafkaConnection  # type: ignore[import-untyped]  # noqa: E402
from pipeline import cpu_seconds  # noqa: E402  (beside this script)

from stepstream.broker import EmbeddedBroker  # noqa: E402
from stepstream.broker.admin import TopicSpec, ensure_topics  # noqa: E402

SENT: collections.Counter[str] = collections.Counter()


def count_requests() -> None:
    """Count every request this process sends, by its kind (FetchRequest, ...)."""
    send = AIOKafkaConnection.send

    def counted(self: Any, request: Any, expect_response: bool = True) -> Any:
        SENT[type(request).__name__] += 1
        return send(self, request, expect_response)

    AIOKafkaConnection.send = counted


async def measure(
    broker_pid: int | None, kind: str, seconds: float, work: Callable[[], Awaitable[None]]
) -> tuple[float, float, float]:
    """Requests per second and the broker's and this process's CPU per request."""
    before = SENT[kind]
    broker, client, begin = cpu_seconds(broker_pid), cpu_seconds(None), time.perf_counter()
    await work() if seconds == 0 else await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - begin
    requests = SENT[kind] - before
    broker_us = 1e6 * (cpu_seconds(broker_pid) - broker) / max(requests, 1)
    client_us = 1e6 * (cpu_seconds(None) - client) / max(requests, 1)
    return requests / elapsed, broker_us, client_us


async def idle_fetches(
    bootstrap: str, broker_pid: int | None, wait_ms: int, partitions: int, args: Any
) -> None:
    names = [f"idle-{uuid.uuid4().hex[:8]}" for _ in range(args.consumers)]
    await ensure_topics(bootstrap, [TopicSpec(n, partitions=partitions) for n in names])
    consumers = [
        AIOKafkaConsumer(n, bootstrap_servers=bootstrap, group_id=n, fetch_max_wait_ms=wait_ms)
        for n in names
    ]
    for consumer in consumers:
        await consumer.start()

    async def drain(consumer: AIOKafkaConsumer) -> None:
        while True:
            await consumer.getmany(timeout_ms=1000)

    draining = [asyncio.create_task(drain(c)) for c in consumers]
    try:
        await asyncio.sleep(1.0)  # joined, fetching
        rate, broker_us, client_us = await measure(
            broker_pid, "FetchRequest", args.seconds, lambda: asyncio.sleep(0)
        )
        print(
            f"  wait {wait_ms:3d} ms, {partitions} partition(s): {rate:6.0f} fetches/s, "
            f"broker {broker_us:4.0f} us/fetch ({rate * broker_us / 1e6:.2f} cores), "
            f"client {client_us:4.0f} us/fetch"
        )
    finally:
        for task in draining:
            task.cancel()
        await asyncio.gather(*draining, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()


async def zero_wait_reads(bootstrap: str) -> None:
    """Whether a fetch that may not wait at all ever returns a record from this broker."""
    topic = f"zero-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    await producer.send_and_wait(topic, b"here")
    await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, fetch_max_wait_ms=0, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await asyncio.wait_for(consumer.getone(), 3.0)
        print("  wait   0 ms: the record was read")
    except TimeoutError:
        print("  wait   0 ms: no record read in 3 s (this broker answers empty at once)")
    finally:
        await consumer.stop()


async def produces(bootstrap: str, broker_pid: int | None, per_request: int) -> None:
    topic = f"produce-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(topic)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    value = b"x" * 600  # about a command envelope

    async def send_all() -> None:
        for i in range(2000 // per_request):
            acks = [
                await producer.send(topic, value, key=f"{i}.{j}".encode())
                for j in range(per_request)
            ]
            await asyncio.gather(*acks)

    try:
        rate, broker_us, client_us = await measure(broker_pid, "ProduceRequest", 0, send_all)
        print(
            f"  {per_request:2d} message(s) per request: {rate:6.0f} requests/s, "
            f"broker {broker_us:4.0f} us/request ({broker_us / per_request:4.0f} per message), "
            f"client {client_us:4.0f} us/request"
        )
    finally:
        await producer.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--consumers", type=int, default=5)
    args = parser.parse_args()
    count_requests()
    broker = EmbeddedBroker()
    await broker.start()
    try:
        print(f"idle consumers holding their fetch at the broker ({args.consumers} of them):")
        for partitions in (1, 4):
            for wait_ms in (1, 5, 20, 100):
                await idle_fetches(broker.bootstrap_servers, broker.pid, wait_ms, partitions, args)
        await zero_wait_reads(broker.bootstrap_servers)
        print("produce requests (acks=all), 2,000 messages:")
        for per_request in (1, 10):
            await produces(broker.bootstrap_servers, broker.pid, per_request)
    finally:
        await broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
