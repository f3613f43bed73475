"""Decisions per second of the orchestrator itself: engine, store and outbox, no broker.

    python benchmarks/orchestrator.py [--orders N] [--store sqlite|memory]

Drives the 4-task saga of benchmarks/pipeline.py through `Orchestrator.handle_envelope`
in one process: every order is started, then each command found in the outbox is
answered at once, batch after batch, until every order has succeeded. What it measures
is the CPU the orchestrator spends per order outside the broker, the part of the
pipeline's cost that this process alone decides. The reference in the same run is the
engine alone (the local runner) doing the same orders, so the ratio says how much the
store, the outbox and the envelopes add to the engine's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "shared"))

from saga import STEPS, saga_definition  # noqa: E402  (beside this script)

from services.orchestrator.orchestrator import Orchestrator  # noqa: E402
from stepstream.asl.local import LocalRunner  # noqa: E402
from stepstream.asl.machine import load_machine  # noqa: E402
from stepstream.heap import tune_for_service  # noqa: E402
from stepstream.messaging.contracts import (  # noqa: E402
    HISTORY_KIND,
    TaskCommand,
    TaskSucceededReply,
    reply_envelope,
)
from stepstream.messaging.envelope import Envelope, decode  # noqa: E402
from stepstream.messaging.requests import StartExecution  # noqa: E402
from stepstream.messaging.topics import Topics  # noqa: E402
from stepstream.store.base import ExecutionStore  # noqa: E402
from stepstream.store.factory import open_store  # noqa: E402

TOPICS = Topics("bench")
PAGE = 250  # messages handled at once, about what a fetch brings the orchestrator under load


async def orchestrated(store: ExecutionStore, orders: int, prefix: str) -> float:
    """CPU seconds to run `orders` orders through the orchestrator over `store`.

    Messages are handled a page at a time, concurrently, as the intake hands over the
    records of a fetch: the store then commits their appends together.
    """
    orchestrator = Orchestrator(store=store, topics=TOPICS)
    begin = time.process_time()
    starts = [
        StartExecution(state_machine="Saga", name=f"{prefix}{i}", input={"order": i})
        for i in range(orders)
    ]
    for page in range(0, orders, PAGE):
        await asyncio.gather(
            *(
                orchestrator.handle_envelope(
                    Envelope(kind=request.KIND, execution_id="-", payload=request.model_dump())
                )
                for request in starts[page : page + PAGE]
            )
        )
    succeeded = 0
    while succeeded < orders:
        pending = await store.pending_outbox(PAGE)
        if not pending:
            raise SystemExit(f"stuck: {succeeded} of {orders} orders succeeded")
        await store.mark_published([p.id for p in pending])
        replies = []
        for item in pending:
            envelope = decode(item.message.value)
            if envelope.kind == HISTORY_KIND:
                events = envelope.payload["events"]
                succeeded += sum(e["type"] == "ExecutionSucceeded" for e in events)
            elif envelope.kind == TaskCommand.KIND:
                command = TaskCommand.model_validate(envelope.payload)
                reply = reply_envelope(
                    TaskSucceededReply(output={"done": command.command}), to=envelope
                )
                replies.append(orchestrator.handle_envelope(decode(reply.to_bytes())))
        await asyncio.gather(*replies)
    return time.process_time() - begin


def engine_alone(orders: int) -> float:
    """CPU seconds for the local runner to run the same orders, with trivial functions."""
    machine = load_machine(saga_definition())
    functions = {step: (lambda event, context, step=step: {"done": step}) for step in STEPS}
    begin = time.process_time()
    for i in range(orders):
        runner = LocalRunner(machine, functions=functions)
        result = runner.run({"order": i})
        assert result.status == "SUCCEEDED", result.status
    return time.process_time() - begin


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--store", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sqlite-options", default="", help="e.g. ?synchronous=FULL")
    args = parser.parse_args()
    tune_for_service()  # as the orchestrator process does (the engine alone gains too)
    folder = Path(tempfile.mkdtemp(prefix="stepstream-bench-"))
    url = "memory://"
    if args.store == "sqlite":
        url = f"sqlite:///{folder / 'bench.db'}{args.sqlite_options}"
    store = await open_store(url)
    await store.put_state_machine(
        "Saga", json.dumps(saga_definition()), json.dumps({"functions": {s: s for s in STEPS}})
    )
    ours, engine = [], []
    try:
        for round_ in range(args.rounds):
            ours.append(await orchestrated(store, args.orders, f"r{round_}-"))
            engine.append(engine_alone(args.orders))
    finally:
        await store.close()
    ours_ms = 1000 * statistics.median(ours) / args.orders
    engine_ms = 1000 * statistics.median(engine) / args.orders
    print(f"{args.orders} orders of {len(STEPS)} tasks, {url.split(':')[0]} store")
    print(f"median CPU time of {args.rounds} rounds")
    print(f"{'':34} {'CPU ms/order':>13} {'orders/CPU-s':>13}")
    print(f"{'engine alone (local runner)':34} {engine_ms:13.3f} {1000 / engine_ms:13.0f}")
    print(f"{'orchestrator (engine+store+outbox)':34} {ours_ms:13.3f} {1000 / ours_ms:13.0f}")
    print(f"orchestrator / engine CPU per order: {ours_ms / engine_ms:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
