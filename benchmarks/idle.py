"""CPU the embedded stack burns with nothing in flight, and how fast it wakes up.

    python benchmarks/idle.py [--seconds S]

Starts the whole stack as `stepstream up` runs it, twice in one run: first with every
consumer polling the embedded broker at its short wait throughout (the reference: what
the stack burnt before consumers backed off when idle), then with the defaults. Each is
warmed by one order, left alone for S seconds (30 by default) while the CPU of every
process is measured, then given one order whose latency is timed: the price of backing
off is paid by that order, the first after a quiet spell.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fulfilment import stack_pids  # noqa: E402
from pipeline import CpuMeter  # noqa: E402

from apps.cli.stack_commands import stack_options  # noqa: E402
from apps.demo.orders import order_document  # noqa: E402
from apps.stack.up import Stack  # noqa: E402
from stepstream.messaging import doorbell  # noqa: E402
from stepstream.messaging.envelope import Envelope  # noqa: E402
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber  # noqa: E402
from stepstream.messaging.requests import StartExecution  # noqa: E402
from stepstream.messaging.topics import Topics  # noqa: E402

ORDER_TIMEOUT = 60.0


class OneOrder:
    """Places one fulfilment order at a time and waits for its end on the history topic."""

    def __init__(self, stack: Stack, *, rings: bool) -> None:
        self.topics = Topics(stack.options.topic_prefix)
        # The measuring client keeps its short wait, so only the stack's own waits count;
        # it is connected only around an order, so that it burns nothing in the quiet.
        self.kafka = KafkaSettings(
            bootstrap_servers=stack.broker.bootstrap_servers,
            fetch_idle_max_wait_ms=1,
            doorbell_dir=stack.options.data_dir / doorbell.FOLDER if rings else None,
        )
        self.history = KafkaSubscriber(
            settings=self.kafka,
            topics=[self.topics.history()],
            group_id=f"bench.idle.{uuid.uuid4().hex[:8]}",
        )
        self.publisher = KafkaPublisher(settings=self.kafka)
        self.ended: dict[str, asyncio.Future[None]] = {}
        self._watching: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OneOrder:
        await self.history.start()
        await self.publisher.start()
        self._watching = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._watching is not None:
            self._watching.cancel()
        await self.history.stop()
        await self.publisher.stop()

    async def _watch(self) -> None:
        async for record in self.history:
            if b"ExecutionSucceeded" not in record.value:
                continue
            envelope = Envelope.model_validate_json(record.value)
            waiter = self.ended.get(envelope.execution_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def place(self) -> float:
        """Seconds from sending one order to its ExecutionSucceeded."""
        order = order_document("MUG", 1)
        arn = f"arn:aws:states:local:000000000000:execution:Fulfilment:{order['orderId']}"
        self.ended[arn] = asyncio.get_running_loop().create_future()
        request = StartExecution(state_machine="Fulfilment", name=order["orderId"], input=order)
        envelope = Envelope(kind=request.KIND, execution_id=arn, payload=request.model_dump())
        while not self.history.owns_key(self.topics.history(), arn.encode()):
            await asyncio.sleep(0.05)  # joining the group; the clock has not started
        begin = time.perf_counter()
        await self.publisher.publish(self.topics.requests(), arn, envelope)
        await asyncio.wait_for(self.ended[arn], ORDER_TIMEOUT)
        return time.perf_counter() - begin


async def measure(
    label: str, env: dict[str, str], seconds: float
) -> tuple[dict[str, float], float]:
    folder = Path(tempfile.mkdtemp(prefix="stepstream-bench-idle-"))
    options = stack_options(folder, log_to_files=True)
    options.env.update(env)
    async with Stack(options) as stack:
        rings = env.get("STEPSTREAM_KAFKA_DOORBELL_DIR") != ""
        async with OneOrder(stack, rings=rings) as orders:
            await orders.place()  # every consumer has joined its group and read once
        meter = CpuMeter(stack_pids(stack))
        meter.begin()
        await asyncio.sleep(seconds)
        meter.end()
        async with OneOrder(stack, rings=rings) as orders:
            latency = await orders.place()
    cores = {name: spent / seconds for name, spent in meter.spent.items()}
    print(f"{label}: {sum(cores.values()):.3f} cores idle over {seconds:.0f} s", flush=True)
    return cores, latency


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="quiet spell measured")
    args = parser.parse_args()
    # Never backs off, and no doorbell: every consumer asks the broker every 5 ms.
    fixed = {"STEPSTREAM_KAFKA_FETCH_IDLE_MAX_WAIT_MS": "1", "STEPSTREAM_KAFKA_DOORBELL_DIR": ""}
    reference, reference_latency = await measure("polling at 5 ms", fixed, args.seconds)
    paced, paced_latency = await measure("the default", {}, args.seconds)
    print(f"{'process':20} {'polling at 5 ms':>16} {'the default':>17}   (cores)")
    for name in reference:
        print(f"{name:20} {reference[name]:16.3f} {paced.get(name, 0.0):17.3f}")
    total_ref, total = sum(reference.values()), sum(paced.values())
    print(f"{'total':20} {total_ref:16.3f} {total:17.3f}")
    print(f"idle CPU, the default / polling: {total / total_ref:.3f}")
    print(
        "first order after the quiet spell, ms: "
        f"polling {1000 * reference_latency:.0f}, the default {1000 * paced_latency:.0f}"
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    # asyncio's own loop, as `stepstream up` runs its supervisor: it starts the stack's
    # processes with a umask, which uvloop's subprocess_exec does not take.
    asyncio.run(main())
