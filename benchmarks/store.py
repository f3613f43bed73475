"""Throughput of the execution stores: appends/s and reads/s, SQLite and PostgreSQL.

An append is what the orchestrator writes per step: 3 events and 1 outbox message.
A read is the replay of one 50-event history. Run:

    .venv/bin/python benchmarks/store.py [--appends 3000] [--reads 2000] [--tasks 8]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test]

PostgreSQL is measured in a throw-away schema, dropped at the end; it is left out, with
the reason, when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from stepstream.store import (
    ExecutionStore,
    NewEvent,
    OutboxMessage,
    PostgresStore,
    SQLiteStore,
    Timer,
)

STREAMS_PER_TASK = 50
HISTORY_LENGTH = 50


def step_events(n: int) -> list[NewEvent]:
    order = {"orderId": f"order-{n}", "items": [{"sku": "SKU-1", "qty": 2}], "total": 4200}
    return [
        NewEvent("TaskStateEntered", {"name": "BookShipment", "input": order}),
        NewEvent("TaskScheduled", {"resource": "book-shipment", "commandId": f"c-{n}"}),
        NewEvent("TaskStarted", {"resource": "book-shipment"}),
    ]


def command(n: int) -> OutboxMessage:
    value = b'{"v":1,"commandId":"c-%d","payload":{"orderId":"order-%d","carrier":"acme"}}' % (n, n)
    return OutboxMessage("stepstream.commands.book-shipment", value, b"exec-%d" % n)


async def append_worker(
    store: ExecutionStore, prefix: str, count: int, *, full: bool = False
) -> None:
    """Round-robin over this worker's own streams, so appenders never conflict.

    ``full`` adds what a reply's append also carries: a timer re-armed (cleared and set
    again).
    """
    versions = [0] * STREAMS_PER_TASK
    for n in range(count):
        slot = n % STREAMS_PER_TASK
        stream = f"{prefix}-{slot}"
        extra: dict[str, Any] = {}
        if full:
            due = datetime.now(UTC) + timedelta(seconds=30)
            extra = {
                "timers_cleared": [f"{stream}-timeout"],
                "timers_set": [Timer(f"{stream}-timeout", stream, due, {"n": n})],
            }
        versions[slot] = await store.append(
            stream, versions[slot], step_events(n), outbox=[command(n)], **extra
        )


async def read_worker(store: ExecutionStore, stream: str, count: int) -> None:
    for _ in range(count):
        assert len(await store.read(stream)) == HISTORY_LENGTH


async def rate(total: int, tasks: int, work: Callable[[int, int], Awaitable[None]]) -> float:
    """Operations per second of ``tasks`` concurrent workers sharing ``total`` operations."""
    share = total // tasks
    started = time.perf_counter()
    await asyncio.gather(*(work(task, share) for task in range(tasks)))
    return share * tasks / (time.perf_counter() - started)


async def measure(store: ExecutionStore, appends: int, reads: int, tasks: int) -> dict[str, float]:
    history = "bench-history"
    for n in range(0, HISTORY_LENGTH, 3):
        await store.append(history, n, step_events(n)[: HISTORY_LENGTH - n])
    # Warm caches and prepared statements before timing anything.
    await append_worker(store, "warm-up", 300)
    await read_worker(store, history, 100)

    def appending(run: str, full: bool = False) -> Callable[[int, int], Awaitable[None]]:
        return lambda task, count: append_worker(store, f"{run}-{task}", count, full=full)

    def reading(task: int, count: int) -> Awaitable[None]:
        return read_worker(store, history, count)

    return {
        "appends/s, 1 task": await rate(appends, 1, appending("one")),
        f"appends/s, {tasks} tasks": await rate(appends, tasks, appending("many")),
        f"+timer, {tasks} tasks": await rate(appends, tasks, appending("full", True)),
        "reads/s, 1 task": await rate(reads, 1, reading),
        f"reads/s, {tasks} tasks": await rate(reads, tasks, reading),
    }


async def bench_sqlite(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        async with SQLiteStore(Path(folder) / "bench.db") as store:
            return await measure(store, args.appends, args.reads, args.tasks)


async def bench_postgres(args: argparse.Namespace) -> dict[str, float] | str:
    try:
        conn = await asyncpg.connect(args.postgres_url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"skipped: {args.postgres_url} unreachable ({exc})"
    schema = f"stepstream_bench_{os.getpid()}"
    try:
        store = PostgresStore(args.postgres_url, schema=schema, max_connections=args.tasks)
        async with store:
            return await measure(store, args.appends, args.reads, args.tasks)
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"append = 3 events + 1 outbox message; read = one {HISTORY_LENGTH}-event history")
    print("+timer = the same append also re-arming a timer")
    for name, bench in (("SQLite", bench_sqlite), ("PostgreSQL", bench_postgres)):
        result = await bench(args)
        if isinstance(result, str):
            print(f"{name:<11} {result}")
            continue
        for metric, value in result.items():
            print(f"{name:<11} {metric:<26} {value:>10,.0f}")


if __name__ == "__main__":
    asyncio.run(main())
