"""The embedded broker dies or is wiped with orders in flight: nothing lost, nothing kept.

Tasks have a five-minute time-out and every wait here is far shorter, so no execution may
recover by timing out: what the broker lost must be sent again.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
from typing import Any

from stepstream.api.errors import ApiError
from stepstream.broker import EmbeddedBroker
from stepstream.messaging.kafka import KafkaSettings
from tests.integration.harness import Ledger, System, eventually, running_system
from tests.integration.test_orchestration import BINDINGS, PIPELINE, calculator

ORDERS = 40
SLOW = copy.deepcopy(PIPELINE)
for _state in SLOW["States"].values():
    _state["TimeoutSeconds"] = 300


def settings_for(broker: EmbeddedBroker) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        broker_check_seconds=0.5,
    )


async def scheduled(system: System, arn: str) -> bool:
    types = [e["type"] for e in await system.history(arn)]
    return "LambdaFunctionScheduled" in types


async def test_a_stack_started_again_on_an_empty_broker_resends_commands_in_flight(
    store_url: str, prefix: str
) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    try:
        kafka = settings_for(broker)
        async with running_system(kafka, store_url, prefix) as system:
            await system.register("Calc", SLOW, BINDINGS)
            arn = await system.start("Calc", "in-flight", {"n": 4})
            await eventually(lambda: scheduled(system, arn))
        # Stopped with its command in the broker; the broker comes back with nothing.
        await broker.stop()
        await broker.start()
        async with running_system(kafka, store_url, prefix) as system:
            ledger = Ledger()
            await calculator(system, ledger)
            described = await system.finished(arn, timeout=40)
            assert described["status"] == "SUCCEEDED"
            assert json.loads(described["output"])["added"] == {"sum": 12}
    finally:
        await broker.stop()


async def test_a_broker_killed_mid_run_loses_no_acknowledged_order(
    store_url: str, prefix: str
) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    try:
        kafka = settings_for(broker)
        async with running_system(kafka, store_url, prefix) as system:
            await system.register("Calc", SLOW, BINDINGS)
            ledger = Ledger()
            await calculator(system, ledger)
            returned = 0

            async def place(n: int) -> str | ApiError:
                nonlocal returned
                try:
                    started = await system.client.start_execution(
                        "Calc", json.dumps({"n": n}), f"o{n}"
                    )
                except ApiError as exc:
                    return exc
                finally:
                    returned += 1
                return str(started["executionArn"])

            async def kill_in_the_middle() -> None:
                await eventually(lambda: _at_least(lambda: returned, ORDERS // 2), timeout=30)
                assert broker.pid is not None
                os.kill(broker.pid, signal.SIGKILL)
                await broker.stop()
                await broker.start()  # empty, on the same port, as the stack's supervisor does

            killer = asyncio.create_task(kill_in_the_middle())
            outcomes = await asyncio.gather(*(place(n) for n in range(ORDERS)))
            await killer
            arns = [o for o in outcomes if isinstance(o, str)]
            errors = [o for o in outcomes if isinstance(o, ApiError)]
            assert all(e.code == "ServiceUnavailable" for e in errors), errors
            assert len(arns) + len(errors) == ORDERS
            for arn in arns:
                described = await system.finished(arn, timeout=45)
                assert described["status"] == "SUCCEEDED", described
                types = [e["type"] for e in await system.history(arn)]
                assert types.count("ExecutionStarted") == 1
                assert types.count("ExecutionSucceeded") == 1
                assert "LambdaFunctionTimedOut" not in types
            # Each state's work was done (once: Ledger.once keeps the first effect per
            # idempotency key, however often its command came).
            done = {f"{arn}##{state}" for arn in arns for state in ("Double", "Add")}
            assert done <= set(ledger.effects)
    finally:
        await broker.stop()


async def _at_least(count: Any, wanted: int) -> bool:
    return bool(count() >= wanted)
