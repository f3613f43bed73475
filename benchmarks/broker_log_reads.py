"""How far one fetch reaches on the embedded broker as its logs grow.

    .venv/bin/python benchmarks/broker_log_reads.py [--lengths 100,1000,3000,10000]

The embedded broker reads the partitions a fetch asks for one by one, each read taking
time that grows with the number of batches in the partition's log, and answers with the
partitions it reached when the fetch's wait ran out. For each log length (single-record
batches, as the stack writes them) this fills 8 partitions, then asks, with waits of 1,
5 and 20 ms:

- every partition for its last 10 records: how many partitions the answer brought, and
  how long the broker held the fetch;
- one partition for its last record, the others at their ends: how long that took.

The reference is the same fetch over logs of the first (shortest) length, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]  # noqa: E402
from aiokafka.client import AIOKafkaClient  # type: ignore[import-untyped]  # noqa: E402
from aiokafka.protocol.fetch import FetchRequest  # type: ignore[import-untyped]  # noqa: E402

from stepstream.broker import EmbeddedBroker  # noqa: E402
from stepstream.broker.admin import TopicSpec, ensure_topics  # noqa: E402

TOPIC = "reads"
PARTITIONS = 8
WAITS_MS = (1, 5, 20)
TRIES = 20


async def fill(producer: Any, partitions_to: int, already: int) -> None:
    """Append single-record batches until every partition holds ``partitions_to``."""
    slots = asyncio.Semaphore(64)

    async def one(partition: int) -> None:
        async with slots:
            await producer.send_and_wait(TOPIC, b"x" * 400, partition=partition)

    count = (partitions_to - already) * PARTITIONS
    await asyncio.gather(*(one(i % PARTITIONS) for i in range(count)))


async def fetch(client: Any, node: int, wait_ms: int, offsets: dict[int, int]) -> tuple[float, int]:
    """One fetch: milliseconds held, partitions that came back with records."""
    request = FetchRequest(
        wait_ms, 1, 50 * 1024 * 1024, 0, [(TOPIC, [(p, at, 1 << 20) for p, at in offsets.items()])]
    )
    started = time.perf_counter()
    response = await client.send(node, request)
    held = (time.perf_counter() - started) * 1000
    served = sum(1 for _, parts in response.topics for part in parts if part[-1])
    return held, served


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="100,1000,3000,10000")
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    broker = EmbeddedBroker()
    await broker.start()
    try:
        bootstrap = broker.bootstrap_servers
        await ensure_topics(bootstrap, [TopicSpec(TOPIC, partitions=PARTITIONS)])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
        await producer.start()
        client = AIOKafkaClient(bootstrap_servers=bootstrap)
        await client.bootstrap()
        node = next(iter(client.cluster.brokers())).nodeId
        print(f"{PARTITIONS} partitions; fetches of every partition's last 10 records, and of")
        print("one partition's last record; medians of", TRIES, "fetches each")
        print(f"{'records/partition':>17} {'wait':>5} {'served':>7} {'held ms':>8} {'one ms':>7}")
        reference: dict[int, float] = {}
        filled = 0
        for length in lengths:
            await fill(producer, length, filled)
            filled = length
            for wait in WAITS_MS:
                every = [
                    await fetch(client, node, wait, dict.fromkeys(range(PARTITIONS), length - 10))
                    for _ in range(TRIES)
                ]
                one = [
                    await fetch(
                        client,
                        node,
                        wait,
                        {
                            p: length - 1 if p == i % PARTITIONS else length
                            for p in range(PARTITIONS)
                        },
                    )
                    for i in range(TRIES)
                ]
                served = statistics.mean(s for _, s in every)
                held = statistics.median(h for h, _ in every)
                one_held = statistics.median(h for h, _ in one)
                reference.setdefault(wait, held)
                print(
                    f"{length:>17} {wait:>4}ms {served:>5.1f}/{PARTITIONS} {held:>8.1f} "
                    f"{one_held:>7.1f}   held x{held / reference[wait]:.1f} of {lengths[0]}"
                )
        await producer.stop()
        await client.close()
    finally:
        await broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
